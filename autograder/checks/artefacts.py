"""Artefacts: what a probe records of a graph or a model, so that the judge checks the work.

A probe runs in the student's process, so anything it *concludes* there ("the graph
computes y", "the model is trained", "the accuracy is 0.95") could be forged more
cheaply than the work itself: the student's code can write a well-formed observation
of its own, or hand the probe an object whose methods lie. So probes of graphs and
models record the artefact itself as plain data, and the judge (a check's ``derive``)
evaluates it here, with numpy, outside that process. Forging an artefact that passes
means writing down a graph that computes the answer, or weights that classify the
data: the work itself.

Sandbox side (TensorFlow and Keras imported lazily): :func:`describe_graph`,
:func:`describe_model`, :func:`trained_models`. Judge side (numpy only):
:func:`evaluate_graph`, :func:`predict`, :func:`structure`. A problem with a
student's artefact raises :class:`ArtefactError`, whose message is for the student.

Graph description::

    {"target": "add:0", "nodes": [{"name": "mul", "op": "Mul", "inputs": ["x", "w"],
                                   "dtype": "float32", "value": <array, Const only>,
                                   "transpose_a": bool, "transpose_b": bool (MatMul only)}, ...]}

Model description::

    {"layers": [{"kind": "Dense", "units": 8, "activation": "relu", "use_bias": true,
                 "weights": [kernel, bias]}, {"kind": "InputLayer"}, ...],
     "loss": "binary_crossentropy", "compiled": true}
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from typing import Any, Iterator

import numpy as np

from autograder.errors import ArtefactError  # noqa: F401 - raised here, caught by callers

MAX_NODES = 100
MAX_LAYERS = 32
MAX_MODELS = 16
# What the judge computes from an artefact is bounded before it is computed: a small record
# can describe a huge result (an [n,1] times [1,n] product, a Dense layer of a million units).
MAX_VALUE = 1_000_000       # elements of one value the judge computes
MAX_FLOPS = 200_000_000     # multiply-adds of one matrix product
# ...and so is all it computes for one check (a graph of a hundred such products, a model
# called again and again): each element computed and each multiply-add counts one unit of
# work, charged before the work is done (see :func:`work_budget`).
MAX_WORK = 200_000_000
MAX_LIVE = 8_000_000        # elements of the values a graph's evaluation holds at once (64 MB)


def _bounded(shape: tuple, flops: int = 0) -> None:
    size = 1
    for dim in shape:
        size *= int(dim)
    if size > MAX_VALUE or flops > MAX_FLOPS:
        raise ArtefactError("the graph or network computes values far larger than the exercise needs")


class WorkBudget:
    """The work the judge may still spend on artefacts; ``exceeded`` stays set once it ran out,
    even where a check's ``derive`` caught the error (the judge fails the check then)."""

    def __init__(self, limit: int = MAX_WORK):
        self.limit, self.left, self.exceeded = limit, limit, False

    def charge(self, units: int) -> None:
        self.left -= int(units)
        if self.left < 0 or self.exceeded:
            self.exceeded = True
            raise ArtefactError(f"judging this answer needs more computation than the exercise ever does (the "
                                f"grader stops at {self.limit:,} operations): build only what the exercise asks for")


_BUDGET: contextvars.ContextVar[WorkBudget | None] = contextvars.ContextVar("artefact_work_budget", default=None)


@contextlib.contextmanager
def work_budget(limit: int = MAX_WORK) -> Iterator[WorkBudget]:
    """One budget for every artefact evaluated inside the block (the judge: one per check)."""
    budget = WorkBudget(limit)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def _budget() -> WorkBudget:
    """The judge's budget of this check, or one for this call alone outside a judge."""
    return _BUDGET.get() or WorkBudget()



# ---------------------------------------------------------------- sandbox side


