"""Hidden checks of 02_linear_classifier: other inputs and edge cases (instructors only)."""

import numpy as np
from checks import CHECKS as PUBLIC
from checks import (F32, SUM, TRAIN, TRAINING_RULES, Close, Property, accuracy_probe, cross_entropy_probe,
                    dataset_probe, gd_probe, in_unit_interval, logits_probe, momentum_probe, proba_probe,
                    scores_probe, sgd_probe, step_size_probe)

from autograder.authoring import Check, SameShape, sibling


def overshoots(actual, expected, hidden=False):  # fixed messages: safe for hidden checks
    """A learning rate too big makes the cost go up again after a few steps.

    Graded against the reference's own trajectory, as far as the student's costs are
    finite: the lecture's hand-written log(sigmoid) legitimately turns into nan once a
    probability rounds to 1, but the first two costs (before and after one step) are
    finite for every correct formula, so they must match; constants cannot.
    """
    costs, reference = actual.get("costs"), expected.get("costs")
    try:
        costs = np.asarray(costs, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return "return one cost per epoch"
    reference = np.asarray(reference, dtype=np.float64).reshape(-1)
    if costs.shape != reference.shape:
        return "return one cost per epoch"
    finite = np.isfinite(costs)
    k = int(np.argmin(finite)) if not finite.all() else len(costs)
    if k < 2 or finite[k:].any():
        return "the costs before and after the first step must be finite numbers"
    if not np.allclose(costs[:k], reference[:k], rtol=TRAIN["rtol"], atol=TRAIN["atol"]):
        return "the costs do not follow gradient descent with this learning rate"
    if k == len(costs):  # a stable formula: the whole run must match, weights included
        for key in ("W", "b"):
            try:
                ok = np.allclose(np.asarray(actual.get(key), np.float64), np.asarray(expected[key], np.float64),
                                 rtol=TRAIN["rtol"], atol=TRAIN["atol"])
            except (TypeError, ValueError):
                ok = False
            if not ok:
                return f"{key} does not follow gradient descent with this learning rate"
    return None


CHECKS = [
    Check("make_dataset", "larger", dataset_probe, (200, 42),
          [Close("X", dtype="float32", rtol=1e-6, atol=1e-7, label="X"),
           Close("labels", dtype="float32", rtol=0, atol=0, label="labels")], hidden=True),
    Check("decision_scores", "bias_of_shape_1", scores_probe,
          ([[1.0, 1.0], [2.0, -3.0], [0.5, 0.5], [-1.0, 0.0]], [[2.0], [-1.0]], [0.5]),
          [Close("z", label="the scores", **F32)], hidden=True),
    Check("predict_proba", "saturated", proba_probe, ([[10.0, 10.0], [-10.0, -10.0], [0.1, -0.2]],
                                                       [[1.0], [1.0]], [0.0]),
          [Close("p", label="the probabilities", **F32)], hidden=True),
    Check("cross_entropy", "five_points", cross_entropy_probe,
          ([0.0, 0.0, 1.0, 1.0, 0.0], [0.5, 0.01, 0.99, 0.7, 0.4]),
          [Close("cost", scalar=True, label="the cost", **SUM)], points=2, hidden=True),
    Check("cross_entropy_from_logits", "huge_scores", logits_probe,
          ([0.0, 1.0, 1.0, 0.0], [1e4, -1e4, 0.0, 30.0]),
          [Close("cost", scalar=True, label="the cost", **SUM)], points=2, hidden=True),
    Check("train_gradient_descent", "small_rate", gd_probe, (100, 7, 0.01, 25), TRAINING_RULES, hidden=True),
    # Graded as a property: with a rate this big the hand-written cost overflows to nan
    # after a step or two, the stable one does not (see overshoots).
    Check("train_gradient_descent", "overshooting_rate", gd_probe, (100, 7, 0.5, 4),
          [Property(overshoots), SameShape("W", label="W"), SameShape("b", label="b")], hidden=True),
    Check("train_minibatch_sgd", "short_last_batch", sgd_probe, (100, 11, 0.05, 4, 32, 5), TRAINING_RULES,
          points=2, hidden=True),
    Check("train_momentum", "half_momentum", momentum_probe, (80, 9, 0.01, 0.5, 6), TRAINING_RULES,
          points=2, hidden=True),
    Check("decayed_step_size", "more_steps", step_size_probe, (2.0, 50, 9, (0.1, 1, 1), (1.0, 1000, 100)),
          [Close("alpha_i", rtol=1e-7, atol=0, label="the step sizes")], hidden=True),
    Check("accuracy", "another_line", accuracy_probe, (60, 8, [[0.5], [1.0]], 0.0),
          [Property(in_unit_interval), Close("accuracy", scalar=True, rtol=0, atol=1e-6, label="the accuracy")],
          hidden=True),
]

# Each public check's unpublished sibling: the same probe and rules on other inputs of the same
# kind. A public check earns its points only when its sibling passes too (see Check.sibling_of).
SIBLING_ARGS = {
    "make_dataset.small": (30, 5),
    "decision_scores.lecture_line": ([[0.5, -1.0], [2.0, 0.5], [-1.5, -0.25]], [[0.7], [-0.4]], 0.3),
    "predict_proba.lecture_line": ([[0.2, 0.4], [-1.0, 0.5]], [[0.8], [-1.2]], 0.1),
    "cross_entropy.three_points": ([0.0, 1.0, 1.0], [0.3, 0.6, 0.85]),
    "cross_entropy_from_logits.one_large_score": ([0.0, 1.0, 1.0, 0.0], [1.5, -2.0, 0.5, 35.0]),
    "train_gradient_descent.ten_steps": (60, 5, 0.1, 8),
    "train_minibatch_sgd.batches_of_8": (40, 6, 0.1, 2, 8, 1),
    "train_momentum.ten_steps": (60, 4, 0.05, 0.9, 8),
    "decayed_step_size.example": (0.3, 50, 16),
    "accuracy.lecture_line": (80, 6, [[0.9], [-0.7]], 0.05),
}
CHECKS += [sibling(c, SIBLING_ARGS[c.id]) for c in PUBLIC]
