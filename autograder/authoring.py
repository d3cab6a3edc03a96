"""Everything a check file uses, in one import: ``from autograder.authoring import Check, Close``.

Check files (``checks.py``, ``hidden_checks.py``, ``mistakes.py``) are loaded both in the
sandbox and by the grader, and bundled into the student notebook's check cells, so this
module imports only what those places have: no TensorFlow at import time. The guide is
``docs/authoring.md``.
"""

from autograder.checks.artefacts import (ArtefactError, describe_graph, describe_model, evaluate_graph, predict,
                                          same_weights, structure, trained_models)
from autograder.checks.probe_tools import WrongAnswerType, as_dtype_name, as_int, as_shape, unpack
from autograder.checks.rules import Close, Equal, Property, Rule, SameShape, number
from autograder.checks.spec import Check, Limits, Mistake, sibling

__all__ = [
    "ArtefactError", "Check", "Close", "Equal", "Limits", "Mistake", "Property", "Rule", "SameShape",
    "WrongAnswerType", "as_dtype_name", "as_int", "as_shape", "describe_graph", "describe_model",
    "evaluate_graph", "number", "predict", "same_weights", "sibling", "structure", "trained_models", "unpack",
]
