"""Public checks of 02_linear_classifier (shipped to students with the notebook).

Tolerances, and why:
* single float32 ops (scores, probabilities): rtol=1e-5, atol=1e-6;
* cross-entropy sums: rtol=1e-5 (float32 and float64 implementations agree to ~1e-6);
* training (costs and weights after several optimizer steps): rtol=2e-4, atol=1e-4, so
  a tf.GradientTape loop or a hand-written sigmoid cross-entropy, which sum in another
  order, still agree with the v1 optimizer; a wrong rule (mean cost, a missing step,
  another order of batches) is off by far more.
Training data for the probes is made here, not with the student's make_dataset, so
one wrong exercise never costs another.
"""

import numpy as np

from autograder.authoring import Check, Close, Limits, Property, WrongAnswerType, number, unpack

LIMITS = Limits(check_timeout_s=60, cell_timeout_s=120, total_timeout_s=900, memory_mb=4096)

F32 = dict(rtol=1e-5, atol=1e-6, why="float32 arithmetic")
SUM = dict(rtol=1e-5, atol=1e-6, why="a sum of logs, float32 or float64")
TRAIN = dict(rtol=2e-4, atol=1e-4, why="several optimizer steps; summation order may differ")


def data(n, seed):
    """Probe inputs: points and labels that are not the exercise's data set."""
    rng = np.random.default_rng(1000 + seed)
    X = (rng.normal(size=(n, 2)) * 0.6).astype(np.float32)
    labels = (X[:, 0] - 0.8 * X[:, 1] + 0.1 * rng.normal(size=n) > 0.1).astype(np.float32)
    return X, labels


# ---------------------------------------------------------------- probes


def dataset_probe(student, n, seed):
    X, labels = unpack(student.make_dataset(n, seed), 2, "make_dataset")
    return {"X": X, "labels": labels}


def scores_probe(student, X, W, b):
    return {"z": student.decision_scores(np.array(X, np.float32), np.array(W, np.float32), b)}


def proba_probe(student, X, W, b):
    return {"p": student.predict_proba(np.array(X, np.float32), np.array(W, np.float32), b)}


def cross_entropy_probe(student, labels, p):
    return {"cost": student.cross_entropy(list(labels), list(p))}


def logits_probe(student, labels, z):
    return {"cost": student.cross_entropy_from_logits(list(labels), list(z))}


def _training(result, name):
    W, b, costs = unpack(result, 3, name)
    first = costs[0] if hasattr(costs, "__getitem__") and len(costs) else None
    return {"costs": costs, "W": W, "b": b, "costs_0": first}


def gd_probe(student, n, seed, learning_rate, epochs):
    X, labels = data(n, seed)
    return _training(student.train_gradient_descent(X, labels, learning_rate, epochs), "train_gradient_descent")


def sgd_probe(student, n, seed, learning_rate, epochs, batch_size, order_seed):
    X, labels = data(n, seed)
    return _training(student.train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, order_seed),
                     "train_minibatch_sgd")


def momentum_probe(student, n, seed, learning_rate, momentum, epochs):
    X, labels = data(n, seed)
    return _training(student.train_momentum(X, labels, learning_rate, momentum, epochs), "train_momentum")


def step_size_probe(student, alpha, n, i, *more):
    """The step sizes for (alpha, n, i) and each further (alpha, n, i) of ``more``: the first case's
    inputs are named, so a check may declare n and i swappable."""
    return {"alpha_i": [student.decayed_step_size(a, m, k) for a, m, k in ((alpha, n, i), *more)]}


def accuracy_probe(student, n, seed, W, b):
    X, labels = data(n, seed)
    value = student.accuracy(X, labels, np.array(W, np.float32), b)
    if number_like(value) is None:
        raise WrongAnswerType(f"accuracy should return a float, got {type(value).__name__}")
    return {"accuracy": value}


def number_like(value):
    try:
        return float(np.asarray(value.numpy() if hasattr(value, "numpy") else value).reshape(()))
    except Exception:
        return None


# ---------------------------------------------------------------- rules

