"""Recording one observation: call a check's probe on the student's functions.

Used in two places with the same code, so a check gives the same observation in both:
the sandbox's worker (after it ran the submission's cells) and a student's own notebook
kernel (the check cells that ``autograder release`` generates, see
:mod:`autograder.notebooks.selfcheck`). An observation is plain data::

    {"status": "ok", "values": {name: encoded value}}
    {"status": "error", "kind": "student"|"missing"|"answer_type"|"probe", "exc_type": ...,
     "message": ..., "where": [...], "function": ..., "origin": "cell"|"library"}

(statuses and kinds written as :class:`~autograder.sandbox.events.StepStatus` and
:class:`~autograder.sandbox.events.Fault` members, which are these strings on the wire).

It decides nothing: the judge compares it with the reference's.
"""

from __future__ import annotations

import random
import traceback
from typing import Any

from autograder.sandbox.events import Fault, StepStatus


def reset_global_state() -> None:
    """Undo global changes a student cell may have made, before each probe."""
    import numpy as np
    import tensorflow as tf

    random.seed(0)
    np.random.seed(0)
    tf.random.set_seed(0)
    tf.keras.backend.set_floatx("float32")
    tf.config.experimental.enable_tensor_float_32_execution(False)
    try:
        tf.compat.v1.reset_default_graph()
    except Exception:  # noqa: BLE001 - inside a student's `with graph.as_default()` that never closed
        pass


def error_summary(exc: BaseException) -> dict:
    from autograder.checks.probe_tools import _safe_str, cell_lines

    return {"exc_type": type(exc).__name__, "message": _safe_str(exc),
            "where": cell_lines(traceback.extract_tb(exc.__traceback__))}


def run_check(check: Any, namespace: dict, reset: bool = True) -> dict:
    """The observation of ``check`` on the functions defined in ``namespace``."""
    from autograder.checks.plaindata import encode
    from autograder.checks.probe_tools import MissingFunction, Student, StudentRaised, WrongAnswerType

    if reset:
        reset_global_state()
    try:
        values = check.probe(Student(namespace), *check.args)
        if not isinstance(values, dict):
            return {"status": StepStatus.ERROR, "kind": Fault.PROBE, "exc_type": "ProbeError",
                    "message": "probe did not return a dict"}
        return {"status": StepStatus.OK, "values": {str(k): encode(v) for k, v in values.items()}}
    except StudentRaised as exc:
        return {"status": StepStatus.ERROR, "kind": Fault.STUDENT, "exc_type": exc.exc_type,
                "message": exc.message, "where": exc.where, "function": exc.function, "origin": exc.origin}
    except MissingFunction as exc:
        return {"status": StepStatus.ERROR, "kind": Fault.MISSING, "exc_type": "MissingFunction",
                "message": str(exc), "function": exc.function}
    except WrongAnswerType as exc:
        return {"status": StepStatus.ERROR, "kind": Fault.ANSWER_TYPE, "exc_type": "WrongAnswerType",
                "message": str(exc)[:500]}
    except BaseException as exc:  # noqa: BLE001 - e.g. a graph/session mix-up surfacing in the probe
        return {"status": StepStatus.ERROR, "kind": Fault.PROBE, **error_summary(exc)}
