import gc
import json
import os
import subprocess
import sys

import pytest

from autograder.checks.hints import TF1_TO_TF2, hint_for
from autograder.checks.judge import judge_check
from autograder.checks.spec import Check


def test_graph_session_mixup_is_named():
    msg = "Tensor Tensor(\"add:0\", shape=(), dtype=float32) is not an element of this graph."
    assert "graph/session mix-up" in hint_for("ValueError", msg)
    assert hint_for("ValueError", "something else entirely") is None


def test_hint_is_added_to_public_messages_only():
    """A hint is picked by the exception's message: for a hidden input, the student's code chose it."""
    obs = {"status": "error", "kind": "student", "exc_type": "RuntimeError",
           "message": "The Session graph is empty. secret-input-42"}
    public = judge_check(Check("evaluate", "x", probe=lambda s: {}), obs, {})
    assert "graph/session mix-up" in public.message and "secret-input-42" in public.message
    hidden = judge_check(Check("evaluate", "x", probe=lambda s: {}, hidden=True), obs, {})
    assert hidden.message == "`evaluate` raised an exception for a hidden input"
    assert not hidden.passed and hidden.outcome == "error"


def test_a_failing_answer_matching_a_known_mistake_gets_its_message():
    import numpy as np

    from autograder.checks.judge import judge_all
    from autograder.checks.plaindata import encode
    from autograder.checks.rules import Close

    check = Check("eager_linear", "x", probe=lambda s: {}, rules=[Close("value", scalar=True)])
    obs = lambda v: {"status": "ok", "values": {"value": encode(v)}}  # noqa: E731
    refs = {"checks": {check.id: obs(7.5)},
            "mistakes": {"missing_bias": {"exercise": "eager_linear", "message": "the bias is missing",
                                          "checks": {check.id: obs(6.0)}}}}
    [wrong] = judge_all([check], {check.id: obs(np.float32(6.0))}, refs)
    assert not wrong.passed and wrong.message.startswith("`eager_linear`: Likely mistake: the bias is missing. ")
    [other] = judge_all([check], {check.id: obs(5.0)}, refs)
    assert not other.passed and "Likely mistake" not in other.message
    [right] = judge_all([check], {check.id: obs(7.5)}, refs)
    assert right.passed


# Hints proven against the real errors of TensorFlow 2.21 / Keras 3: each test below makes a
# student's mistake, catches what TensorFlow raises and checks the hint the judge would add
# (the judge passes at most 300 characters of the message, so the hint must be found in those).
# They import TensorFlow (seconds) and are marked slow: the fast subset runs without it.

def raised(fn, *args, **kwargs) -> BaseException:
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - whatever TensorFlow raises is what the test inspects
        return exc
    raise AssertionError(f"{fn} raised nothing")


def hint_of(exc: BaseException) -> str:
    hint = hint_for(type(exc).__name__, str(exc))
    assert hint is not None, f"{type(exc).__name__}: {exc}"
    assert hint_for(type(exc).__name__, str(exc)[:300]) == hint  # what the judge passes
    return hint


DETERMINISM_SCRIPT = r"""
import json
import tensorflow as tf

tf.config.experimental.enable_op_determinism()  # as the grader's worker
tf.random.set_seed(0)                          # as reset_global_state, before each probe

def attempt(build):
    graph = tf.Graph()
    try:
        with graph.as_default():
            t = build()
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(t)
        return "ok"
    except Exception as exc:
        return [type(exc).__name__, str(exc)]

def v1_seed_inside():
    tf.compat.v1.set_random_seed(1)
    return tf.random.uniform([2])

found = {
    "unseeded": attempt(lambda: tf.random.uniform([2])),
    "op_seed": attempt(lambda: tf.random.uniform([2], seed=1)),
    "v1_seed_inside": attempt(v1_seed_inside),
}
tf.random.set_seed(1)  # eagerly, before the graph is built
found["tf2_seed_outside"] = attempt(lambda: tf.random.uniform([2]))
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def determinism_process():
    """DETERMINISM_SCRIPT in a process of its own: enable_op_determinism() has no public way back.

    Started before this process imports TensorFlow (see ``tf``), so the two imports overlap."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen([sys.executable, "-c", DETERMINISM_SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


@pytest.fixture(scope="module")
def tf(determinism_process):
    return pytest.importorskip("tensorflow")


