"""02_linear_classifier: mistakes a student makes, and valid ways to be right."""

# A GradientTape training loop computing the same numbers as the v1 optimizer.
TAPE_GD = '''
def train_gradient_descent(X, labels, learning_rate, epochs):
    X = tf.constant(X, tf.float32)
    y = tf.constant(labels, tf.float32)
    W = tf.Variable(tf.zeros([2, 1]))
    b = tf.Variable(tf.zeros([1]))
    costs = []
    for _ in range(epochs):
        with tf.GradientTape() as tape:
            p = tf.sigmoid(tf.squeeze(X @ W, axis=1) + b)
            cost = -tf.reduce_sum(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))
        costs.append(cost.numpy())
        dW, db = tape.gradient(cost, [W, b])
        W.assign_sub(learning_rate * dW)
        b.assign_sub(learning_rate * db)
    return W.numpy(), b.numpy(), np.array(costs)
'''

MISTAKES = {
    # name: (exercise, source, words the feedback must contain)
    "swapped_features": ("make_dataset", '''
def make_dataset(n, seed):
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2)).astype(np.float32)
    return X, (X[:, 0] + 1.23 * X[:, 1] - 0.55 > 0).astype(np.float32)
''', "x1 and x2 are swapped"),
    "mean_cross_entropy": ("cross_entropy", '''
def cross_entropy(labels, p):
    labels, p = np.asarray(labels), np.asarray(p)
    return float(np.mean(-(labels * np.log(p) + (1 - labels) * np.log(1 - p))))
''', "mean over the points"),
    "swapped_cross_entropy": ("cross_entropy", '''
def cross_entropy(labels, p):
    l, q = np.asarray(p, np.float64), np.asarray(labels, np.float64)
    return float(-np.sum(l * np.log(q) + (1 - l) * np.log(1 - q)))
''', "labels and probabilities are swapped"),
    "missing_bias": ("decision_scores", '''
def decision_scores(X, W, b):
    return tf.squeeze(tf.matmul(X, W), axis=1)
''', "bias b is missing"),
    "unstable_logits": ("cross_entropy_from_logits", '''
def cross_entropy_from_logits(labels, z):
    p = tf.sigmoid(tf.constant(z, tf.float32))
    l = tf.constant(labels, tf.float32)
    return -tf.reduce_sum(l * tf.math.log(p) + (1 - l) * tf.math.log(1 - p)).numpy()
''', "overflows for large |z|"),
    "cost_after_step": ("train_gradient_descent", TAPE_GD.replace(
        "        costs.append(cost.numpy())\n", "").replace(
        "        b.assign_sub(learning_rate * db)\n",
        "        b.assign_sub(learning_rate * db)\n"
        "        p = tf.sigmoid(tf.squeeze(X @ W, axis=1) + b)\n"
        "        costs.append((-tf.reduce_sum(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))).numpy())\n"),
        "recorded after its step"),
    "w_shape_2": ("train_gradient_descent", TAPE_GD.replace("tf.zeros([2, 1])", "tf.zeros([2])").replace(
        "tf.squeeze(X @ W, axis=1)", "tf.linalg.matvec(X, W)"), "W has shape [2] instead of [2, 1]"),
    "same_permutation": ("train_minibatch_sgd", '''
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32); labels = np.asarray(labels, np.float32)
    W = tf.Variable(tf.zeros([2, 1])); b = tf.Variable(tf.zeros([1]))
    def cost_of(Xb, lb):
        z = tf.reshape(Xb @ W, [-1]) + b
        return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=lb, logits=z))
    order = np.random.default_rng(seed).permutation(len(X))
    costs = []
    for e in range(epochs):
        for k in range(0, len(X), batch_size):
            idx = order[k:k + batch_size]
            with tf.GradientTape() as tape:
                c = cost_of(X[idx], labels[idx])
            dW, db = tape.gradient(c, [W, b])
            W.assign_sub(learning_rate * dW); b.assign_sub(learning_rate * db)
        costs.append(cost_of(X, labels).numpy())
    return W.numpy(), b.numpy(), np.array(costs)
''', "same order"),
    "float64_dataset": ("make_dataset", '''
def make_dataset(n, seed):
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2))
    labels = np.where(X[:, 1] + 1.23 * X[:, 0] - 0.55 > 0, 1.0, 0.0)
    return X, labels
''', "float64"),
    "plain_gd_for_momentum": ("train_momentum", '''
def train_momentum(X, labels, learning_rate, momentum, epochs):
    return train_gradient_descent(X, labels, learning_rate, epochs)
''', "plain gradient descent"),
    "accuracy_on_scores": ("accuracy", '''
def accuracy(X, labels, W, b):
    pred = decision_scores(X, W, b) > 0.5
    return float((pred == (np.asarray(labels) == 1)).mean())
''', "compared with 0.5"),
    "session_mixup": ("train_gradient_descent", '''
def train_gradient_descent(X, labels, learning_rate, epochs):
    graph = tf.Graph()
    with graph.as_default():
        X_in = tf.compat.v1.placeholder(tf.float32, [None, 2]); l_in = tf.compat.v1.placeholder(tf.float32, [None])
        W = tf.Variable(tf.zeros([2, 1])); b = tf.Variable(tf.zeros([1]))
        cost = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=l_in, logits=tf.reshape(X_in @ W, [-1]) + b))
        step = tf.compat.v1.train.GradientDescentOptimizer(learning_rate).minimize(cost)
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        return sess.run(W), sess.run(b), []
''', "graph/session mix-up"),
    "legacy_seed": ("make_dataset", '''
def make_dataset(n, seed):
    np.random.seed(seed)
    X = np.random.uniform(low=-1.0, high=1.0, size=(n, 2))
    y = np.where(X[:, 1] + 1.23 * X[:, 0] - 0.55 > 0, 1.0, 0.0)
    return X.astype(np.float32), y.astype(np.float32)
''', "np.random.default_rng(seed).uniform"),
    "tanh_probabilities": ("predict_proba", '''
def predict_proba(X, W, b):
    z = np.asarray(X, np.float32) @ np.asarray(W, np.float32) + np.float32(np.reshape(b, -1)[0])
    return np.tanh(z[:, 0])
''', "tanh is not the sigmoid"),
    "log2_cross_entropy": ("cross_entropy", '''
import math
def cross_entropy(labels, p):
    total = 0.0
    for l, q in zip(labels, p):
        total -= l * math.log2(q) + (1 - l) * math.log2(1 - q)
    return total
''', "log base 2"),
    "log10_cross_entropy": ("cross_entropy", '''
def cross_entropy(labels, p):
    l = tf.constant(labels, tf.float32); q = tf.constant(p, tf.float32)
    log10 = lambda t: tf.math.log(t) / tf.math.log(10.0)
    return float(-tf.reduce_sum(l * log10(q) + (1 - l) * log10(1 - q)))
''', "log base 10"),
    "double_bias": ("decision_scores", '''
def decision_scores(X, W, b):
    z = tf.matmul(tf.cast(X, tf.float32), tf.cast(W, tf.float32)) + b
    return tf.reshape(z, [-1]) + b
''', "added twice"),
    "random_initial_weights": ("train_gradient_descent", TAPE_GD.replace(
        "W = tf.Variable(tf.zeros([2, 1]))", "W = tf.Variable(tf.random.normal([2, 1]))").replace(
        "b = tf.Variable(tf.zeros([1]))", "b = tf.Variable(tf.random.uniform([1]))"), "n·log 2"),
    "one_rng_for_all_epochs": ("train_minibatch_sgd", '''
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32); labels = np.asarray(labels, np.float32)
    W = tf.Variable(tf.zeros([2, 1])); b = tf.Variable(tf.zeros([1]))
    def cost_of(Xb, lb):
        z = tf.reshape(Xb @ W, [-1]) + b
        return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=lb, logits=z))
    rng = np.random.default_rng(seed)
    costs = []
    for e in range(epochs):
        order = rng.permutation(len(X))
        for k in range(0, len(X), batch_size):
            idx = order[k:k + batch_size]
            with tf.GradientTape() as tape:
                c = cost_of(X[idx], labels[idx])
            dW, db = tape.gradient(c, [W, b])
            W.assign_sub(learning_rate * dW); b.assign_sub(learning_rate * db)
        costs.append(cost_of(X, labels).numpy())
    return W.numpy(), b.numpy(), np.array(costs)
''', "one generator created once"),
    "cost_of_last_batch": ("train_minibatch_sgd", '''
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32); labels = np.asarray(labels, np.float32)
    W = tf.Variable(tf.zeros([2, 1])); b = tf.Variable(tf.zeros([1]))
    costs = []
    for e in range(epochs):
        order = np.random.default_rng(seed + e).permutation(len(X))
        for k in range(0, len(X), batch_size):
            idx = order[k:k + batch_size]
            with tf.GradientTape() as tape:
                z = tf.reshape(X[idx] @ W, [-1]) + b
                c = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels[idx], logits=z))
            dW, db = tape.gradient(c, [W, b])
            W.assign_sub(learning_rate * dW); b.assign_sub(learning_rate * db)
        costs.append(float(c))
    return W.numpy(), b.numpy(), np.array(costs)
''', "last minibatch"),
    "step_size_precedence": ("decayed_step_size", '''
def decayed_step_size(alpha, n, i):
    return alpha / n * i ** 0.5
''', "(a / b) * c"),
    "broadcast_accuracy": ("accuracy", '''
def accuracy(X, labels, W, b):
    p = tf.sigmoid(tf.matmul(tf.constant(X, tf.float32), tf.constant(W, tf.float32)) + b)
    return float(tf.reduce_mean(tf.cast(tf.cast(p > 0.5, tf.float32) == tf.constant(labels, tf.float32), tf.float32)))
''', "n×n"),
}

