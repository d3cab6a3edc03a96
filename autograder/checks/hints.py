"""Teaching hints: recognise a common mistake from an error and name it.

:data:`HINTS` is a list of (pattern, hint). A pattern is searched in the text
"ExcType: message"; the first pattern that matches gives the hint, so specific
patterns come before generic ones. A hint is a string, or a function of the
match that returns the string (or None: no hint from this entry, keep looking).
A hint is written for students of an introductory course (TensorFlow 1 style
code run on TensorFlow 2 through tf.compat.v1, and Keras 3): what probably went
wrong and what to do instead, in one or two sentences.

:data:`TF1_TO_TF2` maps a TensorFlow 1 name missing from TensorFlow 2 (``tf.NAME``,
or ``tf.MODULE.NAME``) to its TensorFlow 2 spelling, for "module 'tensorflow' has
no attribute 'NAME'". A module entry (``train``) also spells its members
(``tf.train.GradientDescentOptimizer`` -> ``tf.compat.v1.train.GradientDescentOptimizer``).
"""

from __future__ import annotations

import re
from typing import Callable, Union

TF1_TO_TF2: dict[str, str] = {
    "Session": "tf.compat.v1.Session (e.g. tf.compat.v1.Session(graph=g))",
    "InteractiveSession": "tf.compat.v1.InteractiveSession",
    "placeholder": "tf.compat.v1.placeholder (graph mode only: create it inside `with graph.as_default():`)",
    "random_uniform": "tf.random.uniform",
    "random_normal": "tf.random.normal",
    "truncated_normal": "tf.random.truncated_normal",
    "random_shuffle": "tf.random.shuffle",
    "global_variables_initializer": "tf.compat.v1.global_variables_initializer",
    "initialize_all_variables": "tf.compat.v1.global_variables_initializer",
    "get_variable": "tf.compat.v1.get_variable",
    "variable_scope": "tf.compat.v1.variable_scope",
    "trainable_variables": "tf.compat.v1.trainable_variables",
    "train": "tf.compat.v1.train",  # tf.train exists in TF 2: only its TF 1 members are spelled
    "log": "tf.math.log",
    "to_double": "tf.cast(x, tf.float64)",
    "to_float": "tf.cast(x, tf.float32)",
    "to_int32": "tf.cast(x, tf.int32)",
    "to_int64": "tf.cast(x, tf.int64)",
    "sub": "tf.subtract",
    "mul": "tf.multiply",
    "neg": "tf.negative",
    "inv": "tf.math.reciprocal",
    "div": "tf.math.divide",
    "squared_difference": "tf.math.squared_difference",
    "count_nonzero": "tf.math.count_nonzero",
    "arg_max": "tf.argmax",
    "set_random_seed": "tf.random.set_seed (for a tf.Graph, call it inside `with graph.as_default():`)",
    "reset_default_graph": "tf.compat.v1.reset_default_graph",
    "get_default_graph": "tf.compat.v1.get_default_graph",
    "ConfigProto": "tf.compat.v1.ConfigProto",
    "Print": "tf.print",
}

_UNINITIALISED = ("a variable was read before it was initialised: create "
                  "tf.compat.v1.global_variables_initializer() after every variable, including the optimizer's "
                  "(its slot variables, e.g. momentum's, made by minimize), then run it in the session")


def _tf1_name(match: re.Match) -> str | None:
    module, name = match["module"].lstrip("."), match["name"]
    if module.startswith("compat"):
        return None  # already under tf.compat: a misspelling, not a TF 1 name
    full = f"{module}.{name}" if module else name
    if full in TF1_TO_TF2:
        return f"TensorFlow 2 spells tf.{full} as {TF1_TO_TF2[full]}"
    if module in TF1_TO_TF2:
        return f"TensorFlow 2 spells tf.{full} as {TF1_TO_TF2[module]}.{name}"
    return (f"TensorFlow 2 has no tf.{full}: check the spelling, and if it is a TensorFlow 1 name, "
            f"look for it under tf.compat.v1 (tf.compat.v1.{full})")


Hint = Union[str, Callable[[re.Match], Union[str, None]]]