@pytest.mark.slow
def test_graph_dtype_mix(tf):
    import numpy as np

    with tf.Graph().as_default():
        exc = raised(lambda: tf.constant(1.0, tf.float32) * tf.constant(np.array(2.0)))
    assert "Op has type float64 that does not match type float32" in str(exc)
    hint = hint_of(exc)
    assert "dtype mismatch" in hint and "tf.cast" in hint and "float64 by default" in hint
    eager = raised(lambda: tf.constant(1.0) * tf.constant(np.array(2.0)))  # the eager spelling
    assert hint_of(eager) == hint


@pytest.mark.slow
def test_random_op_without_seed_under_determinism(tf, determinism_process):
    stdout, stderr = determinism_process.communicate(timeout=300)
    assert determinism_process.returncode == 0, stderr[-2000:]
    found = json.loads(stdout.strip().splitlines()[-1])
    exc_type, message = found["unseeded"]
    assert exc_type == "RuntimeError" and "Random ops require a seed" in message
    hint = hint_for(exc_type, message)
    assert "seed=" in hint and "tf.compat.v1.set_random_seed(1)" in hint and "graph.as_default()" in hint
    # What the hint promises: an op seed, or a graph seed set inside the graph, works;
    # tf.random.set_seed called outside the graph (eagerly) does not reach it.
    assert found["op_seed"] == "ok" and found["v1_seed_inside"] == "ok"
    assert found["tf2_seed_outside"] != "ok" and "Random ops require a seed" in found["tf2_seed_outside"][1]


@pytest.mark.slow
def test_numpy_on_a_graph_tensor(tf):
    with tf.Graph().as_default():
        exc = raised(lambda: tf.constant(1.0).numpy())
    assert str(exc) == "'SymbolicTensor' object has no attribute 'numpy'"
    hint = hint_of(exc)
    assert "no value until a session runs it" in hint and "sess.run(t)" in hint


@pytest.mark.slow
def test_graph_passed_as_the_session_target(tf, monkeypatch):
    # The half-built Session's __del__ raises too (a TensorFlow quirk): keep that out of the report.
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: None)
    exc = raised(tf.compat.v1.Session, tf.Graph())
    assert type(exc) is TypeError and "Argument `target` must be a string" in str(exc)
    hint = hint_of(exc)
    del exc
    gc.collect()
    assert "tf.compat.v1.Session(graph=g)" in hint


@pytest.mark.slow
def test_eager_matmul_shapes(tf):
    exc = raised(tf.matmul, tf.ones([2, 3]), tf.ones([2, 1]))
    assert "Matrix size-incompatible: In[0]: [2,3], In[1]: [2,1]" in str(exc)
    hint = hint_of(exc)
    assert "[n, k]" in hint and "[k, m]" in hint and ".shape" in hint
    with tf.Graph().as_default():  # graph mode says it differently
        assert hint_of(raised(tf.matmul, tf.ones([2, 3]), tf.ones([2, 1]))) == hint
    other = hint_of(raised(lambda: tf.ones([2, 3]) + tf.ones([2, 2])))  # not a matmul: the generic hint
    assert other.startswith("a shape mismatch")


def _placeholder_graph(tf):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, (None, 1))
        y = x * 2.0
        c = tf.constant([[1.0]])
    return graph, x, y, c


@pytest.mark.slow
def test_fed_value_of_the_wrong_shape(tf):
    import numpy as np

    graph, x, y, _ = _placeholder_graph(tf)
    with tf.compat.v1.Session(graph=graph) as sess:
        exc = raised(sess.run, y, feed_dict={x: np.arange(3.0)})
    assert "Cannot feed value of shape (3,) for Tensor Placeholder:0, which has shape (None, 1)" in str(exc)
    hint = hint_of(exc)
    assert "np.reshape(x, (-1, 1))" in hint and "declare the placeholder" in hint


@pytest.mark.slow
def test_a_tensor_fed_in_feed_dict(tf):
    graph, x, y, c = _placeholder_graph(tf)
    with tf.compat.v1.Session(graph=graph) as sess:
        exc = raised(sess.run, y, feed_dict={x: c})
    assert "The value of a feed cannot be a tf.Tensor object" in str(exc)
    hint = hint_of(exc)
    assert "numpy arrays or Python lists" in hint and "not tensors" in hint


