"""03_deep_network: mistakes a student makes, and valid ways to be right."""

from tests.corpus import review

MISTAKES = {
    "poly_wrong_order": ("polynomial_features", '''
import itertools
def polynomial_features(X, degree):
    X = np.asarray(X)
    feats = []
    for d in range(1, degree + 1):
        for j in range(d + 1):
            feats.append(X[:, 0] ** (d - (d - j)) * X[:, 1] ** (d - j))
    return np.column_stack(feats)
''', "decreasing power of x1"),
    "poly_with_constant": ("polynomial_features", '''
def polynomial_features(X, degree):
    X = np.asarray(X, np.float32)
    out = [np.ones(len(X), np.float32)]
    for d in range(1, degree + 1):
        for i in range(d, -1, -1):
            out.append(X[:, 0] ** i * X[:, 1] ** (d - i))
    return np.stack(out, axis=1)
''', "constant monomial"),
    "uniform_energies": ("make_driving_data", '''
def make_driving_data(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 2))
    y = (np.sum(X ** 2, axis=1) > 1).astype(np.float32)
    return X.astype(np.float32), y
''', ".normal(size=(n, 2))"),
    "no_hidden_layers": ("build_mlp", '''
def build_mlp(hidden_units, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model
''', "no hidden layer"),
    "linear_hidden_layers": ("build_mlp", '''
def build_mlp(hidden_units, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(2,))] + [keras.layers.Dense(u) for u in hidden_units]
                             + [keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model
''', "activation='relu'"),
    "seed_not_set": ("build_mlp", '''
def build_mlp(hidden_units, seed):
    model = keras.Sequential([keras.Input(shape=(2,))] + [keras.layers.Dense(u, activation="relu") for u in hidden_units]
                             + [keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model
''', "keras.utils.set_random_seed(seed)"),
    "learning_rate_ignored": ("train_mlp", '''
def train_mlp(X, labels, hidden_units, epochs, learning_rate, seed):
    model = build_mlp(hidden_units, seed)
    model.compile(optimizer=keras.optimizers.SGD(0.0001), loss="binary_crossentropy")
    h = model.fit(X, labels, epochs=epochs, batch_size=len(X), verbose=0)
    return model, h.history["loss"]
''', "training accuracy"),
    "deep_is_linear": ("linear_vs_deep", '''
def linear_vs_deep(X_train, y_train, X_test, y_test, seed):
    def acc(model):
        return float(np.mean((model.predict(X_test, verbose=0).ravel() > 0.5) == (y_test > 0.5)))
    lin, _ = train_mlp(X_train, y_train, [], 30, 0.05, seed)
    deep, _ = train_mlp(X_train, y_train, [], 30, 0.05, seed + 1)
    return {"linear": acc(lin), "deep": acc(deep)}
''', "hidden layers"),
    # Computes the same function as Dense(u, activation="relu"), but the assignment asks for
    # Dense layers only, with the activation inside them (the checks grade the Dense layers).
    "relu_as_activation_layer": ("build_mlp", '''
def build_mlp(hidden_units, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential()
    model.add(keras.Input(shape=(2,)))
    for u in hidden_units:
        model.add(keras.layers.Dense(u))
        model.add(keras.layers.Activation("relu"))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model
''', "separate Activation layer"),
    "double_sigmoid": ("build_mlp", '''
def build_mlp(hidden_units, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(2,))] + [keras.layers.Dense(u, activation="relu") for u in hidden_units]
                             + [keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model
''', "from_logits=True"),
    "default_batch_size": ("train_mlp", '''
def train_mlp(X, labels, hidden_units, epochs, learning_rate, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(2,))] + [keras.layers.Dense(u, activation="relu") for u in hidden_units]
                             + [keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="binary_crossentropy")
    history = model.fit(X, labels, epochs=epochs, verbose=0)
    return model, history.history["loss"]
''', "batch_size=len(X)"),
    "accuracy_on_training_set": ("linear_vs_deep", '''
def linear_vs_deep(X_train, y_train, X_test, y_test, seed):
    scores = {}
    for name, units in (("linear", []), ("deep", [16, 16])):
        model, _ = train_mlp(X_train, y_train, units, 30, 0.05, seed)
        predicted = (model.predict(X_train, verbose=0)[:, 0] > 0.5).astype(np.float32)
        scores[name] = float(np.mean(predicted == y_train))
    return scores
''', "not the test accuracies"),
    # Fewer epochs than asked: caught by the count of losses, whatever the epochs of the check.
    "train_caps_epochs": ("train_mlp", '''
def train_mlp(X, labels, hidden_units, epochs, learning_rate, seed):
    model = build_mlp(hidden_units, seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    history = model.fit(X, labels, epochs=min(epochs, 10), batch_size=len(X), verbose=0)
    return model, history.history["loss"]
''', "one per epoch"),
    # No non-linearity in train_mlp's own network (its build_mlp may be right).
    "train_without_relu": ("train_mlp", '''
def train_mlp(X, labels, hidden_units, epochs, learning_rate, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(2,))] + [keras.layers.Dense(u) for u in hidden_units]
                             + [keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    history = model.fit(X, labels, epochs=epochs, batch_size=len(X), verbose=0)
    return model, history.history["loss"]
''', "activation='relu'"),
}

# The course review's mistakes (issue 30, items 7 and 8), graded on their own by tests/test_course_review.py.
MISTAKES.update(review.DEEP_NETWORK)

VARIATIONS = {
    "functional_api_and_own_settings": {
        "build_mlp": '''
def build_mlp(hidden_units, seed):
    tf.keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(2,))
    h = inputs
    for u in hidden_units:
        h = keras.layers.Dense(u, activation=tf.nn.relu)(h)
    outputs = keras.layers.Dense(1, activation="sigmoid")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss=keras.losses.BinaryCrossentropy())
    print(model.summary())
    return model
''',
        "linear_vs_deep": '''
def linear_vs_deep(X_train, y_train, X_test, y_test, seed):
    results = {}
    for name, units, epochs in (("linear", [], 150), ("deep", [32, 16], 150)):
        model, losses = train_mlp(X_train, y_train, units, epochs, 0.03, seed)
        p = model.predict(X_test, verbose=0)[:, 0]
        results[name] = float(((p > 0.5) == y_test.astype(bool)).mean())
    plt.plot(losses); plt.close()
    return results
''',
    },
    # Slower than model.fit (eager steps), and right: must keep full marks within its time limit.
    "gradient_tape_training": {
        "train_mlp": '''
def train_mlp(X, labels, hidden_units, epochs, learning_rate, seed):
    model = build_mlp(hidden_units, seed)
    optimizer = keras.optimizers.Adam(learning_rate)
    loss_fn = keras.losses.BinaryCrossentropy()
    X = tf.constant(X, tf.float32)
    y = tf.reshape(tf.constant(labels, tf.float32), (-1, 1))
    losses = []
    for _ in range(epochs):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(X, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
    return model, losses
''',
    },
}
