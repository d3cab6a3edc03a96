"""Hidden checks' feedback carries no student-controlled text or numbers.

The student's function receives a hidden check's inputs, so anything the judge
echoes from its recording (exception types and messages, returned strings,
shapes, lengths, class names, exit statuses, counts, errors against the
reference) could carry them out. Each test below builds a hostile recording
by hand with a sentinel in one channel, and asserts that a hidden check's
message has no sentinel while a public check's message, for the very same
recording, still shows it (the rich public feedback is unchanged, and the
test could fail). Fast: no sandbox, no TensorFlow.
"""

import dataclasses

import numpy as np
import pytest

from autograder.course import find_assignment
from autograder.judge import judge_all, judge_check, safe_exception_name
from autograder.plaindata import encode
from autograder.rules import HIDDEN_PROPERTY, Close, Equal, Property, SameShape, takes_hidden
from autograder.spec import Check

SENTINELS = ("LEAK", "987001")


def check(rules=(), hidden=True, exercise="f"):
    return Check(exercise, "c", probe=lambda s: {}, rules=list(rules), hidden=hidden)


def ok(**values):
    return {"status": "ok", "values": {k: encode(v) for k, v in values.items()}}


def both(rules, obs, reference, extra=()):
    """(hidden message, public message) for one recording; asserts no sentinel in the hidden one."""
    hidden = judge_check(check(rules, hidden=True), obs, reference)
    public = judge_check(check(rules, hidden=False), obs, reference)
    assert not hidden.passed and not public.passed
    assert hidden.outcome == public.outcome
    for needle in SENTINELS + tuple(extra):
        assert needle not in hidden.message, (needle, hidden.message)
    return hidden.message, public.message


# ------------------------------------------------------------------ failures (judge._failure)


def test_student_exception_type_message_and_line():
    obs = {"status": "error", "kind": "student", "exc_type": "LEAK_987001_1p5",
           "message": "LEAK inputs=[987001]", "where": ["line 3: raise LEAK_987001_1p5()"]}
    hidden, public = both([], obs, {})
    assert hidden == "`f` raised an exception for a hidden input"
    assert public == "`f` raised LEAK_987001_1p5: LEAK inputs=[987001] (at line 3: raise LEAK_987001_1p5())"


@pytest.mark.parametrize("name", ["ValueError", "ZeroDivisionError", "SystemExit", "KeyboardInterrupt",
                                  "MemoryError", "InvalidArgumentError", "FailedPreconditionError",
                                  "ResourceExhaustedError", "NotFoundError", "UnimplementedError",
                                  "InternalError", "OutOfRangeError"])
def test_builtin_and_tensorflow_exception_names_are_shown(name):
    obs = {"status": "error", "kind": "student", "exc_type": name, "message": "LEAK 987001"}
    hidden, public = both([], obs, {})
    assert hidden.startswith(f"`f` raised {name} for a hidden input")
    assert public.startswith(f"`f` raised {name}: LEAK 987001")


@pytest.mark.parametrize("name", ["LEAKError", "print", "__build_class__", "ValueError987001", "Value Error",
                                  "tf.errors.LEAK", "", "StudentRaised"])
def test_other_exception_names_are_not(name):
    assert safe_exception_name(name) is None
    obs = {"status": "error", "kind": "student", "exc_type": name, "message": "m"}
    assert judge_check(check(), obs, {}).message == "`f` raised an exception for a hidden input"


def test_exception_in_the_probe():
    obs = {"status": "error", "kind": "probe", "exc_type": "LEAK_987001", "message": "LEAK 987001",
           "where": ["line 1: x"]}
    hidden, public = both([], obs, {})
    assert hidden == "using the value `f` returned for a hidden input raised an exception"
    assert public == "using the value `f` returned raised LEAK_987001: LEAK 987001"
    obs["exc_type"] = "TypeError"
    assert judge_check(check(), obs, {}).message == "using the value `f` returned for a hidden input raised TypeError"


def test_hints_are_still_added_to_hidden_messages():
    obs = {"status": "error", "kind": "student", "exc_type": "LEAK_987001",
           "message": "You must feed a value for placeholder tensor 'LEAK_987001'"}
    hidden, public = both([], obs, {})
    assert hidden.startswith("`f` raised an exception for a hidden input. Likely cause: a placeholder was not fed")
    assert "LEAK_987001" in public and "Likely cause" in public