@pytest.mark.slow
def test_keras_optimizer_lr_argument():
    keras = pytest.importorskip("keras")
    exc = raised(keras.optimizers.SGD, lr=0.1)
    assert str(exc) == "Argument(s) not recognized: {'lr': 0.1}"
    assert "learning_rate=" in hint_of(exc)


@pytest.mark.slow
def test_keras_compile_with_a_tf1_optimizer_or_unknown_name(tf):
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    for optimizer in (tf.compat.v1.train.GradientDescentOptimizer(0.1), "gradient_descent", keras.optimizers.SGD):
        exc = raised(model.compile, optimizer=optimizer, loss="mse")
        assert "Could not interpret optimizer identifier" in str(exc)
        hint = hint_of(exc)
        assert "keras.optimizers.SGD(learning_rate=" in hint and '"sgd"' in hint


@pytest.mark.slow
def test_uninitialised_variables_including_the_optimizers(tf):
    def run(optimizer, init_first):
        graph = tf.Graph()
        with graph.as_default():
            w = tf.compat.v1.Variable(1.0)
            loss = w * w
            init = tf.compat.v1.global_variables_initializer() if init_first else None
            train = optimizer().minimize(loss)
        with tf.compat.v1.Session(graph=graph) as sess:
            if init is not None:
                sess.run(init)
            sess.run(train)

    gd = lambda: tf.compat.v1.train.GradientDescentOptimizer(0.1)  # noqa: E731
    momentum = lambda: tf.compat.v1.train.MomentumOptimizer(0.1, 0.9)  # noqa: E731
    never = raised(run, gd, init_first=False)  # no initializer run at all: FailedPreconditionError
    slots = raised(run, momentum, init_first=True)  # created before the optimizer's slots: InternalError
    assert type(never).__name__ == "FailedPreconditionError" and type(slots).__name__ == "InternalError"
    for exc in (never, slots):
        hint = hint_of(exc)
        assert "after every variable, including the optimizer's" in hint and "slot variables" in hint


@pytest.mark.slow
def test_tf1_names_are_spelled_in_tensorflow_2(tf):
    def hint(name):
        return hint_of(raised(getattr, tf, name))

    assert str(raised(getattr, tf, "Session")) == "module 'tensorflow' has no attribute 'Session'"
    assert hint("Session").startswith("TensorFlow 2 spells tf.Session as tf.compat.v1.Session")
    assert hint("random_uniform") == "TensorFlow 2 spells tf.random_uniform as tf.random.uniform"
    assert hint("to_float") == "TensorFlow 2 spells tf.to_float as tf.cast(x, tf.float32)"
    assert hint("global_variables_initializer") == (
        "TensorFlow 2 spells tf.global_variables_initializer as tf.compat.v1.global_variables_initializer")
    # A member of a module that moved, and a name the table does not know.
    assert hint_of(raised(getattr, tf.train, "GradientDescentOptimizer")) == (
        "TensorFlow 2 spells tf.train.GradientDescentOptimizer as tf.compat.v1.train.GradientDescentOptimizer")
    assert "tf.compat.v1.no_such_name" in hint("no_such_name")
    # Already under tf.compat.v1: a misspelling, no TF 1 advice.
    assert hint_for("AttributeError", str(raised(getattr, tf.compat.v1, "Sessoin"))) is None


@pytest.mark.slow
def test_tf1_to_tf2_table_is_right_for_tensorflow_2(tf):
    """Each name is really gone (but modules, whose members are), each new spelling really exists."""
    for old, new in TF1_TO_TF2.items():
        assert old == "train" or not hasattr(tf, old), old
        spelled = new.split("(")[0].split(" ")[0]
        target = tf
        for part in spelled.split(".")[1:]:
            target = getattr(target, part)


def test_other_messages_get_no_hint():
    for exc_type, message in [("ZeroDivisionError", "division by zero"), ("KeyError", "'w'"),
                              ("IndexError", "list index out of range"),
                              ("AttributeError", "'list' object has no attribute 'shape'"),
                              ("ValueError", "Argument(s) not recognized: {'momentun': 0.9}"),
                              ("TypeError", "unsupported operand type(s) for +: 'int' and 'str'")]:
        assert hint_for(exc_type, message) is None, message