def describe_graph(graph: Any, tensor: Any) -> dict:
    """The nodes of ``graph`` (a tf.Graph) as plain data, and the name of ``tensor`` in it."""
    import tensorflow as tf

    graph_def = graph.as_graph_def()
    if len(graph_def.node) > MAX_NODES:
        return {"target": tensor.name, "nodes": [], "too_many": len(graph_def.node)}
    nodes = []
    for node in graph_def.node:
        entry: dict = {"name": node.name, "op": node.op,
                       "inputs": [name for name in node.input if not name.startswith("^")]}
        for attr in ("dtype", "T", "DstT"):
            if attr in node.attr and node.attr[attr].type:
                entry["dtype"] = tf.as_dtype(node.attr[attr].type).name
        if node.op == "Const":
            entry["value"] = tf.make_ndarray(node.attr["value"].tensor)
        if node.op == "MatMul":
            entry["transpose_a"] = bool(node.attr["transpose_a"].b)
            entry["transpose_b"] = bool(node.attr["transpose_b"].b)
        nodes.append(entry)
    return {"target": tensor.name, "nodes": nodes}


def _activation_name(fn: Any) -> str:
    return str(getattr(fn, "__name__", None) or fn)[:40]


def describe_model(model: Any, what: str) -> dict:
    """A Keras model's layers and weights as plain data (the judge computes its outputs)."""
    import keras

    from autograder.checks.probe_tools import WrongAnswerType

    if not isinstance(model, keras.Model):
        raise WrongAnswerType(f"{what} should return a keras Model, got {type(model).__name__}")
    layers = []
    for layer in list(model.layers)[:MAX_LAYERS]:
        if isinstance(layer, keras.layers.Dense):
            layers.append({"kind": "Dense", "units": int(layer.units), "use_bias": bool(layer.use_bias),
                           "activation": _activation_name(layer.activation),
                           "weights": [np.asarray(w) for w in layer.get_weights()]})
        elif isinstance(layer, keras.layers.Activation):
            layers.append({"kind": "Activation", "activation": _activation_name(layer.activation)})
        elif isinstance(layer, keras.layers.InputLayer):
            layers.append({"kind": "InputLayer"})
        else:
            layers.append({"kind": type(layer).__name__[:40]})
    loss = getattr(model, "loss", None)
    loss_name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or str(loss)
    return {"layers": layers, "loss": str(loss_name)[:80], "compiled": getattr(model, "optimizer", None) is not None}


_MODEL_METHODS = ("fit", "predict", "evaluate", "__call__", "train_on_batch", "test_on_batch", "predict_on_batch")


@contextlib.contextmanager
def trained_models() -> Iterator[list]:
    """Every Keras model that is trained, evaluated or called inside the block, in order.

    The models a function builds and throws away (``linear_vs_deep``'s) are caught on
    their way through Keras, so the judge can measure them itself."""
    import keras

    seen: dict[int, Any] = {}
    saved = {name: keras.Model.__dict__.get(name) for name in _MODEL_METHODS}

    def watch(name: str):
        original = getattr(keras.Model, name)

        @functools.wraps(original)
        def watched(self, *args, **kwargs):
            if len(seen) < MAX_MODELS:
                seen.setdefault(id(self), self)
            return original(self, *args, **kwargs)

        return watched

    for name in _MODEL_METHODS:
        setattr(keras.Model, name, watch(name))
    models: list = []
    try:
        yield models
    finally:
        for name, original in saved.items():
            if original is None:
                delattr(keras.Model, name)
            else:
                setattr(keras.Model, name, original)
        models.extend(seen.values())


# ---------------------------------------------------------------- judge side

_GRAPH_OPS = {"Const", "Identity", "Mul", "MatMul", "AddV2", "Add", "AddN", "BiasAdd", "Cast"}
_DTYPES = {"float16", "float32", "float64", "int32", "int64"}