def test_wrong_answer_type_from_a_probe():
    obs = {"status": "error", "kind": "answer_type", "exc_type": "WrongAnswerType",
           "message": "f should return a tuple of 3 values, got LEAK987001 of length 987001"}
    hidden, public = both([], obs, {})
    assert hidden.startswith("`f`: for a hidden input, the returned value has the wrong type or structure")
    assert public == "`f`: f should return a tuple of 3 values, got LEAK987001 of length 987001"


@pytest.mark.parametrize("detail, shown", [("killed by signal 987001", "(killed by a signal)"),
                                           ("exit status 987001", "(it exited)"),
                                           ("recorded value too large", "(the recorded value was too large)"),
                                           ("LEAK 987001", "")])
def test_crash_exit_status_and_signal(detail, shown):
    hidden, public = both([], {"status": "crashed", "detail": detail}, {})
    start = "calling `f` with a hidden input ended the Python process"
    assert hidden.startswith(start + (f" {shown}" if shown else ";"))
    assert public.startswith(f"calling `f` ended the Python process ({detail}); e.g. sys.exit")


def test_timeout_limit_from_the_recording():
    obs = {"status": "timeout", "limit_s": 987001, "detail": "LEAK"}
    hidden, public = both([], obs, {})
    assert hidden == ("`f` did not finish within the time limit for this check: look for an infinite loop "
                      "or a very long computation")
    assert "(987001 s)" in public


def test_missing_function_message():
    obs = {"status": "error", "kind": "missing", "exc_type": "MissingFunction",
           "message": "`LEAK_987001` is not defined"}
    hidden, public = both([], obs, {})
    assert hidden.startswith("a function this check calls is not defined or is not a function: the assignment "
                             "asks for a function named `f`")
    assert public.startswith("`LEAK_987001` is not defined")
    obs["message"] = "`f` is defined but is not a function"
    assert judge_check(check(), obs, {}).message.startswith("`f` is defined but is not a function: the assignment")


def test_undecodable_recording():
    obs = {"status": "ok", "values": {"v": {"t": "LEAK_987001"}}}
    hidden, public = both([Close("v")], obs, ok(v=1.0))
    assert hidden == "`f`: the recorded answer could not be read (for a hidden input)"
    assert "could not be read" in public and "LEAK_987001" in public


def test_skipped_and_not_implemented_and_missing_observations_are_unchanged():
    skipped = {"status": "skipped", "reason": "LEAK 987001"}
    assert judge_check(check(), skipped, {}).message == judge_check(check(hidden=False), skipped, {}).message
    stub = {"status": "error", "kind": "student", "exc_type": "NotImplementedError", "message": "LEAK"}
    assert judge_check(check(), stub, {}).message.startswith("`f` is not implemented yet")
    assert judge_check(check(), None, {}).outcome == "missing"


# ------------------------------------------------------------------ rules


def test_close_wrong_shape_gives_no_shapes():
    hidden, public = both([Close("v", label="the result")], ok(v=np.zeros(987001, np.int8)),
                          ok(v=np.zeros(4)))
    assert hidden == ("`f`: for a hidden input, the result has a different shape than expected (shapes must "
                      "match exactly; nothing is broadcast)")
    assert "expected shape (4,), got (987001,)" in public


def test_close_non_numbers_give_no_type_names():
    for value in ({"t": "object", "type": "__main__.LEAK987001"},
                  {"t": "toolarge", "type": "LEAK", "shape": [987001]},
                  encode(["LEAK"] * 9870)):
        obs = {"status": "ok", "values": {"v": value}}
        hidden, public = both([Close("v")], obs, ok(v=np.zeros(3)), extra=["9870"])
        assert hidden.startswith("`f`: for a hidden input, `v` is not numeric data")
        assert "LEAK" in public or "9870" in public


def test_close_dtype_names_only_the_expected_one():
    hidden, public = both([Close("v", dtype="float32")], ok(v=np.zeros(3, np.int16)),
                          ok(v=np.zeros(3, np.float32)), extra=["int16"])
    assert hidden == "`f`: for a hidden input, `v` has another dtype than the expected float32"
    assert public == "`f`: `v`: expected dtype float32, got int16"


