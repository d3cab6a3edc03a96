"""Helpers for probes, used where student code runs: the sandbox, or a student's own kernel.

A probe receives a :class:`Student` whose attributes are the student's
functions, wrapped so that anything they raise (``SystemExit`` and
``KeyboardInterrupt`` included) surfaces as :class:`StudentRaised`, and the
worker can tell the student's errors from a probe's own.
"""

from __future__ import annotations

import re
import traceback
from typing import Any, Callable

_KERNEL_CELL = re.compile(r"ipykernel_\d+[/\\]\d+\.py$")


class StudentRaised(Exception):
    """The student's function raised; carries a safe summary of the exception."""

    def __init__(self, function: str, exc: BaseException):
        self.function = function
        self.exc_type = type(exc).__name__
        self.message = _safe_str(exc)
        frames = traceback.extract_tb(exc.__traceback__)
        self.where = cell_lines(frames)
        # Raised by the student's own code (a stub's `raise NotImplementedError()`), or inside a
        # library their code called (TensorFlow raises NotImplementedError for numpy on a graph).
        self.origin = "cell" if frames and is_cell_file(frames[-1].filename) else "library"
        super().__init__(f"{function} raised {self.exc_type}: {self.message}")


def is_cell_file(filename: str) -> bool:
    """Whether code comes from a notebook cell: the worker's ``<cell N>``, or a Jupyter
    kernel's cell files (ipykernel's ``.../ipykernel_PID/HASH.py``, IPython's ``<ipython-input-...>``)."""
    return filename.startswith(("<cell", "<ipython-input-")) or bool(_KERNEL_CELL.search(filename))


def cell_lines(frames: list) -> list[str]:
    """The last three frames from notebook cells (the student's own code), as "line N: code"."""
    return [f"line {f.lineno}: {(f.line or '').strip()}" for f in frames if is_cell_file(f.filename)][-3:]


class MissingFunction(Exception):
    """The notebook did not define a function the assignment asks for."""

    def __init__(self, name: str, what: str = "is not defined"):
        self.function = name
        super().__init__(f"`{name}` {what}")


class WrongAnswerType(Exception):
    """The answer has a type or structure the probe cannot use; the message says which."""


def _safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        text = "<unprintable message>"
    return text[:500]


class Student:
    """Access to the functions a submission's cells defined."""

    def __init__(self, namespace: dict):
        self._ns = namespace

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        fn = self._ns.get(name)
        if fn is None:
            raise MissingFunction(name)
        if not callable(fn):
            raise MissingFunction(name, "is defined but is not a function")

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - everything the student raises is recorded
                raise StudentRaised(name, exc) from None

        return call


# ---- normalisers: turn a student's (possibly TF) value into a plain one ----


def as_int(value: Any, what: str) -> int:
    import numpy as np

    try:
        arr = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    except Exception:  # noqa: BLE001 - whatever the student returned, the same message
        raise WrongAnswerType(f"{what} should be an int, got {type(value).__name__}") from None
    if arr.shape != () or arr.dtype.kind not in "iu":
        raise WrongAnswerType(f"{what} should be an int, got {type(value).__name__}")
    return int(arr)


def as_shape(value: Any, what: str) -> tuple:
    """A shape as a tuple of ints/None: accepts tuples, lists and TensorShapes."""
    import tensorflow as tf

    if isinstance(value, tf.TensorShape):
        if value.rank is None:
            raise WrongAnswerType(f"{what} has unknown rank")
        return tuple(value.as_list())
    if hasattr(value, "numpy"):
        value = value.numpy()
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (tuple, list)):
        raise WrongAnswerType(f"{what} should be a tuple of dimensions, got {type(value).__name__}")
    dims = []
    for d in value:
        if d is None:
            dims.append(None)
        else:
            dims.append(as_int(d, f"each dimension of {what}"))
    return tuple(dims)


def as_dtype_name(value: Any, what: str) -> str:
    import tensorflow as tf

    if isinstance(value, tf.DType):
        return value.name
    if isinstance(value, str):
        return value
    raise WrongAnswerType(f"{what} should be a dtype name such as 'float32', got {type(value).__name__}")


def unpack(value: Any, n: int, what: str) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise WrongAnswerType(f"{what} should return a tuple of {n} values, got {type(value).__name__}"
                              + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    return tuple(value)
