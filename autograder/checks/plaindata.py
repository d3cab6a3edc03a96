"""The plain-data format of values that cross the sandbox boundary.

``encode`` runs inside the sandbox on whatever a student's function returned
and turns it into JSON-able data; arrays travel as base64 ``.npy`` bytes.
``decode`` runs in the grading process on that data, which it treats as
hostile: bounded sizes and depth, ``np.load(allow_pickle=False)``, numeric
dtypes only, no student class ever instantiated. Both sides live here so the
format has one definition.

Encoded forms (``t`` is the tag)::

    {"t": "none"} | {"t": "bool", "v": b} | {"t": "int", "v": i} | {"t": "float", "v": x}
    {"t": "str", "v": s} | {"t": "list"|"tuple", "items": [...]}
    {"t": "dict", "items": [[key, value], ...]}
    {"t": "array", "npy": base64, "source": "ndarray"|"tf.Tensor"|...}
    {"t": "object", "type": "tensorflow...Graph", "info": {...}}
    {"t": "toolarge", "type": ..., "shape": [...]}
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

from autograder.errors import DecodeError  # noqa: F401 - raised here, caught by callers

MAX_ELEMENTS = 2_000_000      # per array (16 MB of float64)
MAX_ITEMS = 10_000            # per list / dict
MAX_DEPTH = 6
MAX_NODES = 100_000           # per recorded value
MAX_STR = 10_000
MAX_ARRAYS = 2_048            # per decoded observation (03's 16 models x 32 layers x 2 weights: 1,024)
NUMERIC_KINDS = "biuf"




# --------------------------------------------------------------------------
# Sandbox side


def _qualname(obj: Any) -> str:
    cls = type(obj)
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', '?')}"


def _encode_ndarray(arr: np.ndarray, source: str) -> dict:
    # Bypass any subclass: view the raw buffer as a base ndarray.
    base = np.ndarray.view(arr, np.ndarray)
    shape = list(base.shape)  # a plain ndarray now: its attributes are numpy's own
    size = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if size > MAX_ELEMENTS:
        return {"t": "toolarge", "type": source, "shape": shape}
    if base.dtype.kind not in NUMERIC_KINDS + "c":
        if base.dtype.kind in "SU" and size <= MAX_ITEMS:
            return {"t": "list", "items": [encode(x) for x in base.astype(str).ravel().tolist()],
                    "shape": shape, "source": source}
        return {"t": "object", "type": f"{source} of dtype {base.dtype}"}
    buf = io.BytesIO()
    np.save(buf, np.array(base, copy=True, order="C"), allow_pickle=False)
    return {"t": "array", "npy": base64.b64encode(buf.getvalue()).decode("ascii"), "source": source}


def encode(value: Any, depth: int = 0, budget: list | None = None) -> dict:
    """Turn a returned value into plain data without trusting its methods."""
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        return {"t": "toolarge", "type": "structure", "shape": None}
    if depth > MAX_DEPTH:
        return {"t": "object", "type": "nested too deeply"}
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": bool.__bool__(value) if type(value) is bool else bool(int.__int__(value))}
    if isinstance(value, int):
        v = int.__int__(value)
        if abs(v) > 2**63:
            return {"t": "object", "type": "int too large"}
        return {"t": "int", "v": v}
    if isinstance(value, float):
        return {"t": "float", "v": float.__float__(value)}
    if isinstance(value, str):
        return {"t": "str", "v": str.__str__(value)[:MAX_STR]}
    if isinstance(value, np.ndarray):
        return _encode_ndarray(value, "ndarray")
    if isinstance(value, np.generic):
        return _encode_ndarray(np.asarray(value), f"numpy.{type(value).__name__}")
    if isinstance(value, (list, tuple)):
        tag = "tuple" if isinstance(value, tuple) else "list"
        items = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
        out = []
        for i, item in enumerate(items):
            if i >= MAX_ITEMS:
                return {"t": "toolarge", "type": tag, "shape": [len(value)]}
            out.append(encode(item, depth + 1, budget))
        return {"t": tag, "items": out}
    if isinstance(value, dict):
        out = []
        for i, (k, v) in enumerate(dict.items(value)):
            if i >= MAX_ITEMS:
                return {"t": "toolarge", "type": "dict", "shape": [len(value)]}
            out.append([encode(k, depth + 1, budget), encode(v, depth + 1, budget)])
        return {"t": "dict", "items": out}
    return _encode_tensorflow(value)


def _encode_tensorflow(value: Any) -> dict:
    """TensorFlow values, looked up lazily so this module never imports TF."""
    import sys

    tf = sys.modules.get("tensorflow")
    name = _qualname(value)
    if tf is not None:
        if isinstance(value, tf.TensorShape):
            dims = None if value.rank is None else [d for d in value.as_list()]
            return {"t": "object", "type": "tf.TensorShape", "info": {"dims": dims}}
        if isinstance(value, (tf.Tensor, tf.Variable)):
            symbolic = isinstance(value, tf.Tensor) and tf.is_symbolic_tensor(value)
            arr = None
            if not symbolic:
                n = value.shape.num_elements()
                if n is not None and n > MAX_ELEMENTS:
                    return {"t": "toolarge", "type": "tf.Tensor", "shape": value.shape.as_list()}
                try:
                    arr = value.numpy()
                except Exception:  # noqa: BLE001 - a graph-mode Variable has no value outside a Session
                    symbolic = True
            if symbolic:
                return {"t": "object", "type": "tf.Tensor (symbolic: it belongs to a graph)",
                        "info": {"dtype": value.dtype.name, "shape": str(value.shape)}}
            if isinstance(arr, bytes):
                return {"t": "str", "v": arr.decode("utf-8", "replace")[:MAX_STR]}
            return _encode_ndarray(np.asarray(arr), "tf.Tensor")
        if isinstance(value, tf.DType):
            return {"t": "object", "type": "tf.DType", "info": {"name": value.name}}
    return {"t": "object", "type": name}


# --------------------------------------------------------------------------
# Grading-process side


class Opaque:
    """A value the sandbox could only describe (a Graph, a symbolic tensor...)."""

    def __init__(self, type_name: str, info: dict | None = None, too_large: bool = False,
                 shape: list | None = None):
        self.type_name = type_name
        self.info = info or {}
        self.too_large = too_large
        self.shape = shape

    def __repr__(self) -> str:
        if self.too_large:
            return f"<{self.type_name} too large to record, shape {self.shape}>"
        return f"<{self.type_name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and (self.type_name, self.info) == (other.type_name, other.info)


def decode_budget() -> list:
    """What one observation may hold when decoded: [elements, arrays]; share it across its values."""
    return [MAX_ELEMENTS * 4, MAX_ARRAYS]


def decode(data: Any, depth: int = 0, budget: list | None = None) -> Any:
    """Rebuild plain Python/numpy values from encoded data, rejecting anything odd."""
    budget = budget if budget is not None else decode_budget()
    if depth > MAX_DEPTH + 2:
        raise DecodeError("value nested too deeply")
    if not isinstance(data, dict) or not isinstance(data.get("t"), str):
        raise DecodeError("malformed value")
    t = data["t"]
    if t == "none":
        return None
    if t in ("bool", "int", "float", "str"):
        v = data.get("v")
        expected = {"bool": bool, "int": int, "float": (float, int), "str": str}[t]
        if not isinstance(v, expected) or (t == "int" and isinstance(v, bool)):
            raise DecodeError(f"malformed {t}")
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**63:  # JSON ints are unbounded
            raise DecodeError(f"{t} out of range")
        if t == "str" and len(v) > MAX_STR:
            raise DecodeError("string too long")
        return float(v) if t == "float" else v
    if t in ("list", "tuple"):
        items = data.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise DecodeError(f"malformed {t}")
        out = [decode(x, depth + 1, budget) for x in items]
        return tuple(out) if t == "tuple" else out
    if t == "dict":
        items = data.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise DecodeError("malformed dict")
        out = {}
        for pair in items:
            if not isinstance(pair, list) or len(pair) != 2:
                raise DecodeError("malformed dict item")
            key = decode(pair[0], depth + 1, budget)
            if not isinstance(key, (str, int, float, bool, type(None), tuple)):
                key = repr(key)
            out[key] = decode(pair[1], depth + 1, budget)
        return out
    if t == "array":
        return _decode_array(data, budget)
    if t == "object":
        info = data.get("info")
        return Opaque(str(data.get("type", "?"))[:200], info if isinstance(info, dict) else {})
    if t == "toolarge":
        shape = data.get("shape")
        return Opaque(str(data.get("type", "?"))[:200], too_large=True,
                      shape=shape if isinstance(shape, list) else None)
    raise DecodeError(f"unknown value tag {t!r}")


def _decode_array(data: dict, budget: list) -> np.ndarray:
    raw = data.get("npy")
    if not isinstance(raw, str):
        raise DecodeError("malformed array")
    if len(budget) > 1:  # each array costs a parse, whatever its size
        budget[1] -= 1
        if budget[1] < 0:
            raise DecodeError(f"observation holds more than {MAX_ARRAYS} arrays")
    if len(raw) > (MAX_ELEMENTS * 16 * 4) // 3 + 1024 or len(raw) > budget[0] * 12:
        raise DecodeError("array too large")
    try:
        arr = np.load(io.BytesIO(base64.b64decode(raw, validate=True)), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - corrupt bytes, pickled payload, bad header...
        raise DecodeError(f"unreadable array ({type(exc).__name__})") from None
    if type(arr) is not np.ndarray or arr.dtype.kind not in NUMERIC_KINDS + "c":
        raise DecodeError("array of a non-numeric dtype")
    if arr.size > MAX_ELEMENTS:
        raise DecodeError("array too large")
    budget[0] -= arr.size
    if budget[0] < 0:
        raise DecodeError("observation too large")
    return arr