TRAINING_RULES = [Close("costs", label="the costs", **TRAIN), Close("W", label="W", **TRAIN),
                  Close("b", label="b", **TRAIN)]


def first_cost_at_zeros(actual, expected, hidden=False):
    """costs[0] is the cost of the all-zero start, n·log 2 (the reference's costs[0]): a random
    start, a cost recorded after its step or a mean cost all miss it, and this says what it must be."""
    first, want = number(actual.get("costs_0")), number(expected.get("costs_0"))
    if first is not None and abs(first - want) <= TRAIN["atol"] + TRAIN["rtol"] * abs(want):
        return None
    if hidden:
        return ("costs[0] is not the cost before the first step from W = 0, b = 0: there every probability is "
                "0.5, so costs[0] must be n·log 2")
    got = "missing" if first is None else f"{first:.4f}"
    return (f"costs[0] is {got}; at W = 0, b = 0 every probability is 0.5, so costs[0], the cost before the "
            f"first step, must be n·log 2 = {want:.4f}")


def in_unit_interval(actual, expected, hidden=False):  # a fixed message: safe for hidden checks
    value = number(actual.get("accuracy"))
    if value is None or not 0.0 <= value <= 1.0:
        return "accuracy must be a fraction between 0 and 1"
    return None


# ---------------------------------------------------------------- public checks

CHECKS = [
    Check("make_dataset", "small", dataset_probe, (20, 0),
          [Close("X", dtype="float32", rtol=1e-6, atol=1e-7, label="X"),
           Close("labels", dtype="float32", rtol=0, atol=0, label="labels")],
          explain="n = 20, seed = 0: shapes, float32 dtypes, values"),
    Check("decision_scores", "lecture_line", scores_probe,
          ([[0.0, 0.0], [1.0, 1.0], [-0.5, 0.25]], [[1.23], [1.0]], -0.55),
          [Close("z", label="the scores", **F32)], explain="W = [[1.23], [1.0]], b = -0.55"),
    Check("predict_proba", "lecture_line", proba_probe, ([[0.0, 0.55], [1.0, 1.0]], [[1.23], [1.0]], -0.55),
          [Close("p", label="the probabilities", **F32)], explain="a point on the line gets 0.5"),
    Check("cross_entropy", "three_points", cross_entropy_probe, ([1.0, 0.0, 1.0], [0.9, 0.2, 0.3]),
          [Close("cost", scalar=True, label="the cost", **SUM)], explain="-(log 0.9 + log 0.8 + log 0.3)"),
    Check("cross_entropy_from_logits", "one_large_score", logits_probe,
          ([1.0, 0.0, 1.0, 0.0], [2.0, -1.0, -0.5, 40.0]),
          [Close("cost", scalar=True, label="the cost", **SUM)], explain="scores 2, -1, -0.5 and 40",
          swappable=("labels", "z")),
    Check("train_gradient_descent", "ten_steps", gd_probe, (50, 3, 0.1, 10),
          [Property(first_cost_at_zeros), *TRAINING_RULES], points=2,
          explain="10 full-batch steps with learning rate 0.1"),
    Check("train_minibatch_sgd", "batches_of_8", sgd_probe, (50, 3, 0.1, 3, 8, 0), TRAINING_RULES,
          explain="3 epochs, batches of 8 out of 50 points (the last batch has 2)"),
    Check("train_momentum", "ten_steps", momentum_probe, (50, 3, 0.05, 0.9, 10), TRAINING_RULES,
          explain="10 steps, learning rate 0.05, momentum 0.9", swappable=("learning_rate", "momentum")),
    Check("decayed_step_size", "example", step_size_probe, (0.5, 100, 4),
          [Close("alpha_i", rtol=1e-7, atol=0, label="the step size")], explain="0.5 / (100 * sqrt(4))",
          swappable=("n", "i")),
    Check("accuracy", "lecture_line", accuracy_probe, (100, 4, [[1.0], [-0.8]], -0.1),
          [Property(in_unit_interval), Close("accuracy", scalar=True, rtol=0, atol=1e-6, label="the accuracy")],
          explain="a line close to the one that made the labels"),
]