def evaluate_graph(description: Any) -> tuple[np.ndarray, str, set]:
    """(value, dtype name, op types used) of the described graph's target tensor.

    Bounded whatever the description: at most ``MAX_NODES`` nodes, each value at most
    ``MAX_VALUE`` elements, the work charged to the check's budget (:func:`work_budget`)
    before it is done, and each value dropped once its last consumer has read it, with at
    most ``MAX_LIVE`` elements held at once."""
    if not isinstance(description, dict) or not isinstance(description.get("nodes"), list):
        raise ArtefactError("no graph was recorded")
    if description.get("too_many") or len(description["nodes"]) > MAX_NODES:
        raise ArtefactError(f"the graph has more than {MAX_NODES} operations: build only y = x * w + b in it")
    budget = _budget()
    nodes = {}
    for node in description["nodes"]:
        if not (isinstance(node, dict) and isinstance(node.get("name"), str) and isinstance(node.get("op"), str)
                and isinstance(node.get("inputs"), list) and len(node["inputs"]) <= MAX_NODES
                and all(isinstance(i, str) for i in node["inputs"])):
            raise ArtefactError("the recorded graph is malformed")
        nodes[node["name"]] = node
    target = description.get("target")
    if not isinstance(target, str):
        raise ArtefactError("the recorded graph is malformed")
    name, _, port = target.partition(":")
    if port not in ("", "0") or name not in nodes:
        raise ArtefactError("y is not an operation of the graph returned")
    # How many times each value will be read: it is dropped after its last reader.
    readers: dict[str, int] = {}
    seen, stack = {name}, [name]
    while stack:
        for i in nodes[stack.pop()]["inputs"]:
            i = i.split(":")[0]
            readers[i] = readers.get(i, 0) + 1
            if i in nodes and i not in seen:
                seen.add(i)
                stack.append(i)
    used: set = set()
    values: dict[str, np.ndarray] = {}
    live = [0]  # elements held in ``values``

    def read(node_name: str, depth: int) -> np.ndarray:
        node_name = node_name.split(":")[0]
        return values[node_name] if node_name in values else value(node_name, depth)

    def release(node_name: str) -> None:
        node_name = node_name.split(":")[0]
        readers[node_name] -= 1
        if readers[node_name] <= 0 and node_name in values:
            live[0] -= values.pop(node_name).size

    def value(node_name: str, depth: int) -> np.ndarray:
        node = nodes.get(node_name)
        if node is None or depth > MAX_NODES:
            raise ArtefactError("the recorded graph is malformed")
        op = node["op"]
        used.add(op)
        if op not in _GRAPH_OPS:
            raise ArtefactError(f"y is computed with an operation the grader does not evaluate ({op[:40]}): "
                                "build it from tf.constant values with * (or tf.matmul) and +")
        dtype = node.get("dtype")
        if dtype not in _DTYPES:
            raise ArtefactError(f"the graph holds a value of dtype {str(dtype)[:20]}: use float32 constants")
        args = [read(i, depth + 1) for i in node["inputs"]]
        with np.errstate(all="ignore"):
            if op == "Const":
                out = node.get("value")
                if not isinstance(out, np.ndarray):
                    raise ArtefactError("the recorded graph is malformed")
                _bounded(out.shape)
            elif op in ("Identity", "Cast"):
                out = args[0] if len(args) == 1 else None
            elif op in ("Mul", "AddV2", "Add", "BiasAdd", "AddN"):
                if (op == "AddN" and not args) or (op != "AddN" and len(args) != 2):
                    raise ArtefactError("the recorded graph is malformed")
                shape = np.broadcast_shapes(*(a.shape for a in args))
                _bounded(shape)
                budget.charge(int(np.prod(shape, dtype=np.int64)) * max(1, len(args) - 1))
                out = args[0] * args[1] if op == "Mul" else sum(args[1:], args[0])
            else:  # MatMul
                if len(args) != 2 or any(a.ndim != 2 for a in args):
                    raise ArtefactError("tf.matmul needs two matrices")
                a = args[0].T if node.get("transpose_a") else args[0]
                b = args[1].T if node.get("transpose_b") else args[1]
                if a.shape[1] != b.shape[0]:
                    raise ArtefactError("the matrices of tf.matmul do not fit together")
                flops = a.shape[0] * a.shape[1] * b.shape[1]
                _bounded((a.shape[0], b.shape[1]), flops)
                budget.charge(flops)
                out = a @ b
        if out is None:
            raise ArtefactError("the recorded graph is malformed")
        budget.charge(np.size(out))
        live[0] += np.size(out)
        if live[0] > MAX_LIVE:
            raise ArtefactError("the graph holds values far larger than the exercise needs at once")
        del args
        for i in node["inputs"]:  # each input read once more; dropped after its last reader
            release(i)
        try:
            out = np.asarray(out).astype(dtype)
        except (ValueError, TypeError):
            raise ArtefactError("the recorded graph is malformed") from None
        values[node_name] = out
        return out

    try:
        result = value(name, 0)
    except ValueError as exc:  # numpy: shapes that do not broadcast
        if isinstance(exc, ArtefactError):
            raise
        raise ArtefactError("the shapes of the graph's values do not fit together") from None
    return result, str(nodes[name].get("dtype")), used


