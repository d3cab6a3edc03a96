"""Known mistakes in 03_deep_network, named in feedback when an answer reproduces them.

The network exercises are judged by properties (see checks.py), and a property that fails
whatever the reference did (a missing ReLU, accuracies that are not test accuracies) names
its mistake itself: for those the message here is the catalogue's account of the mistake,
and checks.py's wording is what a student reads. A mistake whose values a check compares
with the reference (the compiled loss's values, the number of optimizer steps) is named
here as for the deterministic exercises."""

from autograder.authoring import Mistake

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
    Mistake("build_mlp", "separate_activation_layer",
            "the ReLU is a separate keras.layers.Activation('relu') layer after a linear Dense layer; the assignment "
            "asks for Dense layers only, with the activation inside each one: Dense(units, activation='relu')",
            """
def build_mlp(hidden_units, seed):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(shape=(2,))]
    for units in hidden_units:
        layers += [keras.layers.Dense(units), keras.layers.Activation("relu")]
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return model
"""),
    Mistake("build_mlp", "sigmoid_twice",
            "the loss is compiled with from_logits=True, so it applies a second sigmoid to the output layer's "
            "probabilities: keep Dense(1, activation='sigmoid') and compile with loss='binary_crossentropy' "
            "(from_logits=False, the default)",
            """
def build_mlp(hidden_units, seed):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(shape=(2,))]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden_units]
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model
"""),
    Mistake("train_mlp", "default_batch_size",
            "model.fit trains on minibatches of 32 points by default, several optimizer steps per epoch; the "
            "exercise asks for full-batch training, one step per epoch: model.fit(..., batch_size=len(X))",
            """
def train_mlp(X, labels, hidden_units, epochs, learning_rate, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(2,))]
                             + [keras.layers.Dense(units, activation="relu") for units in hidden_units]
                             + [keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(np.asarray(X, np.float32), np.asarray(labels, np.float32), epochs=epochs, verbose=0)
    return model, [float(v) for v in history.history["loss"]]
"""),
    Mistake("linear_vs_deep", "training_accuracy",
            "the accuracies are measured on the training data; the comparison is on points the models never saw: "
            "predict X_test and compare with y_test",
            """
def linear_vs_deep(X_train, y_train, X_test, y_test, seed):
    def train_accuracy(hidden_units):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input(shape=(2,))]
                                 + [keras.layers.Dense(units, activation="relu") for units in hidden_units]
                                 + [keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
        model.fit(np.asarray(X_train, np.float32), np.asarray(y_train, np.float32), epochs=30,
                  batch_size=len(X_train), verbose=0, shuffle=False)
        predictions = model.predict(np.asarray(X_train, np.float32), verbose=0).reshape(-1) > 0.5
        return float(np.mean(predictions == (np.asarray(y_train) > 0.5)))

    return {"linear": train_accuracy([]), "deep": train_accuracy([16, 16])}
"""),
]
