"""Teaching hints: recognise a common mistake from an error and name it.

Each hint is (pattern on "ExcType: message", hint). Only the first match is
used, and the hint is written for students: what probably went wrong and
what to do instead.
"""

from __future__ import annotations

import re

HINTS: list[tuple[re.Pattern, str]] = [(re.compile(p, re.IGNORECASE), h) for p, h in [
    (r"is not an element of this graph|Session graph is empty|must be from the same graph",
     "graph/session mix-up: the tensor lives in one graph and the session runs another; "
     "open the session with tf.compat.v1.Session(graph=the_tensors_graph)"),
    (r"You must feed a value for placeholder",
     "a placeholder was not fed: pass its value in feed_dict={placeholder: value}"),
    (r"uninitiali[sz]ed value|FailedPreconditionError",
     "a variable was read before initialisation: run tf.compat.v1.global_variables_initializer() first"),
    (r"Incompatible shapes|Dimensions must be equal|shapes? .* (and|vs\.?) .* (are )?incompatible",
     "a shape mismatch: print the shapes of your tensors (t.shape) and check every matmul and reshape"),
    (r"cannot compute \w+ as input #\d+.*was expected to be a (float|double|int)",
     "a dtype mismatch: TensorFlow does not mix float32 and float64 (or ints) in one op; use tf.cast"),
    (r"placeholder\(\) is not compatible with eager execution|tf.placeholder|has no attribute 'placeholder'",
     "placeholders exist only in graph mode: create them inside `with graph.as_default():` "
     "with tf.compat.v1.placeholder"),
    (r"Cannot convert a symbolic (tf\.)?Tensor",
     "numpy was called on a tensor of a graph, which has no value yet: inside graph code use TensorFlow "
     "ops (tf.reduce_sum, tf.math.log, ...), or run the tensor in a session first and use numpy on the result"),
    (r"has no attribute 'Session'|has no attribute 'global_variables_initializer'",
     "TensorFlow 2 moved the TF1 API to tf.compat.v1 (tf.compat.v1.Session, ...)"),
]]


def hint_for(exc_type: str, message: str) -> str | None:
    text = f"{exc_type}: {message}"
    for pattern, hint in HINTS:
        if pattern.search(text):
            return hint
    return None