VARIATIONS = {
    # name: {exercise: source}; each must still get full marks
    "gradient_tape_training": {"train_gradient_descent": TAPE_GD},
    "logits_loss_and_float64": {
        "cross_entropy": '''
def cross_entropy(labels, p):
    l = np.asarray(labels, np.float64); p = np.asarray(p, np.float64)
    return -np.sum(l * np.log(p) + (1 - l) * np.log1p(-p))
''',
        "cross_entropy_from_logits": '''
def cross_entropy_from_logits(labels, z):
    z = np.asarray(z, np.float64); l = np.asarray(labels, np.float64)
    return float(np.sum(np.maximum(z, 0) - z * l + np.log1p(np.exp(-np.abs(z)))))
''',
        "decision_scores": '''
def decision_scores(X, W, b):
    return tf.reshape(tf.matmul(tf.cast(X, tf.float32), tf.cast(W, tf.float32)), [-1]) + tf.cast(b, tf.float32)
''',
    },
    "chatty_with_extras": {
        "decayed_step_size": '''
import warnings, sys
warnings.warn("I am a warning on stderr")
print("Score: 0/0 (just printing)")
def decayed_step_size(alpha, n, i):
    print("computing", alpha, n, i, file=sys.stderr)
    return alpha / n / i ** 0.5
''',
    },
}
