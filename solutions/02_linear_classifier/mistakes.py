"""Known mistakes in 02_linear_classifier, named in feedback when an answer reproduces them."""

from autograder.authoring import Mistake

_GD_GRAPH = """
    graph = tf.Graph()
    with graph.as_default():
        X_in = tf.compat.v1.placeholder(tf.float32, shape=[None, 2])
        l_in = tf.compat.v1.placeholder(tf.float32, shape=[None])
        W = tf.Variable(tf.zeros([2, 1]))
        b = tf.Variable(tf.zeros([1]))
        z = tf.reduce_sum(tf.matmul(X_in, W), axis=1) + b
        cost = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=l_in, logits=z))
        step = tf.compat.v1.train.GradientDescentOptimizer(learning_rate).minimize(cost)
        init = tf.compat.v1.global_variables_initializer()
"""

# Full-batch training: the cost before each step, as the exercise asks.
_GD_LOOP = """
    feed = {X_in: np.asarray(X, np.float32), l_in: np.asarray(labels, np.float32)}
    costs = []
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(epochs):
            costs.append(sess.run(cost, feed_dict=feed))
            sess.run(step, feed_dict=feed)
        return sess.run(W), sess.run(b), np.array(costs, np.float32)
"""

MISTAKES = [
    Mistake("make_dataset", "float64_data",
            "the data are float64: TensorFlow's default float is float32 and it does not mix the two in one op; "
            "convert with .astype(np.float32)",
            """
def make_dataset(n, seed):
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2))
    return X, (X[:, 1] + 1.23 * X[:, 0] - 0.55 > 0).astype(np.float64)
"""),
    Mistake("make_dataset", "flipped_labels",
            "the labels are flipped: label 1 goes where x2 + 1.23*x1 - 0.55 > 0",
            """
def make_dataset(n, seed):
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2))
    return X.astype(np.float32), (X[:, 1] + 1.23 * X[:, 0] - 0.55 < 0).astype(np.float32)
"""),
    Mistake("make_dataset", "swapped_features",
            "x1 and x2 are swapped in the labelling rule: label 1 where x2 + 1.23*x1 - 0.55 > 0 "
            "(x1 is X[:, 0], x2 is X[:, 1])",
            """
def make_dataset(n, seed):
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2)).astype(np.float32)
    return X, (X[:, 0] + 1.23 * X[:, 1] - 0.55 > 0).astype(np.float32)
"""),
    Mistake("make_dataset", "legacy_global_rng",
            "X comes from the legacy global generator (np.random.seed, then np.random.uniform), which draws other "
            "numbers than the exercise's: draw X with np.random.default_rng(seed).uniform(-1, 1, size=(n, 2))",
            """
def make_dataset(n, seed):
    np.random.seed(seed)
    X = np.random.uniform(-1, 1, size=(n, 2))
    labels = (X[:, 1] + 1.23 * X[:, 0] - 0.55 > 0)
    return X.astype(np.float32), labels.astype(np.float32)
"""),
    Mistake("decision_scores", "missing_bias", "the bias b is missing: z = X·W + b",
            """
def decision_scores(X, W, b):
    return tf.reduce_sum(tf.matmul(tf.constant(X, tf.float32), tf.constant(W, tf.float32)), axis=1).numpy()
"""),
    Mistake("decision_scores", "bias_twice", "the bias b is added twice: z = X·W + b, with one b",
            """
def decision_scores(X, W, b):
    X = tf.constant(X, tf.float32)
    b = tf.reshape(tf.constant(b, tf.float32), [])
    return (tf.reduce_sum(tf.matmul(X, tf.constant(W, tf.float32)), axis=1) + b + b).numpy()
"""),
    Mistake("predict_proba", "no_sigmoid", "these are the scores z, not probabilities: apply tf.sigmoid",
            """
def predict_proba(X, W, b):
    X = tf.constant(X, tf.float32)
    return (tf.reduce_sum(tf.matmul(X, tf.constant(W, tf.float32)), axis=1)
            + tf.reshape(tf.constant(b, tf.float32), [])).numpy()
"""),
    Mistake("predict_proba", "tanh_instead_of_sigmoid",
            "tanh is not the sigmoid: its values lie between -1 and 1 and a point on the line gets 0 instead of 0.5; "
            "use tf.sigmoid(z), that is 1 / (1 + exp(-z))",
            """
def predict_proba(X, W, b):
    X = tf.constant(X, tf.float32)
    z = tf.reduce_sum(tf.matmul(X, tf.constant(W, tf.float32)), axis=1) + tf.reshape(tf.constant(b, tf.float32), [])
    return tf.tanh(z).numpy()
"""),
    Mistake("cross_entropy", "mean_instead_of_sum",
            "this is the mean over the points; the lecture's cost is the sum (tf.reduce_sum, not tf.reduce_mean)",
            """
def cross_entropy(labels, p):
    labels = tf.constant(labels, tf.float64)
    p = tf.constant(p, tf.float64)
    return float(-tf.reduce_mean(labels * tf.math.log(p) + (1 - labels) * tf.math.log(1 - p)))
"""),
    Mistake("cross_entropy", "swapped_arguments",
            "labels and probabilities are swapped: the cost is -sum(l*log(p) + (1-l)*log(1-p))",
            """
def cross_entropy(labels, p):
    labels, p = tf.constant(p, tf.float64), tf.constant(labels, tf.float64)
    return float(-tf.reduce_sum(labels * tf.math.log(p) + (1 - labels) * tf.math.log(1 - p)))
"""),
    Mistake("cross_entropy", "log_base_2",
            "the cost uses log base 2 (np.log2), which divides it by ln 2; the cross-entropy uses the natural log: "
            "tf.math.log or np.log",
            """
def cross_entropy(labels, p):
    labels = np.asarray(labels, np.float64)
    p = np.asarray(p, np.float64)
    return float(-np.sum(labels * np.log2(p) + (1 - labels) * np.log2(1 - p)))
"""),
    Mistake("cross_entropy", "log_base_10",
            "the cost uses log base 10 (np.log10), which divides it by ln 10; the cross-entropy uses the natural "
            "log: tf.math.log or np.log",
            """
def cross_entropy(labels, p):
    labels = np.asarray(labels, np.float64)
    p = np.asarray(p, np.float64)
    return float(-np.sum(labels * np.log10(p) + (1 - labels) * np.log10(1 - p)))
"""),
    Mistake("cross_entropy_from_logits", "unstable_log",
            "log(sigmoid(z)) overflows for large |z| and gives inf or nan; compute the cost from the scores "
            "(tf.nn.sigmoid_cross_entropy_with_logits or max(z,0) - z*l + log(1+exp(-|z|)))",
            """
def cross_entropy_from_logits(labels, z):
    labels = tf.constant(labels, tf.float32)
    p = tf.sigmoid(tf.constant(z, tf.float32))
    return float(-tf.reduce_sum(labels * tf.math.log(p) + (1 - labels) * tf.math.log(1 - p)))
"""),
    Mistake("train_gradient_descent", "cost_after_step",
            "each cost is recorded after its step; costs[i] must be the cost before step i "
            "(costs[0] is the cost of the all-zero model)",
            """
def train_gradient_descent(X, labels, learning_rate, epochs):""" + _GD_GRAPH + """
    feed = {X_in: np.asarray(X, np.float32), l_in: np.asarray(labels, np.float32)}
    costs = []
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(epochs):
            sess.run(step, feed_dict=feed)
            costs.append(sess.run(cost, feed_dict=feed))
        return sess.run(W), sess.run(b), np.array(costs, np.float32)
"""),
    Mistake("train_gradient_descent", "weights_of_shape_2",
            "W has shape [2] instead of [2, 1]: make it a column so X·W is a matrix product",
            """
def train_gradient_descent(X, labels, learning_rate, epochs):
    graph = tf.Graph()
    with graph.as_default():
        X_in = tf.compat.v1.placeholder(tf.float32, shape=[None, 2])
        l_in = tf.compat.v1.placeholder(tf.float32, shape=[None])
        W = tf.Variable(tf.zeros([2]))
        b = tf.Variable(tf.zeros([1]))
        z = tf.linalg.matvec(X_in, W) + b
        cost = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=l_in, logits=z))
        step = tf.compat.v1.train.GradientDescentOptimizer(learning_rate).minimize(cost)
        init = tf.compat.v1.global_variables_initializer()
    feed = {X_in: np.asarray(X, np.float32), l_in: np.asarray(labels, np.float32)}
    costs = []
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(epochs):
            costs.append(sess.run(cost, feed_dict=feed))
            sess.run(step, feed_dict=feed)
        return sess.run(W), sess.run(b), np.array(costs, np.float32)
"""),
    Mistake("train_gradient_descent", "mean_cost",
            "the cost is the mean over the points, so every step is n times smaller; minimise (and record) "
            "the summed cross-entropy",
            """
def train_gradient_descent(X, labels, learning_rate, epochs):""" + _GD_GRAPH.replace(
                "cost = tf.reduce_sum(", "cost = tf.reduce_mean(") + _GD_LOOP),
    Mistake("train_gradient_descent", "random_start",
            "W and b start at random values; they must start at zeros. The clue is costs[0]: at W = 0, b = 0 every "
            "probability is 0.5, so the cost before the first step is n·log 2",
            """
def train_gradient_descent(X, labels, learning_rate, epochs):""" + _GD_GRAPH.replace(
                "W = tf.Variable(tf.zeros([2, 1]))", "W = tf.Variable(tf.random.normal([2, 1], seed=0))").replace(
                "b = tf.Variable(tf.zeros([1]))", "b = tf.Variable(tf.random.normal([1], seed=1))") + _GD_LOOP),
    Mistake("train_minibatch_sgd", "same_permutation",
            "every epoch uses the same order: shuffle epoch e with np.random.default_rng(seed + e)",
            """
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32)
    labels = np.asarray(labels, np.float32)
    n = len(X)""" + _GD_GRAPH + """
    costs = []
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        for e in range(epochs):
            order = np.random.default_rng(seed).permutation(n)
            for k in range(0, n, batch_size):
                idx = order[k:k + batch_size]
                sess.run(step, feed_dict={X_in: X[idx], l_in: labels[idx]})
            costs.append(sess.run(cost, feed_dict={X_in: X, l_in: labels}))
        return sess.run(W), sess.run(b), np.array(costs, np.float32)
"""),
    Mistake("train_minibatch_sgd", "drops_last_batch",
            "the last, shorter batch is skipped: when batch_size does not divide n, train on the remainder too",
            """
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32)
    labels = np.asarray(labels, np.float32)
    n = len(X)""" + _GD_GRAPH + """
    costs = []
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        for e in range(epochs):
            order = np.random.default_rng(seed + e).permutation(n)
            for k in range(0, n - batch_size + 1, batch_size):
                idx = order[k:k + batch_size]
                sess.run(step, feed_dict={X_in: X[idx], l_in: labels[idx]})
            costs.append(sess.run(cost, feed_dict={X_in: X, l_in: labels}))
        return sess.run(W), sess.run(b), np.array(costs, np.float32)
"""),
    Mistake("train_minibatch_sgd", "one_generator_for_all_epochs",
            "the epochs' orders come from one generator created once, before the epoch loop; each epoch needs its "
            "own: epoch e visits np.random.default_rng(seed + e).permutation(n)",
            """
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32)
    labels = np.asarray(labels, np.float32)
    n = len(X)""" + _GD_GRAPH + """
    costs = []
    rng = np.random.default_rng(seed)
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        for e in range(epochs):
            order = rng.permutation(n)
            for k in range(0, n, batch_size):
                idx = order[k:k + batch_size]
                sess.run(step, feed_dict={X_in: X[idx], l_in: labels[idx]})
            costs.append(sess.run(cost, feed_dict={X_in: X, l_in: labels}))
        return sess.run(W), sess.run(b), np.array(costs, np.float32)
"""),
    Mistake("train_minibatch_sgd", "last_batch_cost",
            "costs[e] is the cost of the epoch's last minibatch; record the cost of all the data after each epoch "
            "(run the cost once more, after the batches, feeding the whole X and labels)",
            """
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32)
    labels = np.asarray(labels, np.float32)
    n = len(X)""" + _GD_GRAPH + """
    costs = []
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        for e in range(epochs):
            order = np.random.default_rng(seed + e).permutation(n)
            for k in range(0, n, batch_size):
                idx = order[k:k + batch_size]
                _, last = sess.run([step, cost], feed_dict={X_in: X[idx], l_in: labels[idx]})
            costs.append(last)
        return sess.run(W), sess.run(b), np.array(costs, np.float32)
"""),
    Mistake("train_momentum", "no_momentum",
            "this is plain gradient descent: use tf.compat.v1.train.MomentumOptimizer(learning_rate, momentum)",
            """
def train_momentum(X, labels, learning_rate, momentum, epochs):""" + _GD_GRAPH + _GD_LOOP),
    Mistake("decayed_step_size", "no_square_root", "the step number i needs a square root: alpha / (n * sqrt(i))",
            """
def decayed_step_size(alpha, n, i):
    return alpha / (n * i)
"""),
    Mistake("decayed_step_size", "precedence",
            "alpha / n * sqrt(i) multiplies by sqrt(i): Python reads a / b * c as (a / b) * c; "
            "write alpha / (n * sqrt(i))",
            """
def decayed_step_size(alpha, n, i):
    return float(alpha / n * np.sqrt(i))
"""),
    Mistake("accuracy", "score_threshold",
            "the score z was compared with 0.5; predict class 1 when the probability sigmoid(z) exceeds 0.5 "
            "(that is, when z > 0)",
            """
def accuracy(X, labels, W, b):
    z = decision_scores(X, W, b)
    return float(np.mean((z > 0.5).astype(np.float32) == np.asarray(labels, np.float32)))
"""),
    Mistake("accuracy", "column_against_labels",
            "the predictions have shape [n, 1] and the labels [n]: == broadcasts them to an n×n table, so its mean "
            "is not the accuracy; flatten the predictions to shape [n] first (tf.reshape(p, [-1]) or p[:, 0])",
            """
def accuracy(X, labels, W, b):
    z = tf.matmul(tf.constant(X, tf.float32), tf.constant(W, tf.float32)) + tf.reshape(tf.constant(b, tf.float32), [])
    predictions = (tf.sigmoid(z).numpy() > 0.5).astype(np.float32)
    return float(np.mean(predictions == np.asarray(labels, np.float32)))
"""),
]
