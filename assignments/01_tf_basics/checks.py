"""Public checks of 01_tf_basics (shipped to students with the notebook).

Probes run inside the sandbox and record what the student's functions return;
rules compare that with what the same probes record on the reference
solution. Tolerances: the values are float32 results of one or two ops, so
rtol=1e-5 (a few float32 ulps) and atol=1e-6 (for results near zero).
"""

from autograder.authoring import (
    ArtefactError, Check, Close, Equal, Limits, Property, as_dtype_name, as_int, as_shape, describe_graph,
    evaluate_graph, number, unpack)

LIMITS = Limits(check_timeout_s=30, cell_timeout_s=60, total_timeout_s=600, memory_mb=4096)

F32 = dict(rtol=1e-5, atol=1e-6, why="float32 arithmetic")

OPS = ["add", "subtract", "multiply", "divide", "mod", "abs", "negative", "sign", "reciprocal",
       "square", "round", "sqrt", "pow", "exp", "log"]


# ---------------------------------------------------------------- probes (sandbox side)


def linear_graph_probe(student, x, w, b):
    """Records the graph itself: the judge evaluates it (see graph_values), so y's value and
    dtype come from the operations the student put in the graph, not from a session here."""
    import tensorflow as tf

    graph, y = unpack(student.build_linear_graph(x, w, b), 2, "build_linear_graph")
    is_graph = isinstance(graph, tf.Graph)
    is_tensor = isinstance(y, tf.Tensor) and tf.is_symbolic_tensor(y)
    out = {"returns_graph": is_graph, "returns_graph_tensor": is_tensor,
           "tensor_in_graph": bool(is_graph and is_tensor and y.graph is graph),
           "fresh_graph": bool(is_graph and graph is not tf.compat.v1.get_default_graph())}
    if out["tensor_in_graph"]:
        out["graph"] = describe_graph(graph, y)
    return out