def test_close_scalar_gives_no_size():
    hidden, public = both([Close("v", scalar=True)], ok(v=np.zeros(987001, np.int8)), ok(v=2.0))
    assert hidden == "`f`: for a hidden input, `v` is not a single number"
    assert "(987001,)" in public


def test_close_nan_counts():
    hidden, public = both([Close("v")], ok(v=np.full(4321, np.nan)), ok(v=np.zeros(4321)), extra=["4321"])
    assert hidden == "`f`: for a hidden input, `v` has NaN where a number is expected"
    assert "NaN at 4321 position(s)" in public
    exp = np.full(4321, np.nan)
    hidden, public = both([Close("v")], ok(v=np.zeros(4321)), ok(v=exp), extra=["4321"])
    assert hidden.startswith("`f`: for a hidden input, `v` has a number where NaN is expected")
    assert "a number at 4321 position(s) where NaN is expected" in public


def test_close_errors_and_values_would_reveal_the_expected_value():
    rule = Close("v", rtol=1e-5, atol=1e-6, why="float32 arithmetic")
    hidden, public = both([rule], ok(v=np.array([98.25, 1.0])), ok(v=np.array([12.5, 1.0])),
                          extra=["98.25", "12.5", "85.8", "6.86", "max abs", "max rel", "1 of 2"])
    assert hidden == ("`f`: for a hidden input, `v` has values outside tolerance (rtol=1e-05, atol=1e-06 "
                      "(float32 arithmetic))")
    assert "1 of 2 value(s) outside tolerance" in public and "max abs error 85.8, max rel error 6.86" in public
    assert "expected [12.5,  1. ] with shape (2,), got [98.25,  1.  ]" in public
    hidden, _ = both([rule], ok(v=np.array([np.inf])), ok(v=np.array([-np.inf])))
    assert hidden == "`f`: for a hidden input, the infinities in `v` do not match the expected ones"


def test_same_shape():
    hidden, public = both([SameShape("W", label="W")], ok(W=np.zeros((987001,), np.int8)), ok(W=np.zeros((2, 1))))
    assert hidden.startswith("`f`: for a hidden input, W has a different shape than expected")
    assert "expected shape (2, 1), got (987001,)" in public
    hidden, public = both([SameShape("W")], {"status": "ok", "values": {"W": {"t": "object", "type": "LEAK"}}},
                          ok(W=np.zeros(2)))
    assert "not numeric data" in hidden and "LEAK" in public


def test_equal_quotes_neither_answer_nor_expected_value():
    hidden, public = both([Equal("dtype", label="the dtypes")], ok(dtype=["LEAK 987001"]),
                          ok(dtype=["int32", "secret"]),
                          extra=["int32", "secret"])
    assert hidden == "`f`: for a hidden input, the value of the dtypes is wrong"
    assert public == "`f`: the dtypes: expected ['int32', 'secret'], got ['LEAK 987001']"


def test_property_without_hidden_parameter_is_not_trusted_with_hidden_checks():
    def quoting(actual, expected):
        return f"you returned {actual['v']}, expected {expected['v']}"

    hidden, public = both([Property(quoting)], ok(v="LEAK 987001"), ok(v=424242), extra=["424242"])
    assert hidden == f"`f`: {HIDDEN_PROPERTY}"
    assert public == "`f`: you returned LEAK 987001, expected 424242"


def test_property_with_hidden_parameter_gets_the_flag():
    seen = []

    def careful(actual, expected, hidden=False):
        seen.append(hidden)
        return "fixed text" if hidden else f"you returned {actual['v']}"

    hidden, public = both([Property(careful)], ok(v="LEAK 987001"), ok(v=1))
    assert hidden == "`f`: fixed text" and public == "`f`: you returned LEAK 987001"
    assert seen == [True, False]
    assert takes_hidden(careful) and not takes_hidden(lambda a, e: None) and not takes_hidden(len)