HINTS: list[tuple[re.Pattern, Hint]] = [(re.compile(p, re.IGNORECASE), h) for p, h in [
    (r"module 'tensorflow(?:\._api\.v\d+)?(?P<module>(?:\.\w+)*)' has no attribute '(?P<name>\w+)'",
     _tf1_name),
    (r"is not an element of this graph|Session graph is empty|must be from the same graph",
     "graph/session mix-up: the tensor lives in one graph and the session runs another; "
     "open the session with tf.compat.v1.Session(graph=the_tensors_graph)"),
    (r"Argument `?target`? must be a string, but got \"?Graph",
     "the graph was passed as the session's first argument, which is its target: "
     "write tf.compat.v1.Session(graph=g)"),
    (r"You must feed a value for placeholder",
     "a placeholder was not fed: pass its value in feed_dict={placeholder: value}"),
    (r"Cannot feed value of shape",
     "the value fed for a placeholder does not have the placeholder's shape: reshape it, e.g. "
     "np.reshape(x, (-1, 1)) for a placeholder of shape (None, 1), or declare the placeholder "
     "with the shape of your data"),
    (r"The value of a feed cannot be a tf\.Tensor",
     "feed_dict takes values, not tensors: feed numpy arrays or Python lists (e.g. np.array(...)) "
     "instead of tf.constant(...)"),
    (r"Random ops require a seed to be set when determinism is enabled",
     "op determinism is on (the grader turns it on), so every random op needs a seed: pass seed=... to it "
     "(e.g. tf.random.uniform(shape, seed=1)), or call tf.compat.v1.set_random_seed(1) inside "
     "`with graph.as_default():`, since a seed set outside the graph does not reach it"),
    (r"uninitiali[sz]ed value|FailedPreconditionError|Could not find variable|Invalid variable reference"
     r"|InternalError: Graph execution error:\s+Detected at node '[^']*/update_",
     _UNINITIALISED),
    (r"Matrix size-incompatible|Dimensions must be equal.*\bMatMul\b",
     "the shapes do not fit a matrix product: a @ b (tf.matmul) needs a of shape [n, k] and b of "
     "shape [k, m]; print a.shape and b.shape, then reshape or transpose (tf.transpose) the one that "
     "does not fit"),
    (r"Incompatible shapes|Dimensions must be equal|shapes? .* (and|vs\.?) .* (are )?incompatible",
     "a shape mismatch: print the shapes of your tensors (t.shape) and check every matmul and reshape"),
    (r"cannot compute \w+ as input #\d+.*was expected to be a (float|double|int)"
     r"|Op has type \w+ that does not match type \w+ of argument",
     "a dtype mismatch: TensorFlow does not mix float32 and float64 (or ints) in one op; convert with "
     "tf.cast(x, tf.float32), or build numpy inputs as float32 (np.array(..., dtype=np.float32)), "
     "since np.array of floats is float64 by default"),
    (r"placeholder\(\) is not compatible with eager execution|tf\.placeholder",
     "placeholders exist only in graph mode: create them inside `with graph.as_default():` "
     "with tf.compat.v1.placeholder"),
    (r"Cannot convert a symbolic (tf\.)?Tensor",
     "numpy was called on a tensor of a graph, which has no value yet: inside graph code use TensorFlow "
     "ops (tf.reduce_sum, tf.math.log, ...), or run the tensor in a session first and use numpy on the result"),
    (r"Tensor' object has no attribute 'numpy'",
     "a tensor of a tf.Graph has no value until a session runs it: use sess.run(t) "
     "instead of t.numpy()"),
    (r"Argument\(s\) not recognized: \{.*'lr':",
     "Keras 3 optimizers call the learning rate learning_rate: write e.g. "
     "keras.optimizers.SGD(learning_rate=0.1) instead of lr=0.1"),
    (r"Could not interpret optimizer identifier",
     "model.compile needs a Keras optimizer: pass e.g. optimizer=keras.optimizers.SGD(learning_rate=0.1) "
     "(an instance, with the parentheses) or a name like \"sgd\" or \"adam\"; TensorFlow 1 optimizers "
     "(tf.compat.v1.train....) only work with a session"),
]]


def hint_for(exc_type: str, message: str) -> str | None:
    text = f"{exc_type}: {message}"
    for pattern, hint in HINTS:
        match = pattern.search(text)
        if match:
            found = hint if isinstance(hint, str) else hint(match)
            if found:
                return found
    return None
