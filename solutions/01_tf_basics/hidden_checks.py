"""Hidden checks of 01_tf_basics: other inputs and edge cases (instructors only).

Never shipped to students; the inputs enter the sandbox only while grading and
feedback for these checks never quotes them.
"""

from checks import CHECKS as PUBLIC
from checks import (EAGER_RULES, F32, GRAPH_RULES, OPS, Close, Equal, Property, describe_probe, elementwise_probe,
                    eager_probe, evaluate_probe, graph_values, linear_graph_probe, placeholder_probe,
                    unique_probe, variables_probe, variables_properties)

from autograder.authoring import Check, sibling

CHECKS = [
    Check("build_linear_graph", "vector_input", linear_graph_probe, ([1.0, -2.0, 0.5], 0.4, 3.0),
          GRAPH_RULES, points=2, hidden=True, derive=graph_values),
    Check("evaluate", "matmul_graph", evaluate_probe, ([[1.0, 2.0], [3.0, 4.0]], [[0.5], [-1.0]], 0.25),
          [Close("value", label="the evaluated value", **F32)], points=2, hidden=True),
    Check("variables_model", "other_seed", variables_probe, (-3.5, 123, 124),
          [Property(variables_properties)], points=2, hidden=True),
    Check("feed_placeholder", "custom_parameters", placeholder_probe, ([-1.5, 0.0, 2.25], -2.0, 0.5),
          [Close("value", dtype="float32", label="the result", **F32)], points=1, hidden=True),
    Check("feed_placeholder", "empty_input", placeholder_probe, ([],),
          [Close("value", dtype="float32", label="the result", **F32)], points=1, hidden=True),
    Check("describe_tensor", "more_types", describe_probe,
          ([[[2], [4], [6]], [[8], [10], [12]], [[14], [16], [18]]], "hello", [True, False], 2.5),
          [Equal("rank"), Equal("shape"), Equal("dtype")], points=2, hidden=True),
    Check("unique_shapes", "repeats", unique_probe, ([5, 5, 7, 5, 9, 7], [3]),
          [Equal("static", label="the static shapes"), Equal("dynamic", label="the dynamic shapes")],
          hidden=True),
    Check("elementwise_ops", "negative_operands_and_zero", elementwise_probe,
          ([-7.0, 7.0, 2.5, -0.25, 1.5, 0.0], [3.0, -3.0, -2.0, 4.0, 0.0, -2.0]),
          [Equal("names", label="the dict's names")] + [Close(op, label=f"'{op}'", **F32) for op in OPS],
          points=2, hidden=True),
    Check("eager_linear", "other_values", eager_probe, (-2.5, 0.4, 3.0, [2.0417, 0.3183, -0.0291]), EAGER_RULES,
          hidden=True),
]

# Each public check's unpublished sibling: the same probe and rules on other inputs of the same
# kind. A public check earns its points only when its sibling passes too (see Check.sibling_of).
SIBLING_ARGS = {
    "build_linear_graph.lecture_example": (2.0, -3.0, 0.5),
    "evaluate.scalar_graph": (2.5, -2.0, 0.5),
    "variables_model.properties": (-1.5, 11, 12),
    "feed_placeholder.default_parameters": ([0.5, -1.0, 2.0],),
    "describe_tensor.lecture_table": (7, [0.5, 1.5], [[1, 2], [3, 4]]),
    "unique_shapes.lecture_examples": ([4, 4, 1, 2], [6, 6]),
    "elementwise_ops.small_example": ([6.0, 2.0, -1.5, 0.25, 0.0], [1.5, 4.0, 2.5, -0.5, 3.0]),
    "eager_linear.lecture_example": (3.0, -0.5, 2.0, [-1.234, 0.617, 0.0459]),
}
CHECKS += [sibling(c, SIBLING_ARGS[c.id]) for c in PUBLIC]