def test_a_known_mistake_is_still_named_for_hidden_checks():
    c = check([Close("value", scalar=True)])
    refs = {"checks": {c.id: ok(value=7.5)},
            "mistakes": {"m": {"exercise": "f", "message": "the bias is missing", "checks": {c.id: ok(value=6.0)}}}}
    [result] = judge_all([c], {c.id: ok(value=6.0)}, refs)
    assert result.message == ("`f`: for a hidden input, `value` has values outside tolerance (rtol=1e-05, "
                              "atol=1e-06). Likely mistake: the bias is missing")


# ------------------------------------------------------------------ the course's property tests

COURSE = ["01_tf_basics", "02_linear_classifier", "03_deep_network"]


def course_check(check_id):
    for name in COURSE:
        for c in find_assignment(name).checkset(hidden=True).checks:
            if c.id == check_id:
                return c
    raise KeyError(check_id)


@pytest.mark.parametrize("name", COURSE)
def test_every_property_of_a_hidden_check_takes_hidden(name):
    for c in find_assignment(name).checkset(hidden=True).checks:
        for rule in c.rules:
            if isinstance(rule, Property) and c.hidden:
                assert takes_hidden(rule.test), (c.id, rule.test.__name__)


def course_both(check_id, actual, expected, extra=()):
    c = course_check(check_id)
    assert c.hidden
    obs, ref = ok(**actual), ok(**expected)
    hidden = judge_check(c, obs, ref)
    public = judge_check(dataclasses.replace(c, hidden=False), obs, ref)
    assert not hidden.passed and not public.passed
    for needle in SENTINELS + tuple(extra):
        assert needle not in hidden.message, (needle, hidden.message)
    return hidden.message, public.message


def test_variables_properties_quote_no_student_number():
    base = dict(x=-3.5, w=0.5, b=0.0, y=-1.75, w_same_seed=0.5, w_other_seed=0.25)
    hidden, public = course_both("variables_model.other_seed", {**base, "w": 987001.0, "y": -3454503.5}, base)
    assert hidden.startswith("`variables_model`: W is outside [-1, 1]") and "W = 987001" in public
    hidden, public = course_both("variables_model.other_seed", {**base, "b": 987001.0, "y": 987001.0 - 1.75}, base)
    assert hidden.startswith("`variables_model`: b is not zero, but it should start at zero")
    assert "b = 987001" in public


MLP = dict(units=[16, 8, 4, 1], activations=["relu", "relu", "relu", "sigmoid"], other_layers=[],
           loss="binary_crossentropy", compiled=True, output_shape=[10, 1], repeatable=True, seed_matters=True,
           in_unit_interval=True)


@pytest.mark.parametrize("change, hidden_words, public_words", [
    (dict(units=[987001, 1]), "the Dense layers do not have the units hidden_units asks for",
     "Dense layers with [987001, 1] units; hidden_units asks for [16, 8, 4]"),
    (dict(other_layers=["LEAKLayer987001"]), "unexpected layers: build the network from Dense layers only",
     "unexpected layers: LEAKLayer987001"),
    (dict(output_shape=[987001, 1]), "the model's output has a different shape than expected",
     "the model outputs shape [987001, 1]"),
])
def test_mlp_properties_quote_neither_the_networks_nor_the_hidden_units(change, hidden_words, public_words):
    hidden, public = course_both("build_mlp.three_hidden_layers", {**MLP, **change}, MLP,
                                 extra=["16, 8", "[16", "[10"])
    assert hidden.startswith(f"`build_mlp`: {hidden_words}")
    assert public_words in public


def test_training_properties_quote_no_count_or_accuracy():
    base = dict(MLP, units=[32, 1], activations=["relu", "sigmoid"], n_losses=100, first_loss=0.7,
                last_loss=0.2, train_accuracy=0.95)
    hidden, public = course_both("train_mlp.one_wide_layer", {**base, "n_losses": 987001}, base, extra=["100"])
    assert hidden == "`train_mlp`: the number of losses returned is wrong: there must be one per epoch"
    assert "987001 losses returned" in public
    hidden, public = course_both("train_mlp.one_wide_layer", {**base, "train_accuracy": 0.123}, base,
                                 extra=["0.123", "0.95"])
    assert hidden.startswith("`train_mlp`: training accuracy is too low for this network")
    assert "training accuracy 0.123 is too low" in public


