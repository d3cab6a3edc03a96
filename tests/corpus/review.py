"""Realistic mistakes that kept full marks before the course review (issue 30, items 7 and 8):
each is wrong only where no check used to look (a zero, a third decimal, the test set, a share
of the training points held out, a boundary that agrees with the circle on a few points).

Per assignment: name -> (exercise, source, words the failing public check's message contains).
tests/test_course_review.py grades them; the assignments' corpora (tests/corpus/tf_basics.py,
tests/corpus/deep_network.py) include them too.
"""

_ELEMENTWISE = '''
def elementwise_ops(a, b):
    a = tf.constant(a, dtype=tf.float32)
    b = tf.constant(b, dtype=tf.float32)
    results = {{"add": a + b, "subtract": a - b, "multiply": a * b, "divide": a / b,
               "mod": tf.math.floormod(a, b), "abs": tf.abs(a), "negative": -a, "sign": {sign},
               "reciprocal": {reciprocal}, "square": a * a, "round": tf.round(a), "sqrt": tf.sqrt(a),
               "pow": tf.pow(a, b), "exp": tf.exp(a), "log": tf.math.log(a)}}
    return {{k: v.numpy() for k, v in results.items()}}
'''

TF_BASICS = {
    # a / |a| is the sign everywhere but at 0, where it is 0 / 0 = NaN.
    "sign_as_ratio": ("elementwise_ops", _ELEMENTWISE.format(sign="a / tf.abs(a)", reciprocal="1 / a"), "'sign'"),
    # reciprocal_no_nan gives 0 where 1 / 0 is inf.
    "reciprocal_no_nan": ("elementwise_ops",
                          _ELEMENTWISE.format(sign="tf.sign(a)", reciprocal="tf.math.reciprocal_no_nan(a)"),
                          "'reciprocal'"),
    # A result "cleaned up" for printing.
    "eager_rounded": ("eager_linear", '''
def eager_linear(x, w, b):
    y = tf.add(tf.multiply(tf.constant(x, tf.float32), tf.constant(w, tf.float32)), tf.constant(b, tf.float32))
    return round(float(y), 2)
''', "rounded"),
}

_TRAIN = '''
def train_mlp(X, labels, hidden_units, epochs, learning_rate, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(2,))]
                             + [keras.layers.Dense(units, activation="relu") for units in hidden_units]
                             + [keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    history = model.fit(np.asarray(X, np.float32), np.asarray(labels, np.float32), epochs=epochs,
                        batch_size=len(X), verbose=0, {fit})
    return model, [float(v) for v in history.history["loss"]]
'''

_COMPARE = '''
def linear_vs_deep(X_train, y_train, X_test, y_test, seed):
    def accuracy(hidden_units, X_fit, y_fit):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input(shape=(2,))]
                                 + [keras.layers.Dense(units, activation="relu") for units in hidden_units]
                                 + [keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
        model.fit(np.asarray(X_fit, np.float32), np.asarray(y_fit, np.float32), epochs=30,
                  batch_size=len(X_fit), verbose=0)
        predictions = model.predict(np.asarray(X_test, np.float32), verbose=0).reshape(-1) > 0.5
        return float(np.mean(predictions == (np.asarray(y_test) > 0.5)))

    return {{"linear": accuracy([], X_train, y_train), "deep": accuracy([16, 16], {X_fit}, {y_fit})}}
'''

_DRIVING = '''
def make_driving_data(n, seed):
    X = np.random.default_rng(seed).normal(size=(n, 2))
    labels = {labels}
    return X.astype(np.float32), labels.astype(np.float32)
'''

DEEP_NETWORK = {
    # 20% of the points held out for validation: the network trains on the other 80%.
    "validation_split": ("train_mlp", _TRAIN.format(fit="validation_split=0.2"), "validation_split"),
    # Trains on the first 80% itself.
    "trains_on_a_part": ("train_mlp", _TRAIN.format(fit="shuffle=False").replace(
        "model.fit(np.asarray(X, np.float32), np.asarray(labels, np.float32)",
        "model.fit(np.asarray(X, np.float32)[:len(X) * 4 // 5], np.asarray(labels, np.float32)[:len(X) * 4 // 5]"),
        "keeps points out of training"),
    # The deep network learns the test points, then is scored on them.
    "deep_fitted_on_test": ("linear_vs_deep", _COMPARE.format(X_fit="X_test", y_fit="y_test"), "test points"),
    "deep_fitted_on_all": ("linear_vs_deep", _COMPARE.format(X_fit="np.concatenate([X_train, X_test])",
                                                             y_fit="np.concatenate([y_train, y_test])"),
                           "test points"),
    # Decision boundaries that agree with x1^2 + x2^2 > 1 on a handful of points.
    "radius_sqrt2": ("make_driving_data", _DRIVING.format(labels="X[:, 0] ** 2 + X[:, 1] ** 2 > 2"), "labels"),
    "radius_squared_half": ("make_driving_data", _DRIVING.format(labels="X[:, 0] ** 2 + X[:, 1] ** 2 > 0.5"),
                            "labels"),
    "diamond_boundary": ("make_driving_data", _DRIVING.format(labels="np.abs(X[:, 0]) + np.abs(X[:, 1]) > 1"),
                         "labels"),
    "square_boundary": ("make_driving_data", _DRIVING.format(labels="np.max(np.abs(X), axis=1) > 1"), "labels"),
}

BY_ASSIGNMENT = {"01_tf_basics": TF_BASICS, "03_deep_network": DEEP_NETWORK}