def _activate(name: Any, x: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for large |x|
    if name == "tanh":
        return np.tanh(x)
    if name == "linear":
        return x
    raise ArtefactError(f"the activation {str(name)[:40]!r} is not one the exercise uses (relu, sigmoid)")


def _layers(description: Any) -> list[dict]:
    if not isinstance(description, dict) or not isinstance(description.get("layers"), list) \
            or not all(isinstance(layer, dict) for layer in description["layers"]):
        raise ArtefactError("no model was recorded")
    if len(description["layers"]) > MAX_LAYERS:
        raise ArtefactError(f"the model has more than {MAX_LAYERS} layers: build the network the exercise "
                            "describes")
    return description["layers"]


def structure(description: Any) -> dict:
    """The Dense units and activations, the other layer kinds, and the compilation of a model."""
    layers = _layers(description)
    dense = [layer for layer in layers if layer.get("kind") == "Dense"]
    return {"units": [layer.get("units") for layer in dense],
            "activations": [layer.get("activation") for layer in dense],
            "other_layers": sorted({str(layer.get("kind")) for layer in layers} - {"Dense", "InputLayer"}),
            "loss": str(description.get("loss", "")), "compiled": description.get("compiled") is True}


def predict(description: Any, X: np.ndarray) -> np.ndarray:
    """The model's output for each row of X (a [n] array), computed from its weights."""
    budget = _budget()
    layers = _layers(description)
    x = np.asarray(X, dtype=np.float64)
    budget.charge(x.size)
    for layer in layers:
        kind = layer.get("kind")
        if kind == "InputLayer":
            continue
        if kind == "Activation":
            budget.charge(x.size)
            x = _activate(layer.get("activation"), x)
            continue
        if kind != "Dense":
            raise ArtefactError(f"unexpected layers: {str(kind)[:40]} (build the network from Dense layers)")
        weights = layer.get("weights")
        if not isinstance(weights, list) or not weights or not all(isinstance(w, np.ndarray) for w in weights):
            raise ArtefactError("a Dense layer has no weights: give the model its input shape (keras.Input)")
        kernel = weights[0]
        if kernel.ndim != 2 or kernel.shape[0] != x.shape[1]:
            raise ArtefactError("the Dense layers' weights do not fit together")
        flops = x.shape[0] * kernel.shape[0] * kernel.shape[1]
        _bounded((x.shape[0], kernel.shape[1]), flops)
        budget.charge(flops + kernel.size + 3 * x.shape[0] * kernel.shape[1])  # product, bias, activation
        kernel = kernel.astype(np.float64)
        with np.errstate(all="ignore"):
            x = x @ kernel
            if layer.get("use_bias") and len(weights) > 1:
                if weights[1].shape != (kernel.shape[1],):
                    raise ArtefactError("the Dense layers' weights do not fit together")
                x = x + weights[1].astype(np.float64)
            x = _activate(layer.get("activation"), x)
    if x.ndim != 2 or x.shape[1] != 1:
        raise ArtefactError("the model should output one probability per point (its last layer: Dense(1))")
    return x.reshape(-1)


def same_weights(a: Any, b: Any) -> bool:
    wa = [w for layer in _layers(a) for w in layer.get("weights") or []]
    wb = [w for layer in _layers(b) for w in layer.get("weights") or []]
    _budget().charge(sum(np.size(w) for w in wa))
    return len(wa) == len(wb) and all(isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                                      and x.shape == y.shape and np.array_equal(x, y) for x, y in zip(wa, wb))