@pytest.mark.parametrize("actual, reference, words", [
    (dict(linear=0.987, deep=0.99), dict(linear=0.5, deep=0.95), "the linear model scores more than a straight line"),
    (dict(linear=0.5, deep=0.123), dict(linear=0.5, deep=0.95), "the deep model's test accuracy is too low"),
    (dict(linear=0.55, deep=0.61), dict(linear=0.6, deep=0.62), "the deep model should beat the linear one by at "
                                                                "least 0.15"),
])
def test_comparison_properties_quote_no_accuracy(actual, reference, words):
    numbers = [f"{v:.3f}" for v in (*actual.values(), *reference.values())]
    hidden, public = course_both("linear_vs_deep.other_ring", actual, reference, extra=numbers)
    assert hidden.startswith(f"`linear_vs_deep`: {words}")
    assert any(n in public for n in numbers)


def test_public_feedback_of_the_rules_is_unchanged():
    """The public messages tests/test_rules.py relies on, through judge_check."""
    pub = lambda rules, a, e: judge_check(check(rules, hidden=False), ok(v=a), ok(v=e)).message  # noqa: E731
    msg = pub([Close("v")], np.array([1.0, 2.5]), np.array([1.0, 2.0], np.float32))
    assert "max abs error 0.5" in msg and "max rel error 0.25" in msg
    assert "expected [1., 2.]" in msg and "got [1. , 2.5]" in msg and "shape (2,)" in msg
    assert "expected shape (2,), got (2, 1)" in pub([Close("v")], np.array([[7.5], [13.5]]), np.array([7.5, 13.5]))
    assert "NaN at 1 position" in pub([Close("v")], np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    msg = pub([Close("v", dtype="float32")], np.ones(2), np.ones(2, np.float32))
    assert "expected dtype float32, got float64" in msg
    assert "expected (4,), got (3,)" in pub([Equal("v")], (3,), (4,))


# ------------------------------------------------------------------ rules that raise, and the whole course


def test_a_rule_raising_on_the_answer_fails_the_check_without_quoting_it():
    def strict(actual, expected, hidden=False):
        return None if float(actual["v"]) == expected["v"] else "wrong"

    hidden, public = both([Property(strict)], ok(v="LEAK 987001"), ok(v=1.0))
    assert hidden == ("`f`: for a hidden input, the recorded answer has values of the wrong type or structure "
                      "and could not be judged")
    assert "could not be judged (ValueError: could not convert string to float: 'LEAK 987001')" in public
    assert judge_check(check([Property(strict)]), ok(v="LEAK 987001"), ok(v=1.0)).outcome == "error"


def test_a_rule_raising_on_the_reference_is_a_grader_error():
    with pytest.raises(ValueError, match="not numeric"):
        judge_check(check([Close("v")]), ok(v=1.0), ok(v="a string"))


def hostile_values():
    yield {"t": "object", "type": "__main__.LEAK987001", "info": {"dims": [987001]}}
    yield {"t": "toolarge", "type": "LEAK", "shape": [987001]}
    yield encode(np.zeros(987001, np.int8))
    yield encode(np.full((3, 1), 987001.0))
    yield encode(np.full(3, np.nan))
    yield encode("LEAK 987001")
    yield encode(["LEAK987001", 987001])
    yield encode(987001)
    yield encode({"LEAK": 987001})
    yield encode(None)


@pytest.mark.parametrize("name", COURSE)
def test_no_hidden_check_of_the_course_quotes_a_hostile_value(name):
    """Every hidden check, every recorded value replaced by hostile ones in turn: the check
    fails (or passes) with a message holding no sentinel, and judging never raises. The
    reference of a public check with the same probe stands in for the hidden reference."""
    assignment = find_assignment(name)
    refs = assignment.load_public_reference()["checks"]
    checks = assignment.checkset(hidden=True).checks
    judged = 0
    for c in (c for c in checks if c.hidden):
        sibling = next(p for p in checks if not p.hidden and p.exercise == c.exercise
                       and p.probe_name == c.probe_name)
        reference = refs[sibling.id]
        for key in reference["values"]:
            for value in hostile_values():
                obs = {"status": "ok", "values": {**reference["values"], key: value}}
                result = judge_check(c, obs, reference)
                assert "LEAK" not in result.message and "987001" not in result.message, (c.id, key, result.message)
                judged += 1
    assert judged > 100