def evaluate_probe(student, a, b, c):
    """evaluate() on a graph the probe builds: a @ b + c (or a * b + c for scalars)."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        ta, tb, tc = (tf.constant(v, tf.float32) for v in (a, b, c))
        t = (tf.matmul(ta, tb) if len(ta.shape) == 2 else ta * tb) + tc
    return {"value": student.evaluate(graph, t)}


def variables_probe(student, x, seed, other_seed):
    w, b, y = unpack(student.variables_model(x, seed), 3, "variables_model")
    w_again = unpack(student.variables_model(x, seed), 3, "variables_model")[0]
    w_other = unpack(student.variables_model(x, other_seed), 3, "variables_model")[0]
    return {"x": x, "w": w, "b": b, "y": y, "w_same_seed": w_again, "w_other_seed": w_other}


def placeholder_probe(student, xs, *wb, **kw):
    return {"value": student.feed_placeholder(list(xs), *wb, **kw)}


def describe_probe(student, *values):
    out = []
    for value in values:
        d = student.describe_tensor(value)
        if not isinstance(d, dict) or set(d) != {"rank", "shape", "dtype"}:
            from autograder.authoring import WrongAnswerType

            raise WrongAnswerType("describe_tensor should return a dict with exactly the keys "
                                  "'rank', 'shape' and 'dtype'")
        out.append({"rank": as_int(d["rank"], "rank"), "shape": as_shape(d["shape"], "shape"),
                    "dtype": as_dtype_name(d["dtype"], "dtype")})
    return {"rank": [o["rank"] for o in out], "shape": [o["shape"] for o in out],
            "dtype": [o["dtype"] for o in out]}


def unique_probe(student, *value_lists):
    statics, dynamics = [], []
    for values in value_lists:
        static, dynamic = unpack(student.unique_shapes(list(values)), 2, "unique_shapes")
        statics.append(as_shape(static, "the static shape"))
        dynamics.append(as_shape(dynamic, "the dynamic shape"))
    return {"static": statics, "dynamic": dynamics}


def elementwise_probe(student, a, b):
    result = student.elementwise_ops(list(a), list(b))
    if not isinstance(result, dict):
        from autograder.authoring import WrongAnswerType

        raise WrongAnswerType(f"elementwise_ops should return a dict, got {type(result).__name__}")
    out = {"names": sorted(str(k) for k in result)}
    for name in OPS:
        if name in result:
            out[name] = result[name]
    return out


def eager_probe(student, x, w, b, more_digits=None):
    """y for (x, w, b), and for a second (x, w, b) whose y has more decimals than float32
    keeps exactly: an answer rounded for printing differs there."""
    out = {"value": student.eager_linear(x, w, b)}
    if more_digits is not None:
        out["more_digits"] = student.eager_linear(*more_digits)
    return out


# ---------------------------------------------------------------- rules (grader side)
# Property tests take ``hidden``: for a hidden check their message must quote no value
# (the student's values may carry the hidden inputs); see autograder.checks.rules.Property.


def graph_values(values, *args):
    """Judge side: y's value and dtype, computed from the recorded graph's operations."""
    try:
        value, dtype, ops = evaluate_graph(values.get("graph"))
    except ArtefactError as exc:
        return {"value": None, "dtype": None, "graph_problem": str(exc)}
    if not ops & {"Mul", "MatMul"} or not ops & {"AddV2", "Add", "AddN", "BiasAdd"}:
        return {"value": value, "dtype": dtype, "graph_problem":
                "y should be computed in the graph from x, w and b (x * w + b), not stored there as one constant"}
    return {"value": value, "dtype": dtype, "graph_problem": None}


def graph_structure(actual, expected, hidden=False):  # fixed messages only
    if not actual.get("returns_graph"):
        return "the first value returned should be a tf.Graph"
    if not actual.get("returns_graph_tensor"):
        return "the second value should be a graph tensor (build y inside `with graph.as_default():`)"
    if not actual.get("tensor_in_graph"):
        return "y belongs to another graph than the one returned: create it inside `with graph.as_default():`"
    if not actual.get("fresh_graph"):
        return "create a new tf.Graph() instead of using the global default graph"
    return actual.get("graph_problem")


GRAPH_RULES = [Property(graph_structure), Equal("dtype", label="the dtype of y"),
               Close("value", label="y computed from the graph", **F32)]


def variables_properties(actual, expected, hidden=False):
    x, w, b, y = (number(actual.get(k)) for k in ("x", "w", "b", "y"))
    if None in (w, b, y):
        return "return three numbers (w, b, y)"
    if not -1.0 <= w <= 1.0:
        shown = "" if hidden else f" = {w:g}"
        return f"W{shown} is outside [-1, 1]: draw it with tf.random.uniform([1], -1.0, 1.0)"
    if b != 0.0:
        shown = " is not zero" if hidden else f" = {b:g}"
        return f"b{shown}, but it should start at zero (tf.zeros([1]))"
    if abs(y - (x * w + b)) > 1e-6 + 1e-5 * abs(y):
        return "y is not x * W + b for the W and b you returned"
    if number(actual.get("w_same_seed")) != w:
        return "the same seed gave a different W: set the graph-level seed with tf.compat.v1.set_random_seed(seed)"
    if number(actual.get("w_other_seed")) == w:
        return "a different seed gave the same W: the seed argument must be used"
    return None


EAGER_RULES = [Close("value", scalar=True, label="y", **F32),
               Close("more_digits", scalar=True, label="y for the inputs with more decimals", **F32)]

# ---------------------------------------------------------------- public checks

CHECKS = [
    Check("build_linear_graph", "lecture_example", linear_graph_probe, (1.0, 6.0, 1.5), GRAPH_RULES,
          derive=graph_values, explain="x = 1, w = 6, b = 1.5 gives a graph whose y evaluates to 7.5"),
    Check("evaluate", "scalar_graph", evaluate_probe, (3.0, 4.0, 1.0),
          [Close("value", label="the evaluated value", **F32)],
          explain="a graph computing 3 * 4 + 1"),
    Check("variables_model", "properties", variables_probe, (2.0, 7, 8), [Property(variables_properties)],
          explain="W in [-1, 1], b = 0, y = x*W + b, seeds repeatable"),
    Check("feed_placeholder", "default_parameters", placeholder_probe, ([1.0, 2.0, 3.0, 4.0],),
          [Close("value", dtype="float32", label="the result", **F32)],
          explain="xs = [1, 2, 3, 4] with w = 6, b = 1.5"),
    Check("describe_tensor", "lecture_table", describe_probe,
          (483, [1.1, 2.2, 3.3], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
          [Equal("rank"), Equal("shape"), Equal("dtype")],
          explain="a scalar, a vector and a matrix"),
    Check("unique_shapes", "lecture_examples", unique_probe, ([0, 1, 2, 3], [0, 0, 0, 0]),
          [Equal("static", label="the static shapes"), Equal("dynamic", label="the dynamic shapes")],
          explain="[0, 1, 2, 3] and [0, 0, 0, 0]"),
    Check("elementwise_ops", "small_example", elementwise_probe,
          ([4.0, 9.0, -2.5, 0.5, 0.0], [2.0, 0.5, 3.0, -1.5, 2.0]),
          [Equal("names", label="the dict's names")] + [Close(op, label=f"'{op}'", **F32) for op in OPS],
          explain="all fifteen operations, with a zero in a; NaN or an infinity where the math gives one",
          swappable=("a", "b")),
    Check("eager_linear", "lecture_example", eager_probe, (1.0, 6.0, 1.5, [0.37, -2.913, 0.0482]), EAGER_RULES,
          explain="x = 1, w = 6, b = 1.5 gives 7.5; x = 0.37, w = -2.913, b = 0.0482 gives y with five decimals"),
]
