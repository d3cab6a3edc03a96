"""Known mistakes in 03_deep_network, named in feedback when an answer reproduces them.

The network exercises name their mistakes through their properties (see checks.py);
these are the deterministic ones."""

from autograder.spec import Mistake

MISTAKES = [
    Mistake("polynomial_features", "increasing_x1_power",
            "within each degree the monomials must go by decreasing power of x1 (x1^2, x1*x2, x2^2)",
            """
def polynomial_features(X, degree):
    X = np.asarray(X, dtype=np.float32)
    cols = [X[:, 0] ** i * X[:, 1] ** (d - i) for d in range(1, degree + 1) for i in range(0, d + 1)]
    return np.stack(cols, axis=1)
"""),
    Mistake("polynomial_features", "constant_column",
            "the constant monomial (degree 0) is included; start at total degree 1",
            """
def polynomial_features(X, degree):
    X = np.asarray(X, dtype=np.float32)
    cols = [X[:, 0] ** i * X[:, 1] ** (d - i) for d in range(0, degree + 1) for i in range(d, -1, -1)]
    return np.stack(cols, axis=1)
"""),
    Mistake("make_driving_data", "uniform_draw",
            "the energies must be drawn with .normal(size=(n, 2)), not .uniform",
            """
def make_driving_data(n, seed):
    X = np.random.default_rng(seed).uniform(size=(n, 2))
    return X.astype(np.float32), (X[:, 0] ** 2 + X[:, 1] ** 2 > 1).astype(np.float32)
"""),
    Mistake("make_driving_data", "float64_data",
            "the data are float64: convert X and the labels with .astype(np.float32)",
            """
def make_driving_data(n, seed):
    X = np.random.default_rng(seed).normal(size=(n, 2))
    return X, (X[:, 0] ** 2 + X[:, 1] ** 2 > 1).astype(np.float64)
"""),
]
