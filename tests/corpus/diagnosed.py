"""Realistic mistakes no catalogue entry names, written from the kinds students make (a sign
flipped, a column for a vector, a constant factor, an off-by-one in the steps, outputs
swapped...): the feedback must name each one from the numbers alone (autograder.checks.diagnosis).

Per assignment: name -> (exercise, source, words the failing public check's message contains).
The swapped-input ones are named from the solution's values on the check's inputs exchanged (a
check's ``swappable``), computed in the reference run.
"""

_GD = '''
def {name}(X, labels, learning_rate, {extra}epochs):
    graph = tf.Graph()
    with graph.as_default():
        X_in = tf.compat.v1.placeholder(tf.float32, shape=[None, 2])
        l_in = tf.compat.v1.placeholder(tf.float32, shape=[None])
        W = tf.Variable(tf.zeros([2, 1]))
        b = tf.Variable(tf.zeros([1]))
        z = tf.reduce_sum(tf.matmul(X_in, W), axis=1) + b
        cost = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=l_in, logits=z))
        step = {optimizer}.minimize(cost)
        init = tf.compat.v1.global_variables_initializer()
    feed = {{X_in: np.asarray(X, np.float32), l_in: np.asarray(labels, np.float32)}}
    costs = []
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range({steps}):
            costs.append(sess.run(cost, feed_dict=feed))
            sess.run(step, feed_dict=feed)
{after}        W_val, b_val = sess.run([W, b])
    return {returned}
'''


def _gd(steps="epochs", after="", returned="W_val, b_val, np.array(costs, dtype=np.float32)", momentum=False,
        optimizer="tf.compat.v1.train.MomentumOptimizer(learning_rate, momentum)"):
    if momentum:
        return _GD.format(name="train_momentum", extra="momentum, ", steps=steps, after=after, returned=returned,
                          optimizer=optimizer)
    return _GD.format(name="train_gradient_descent", extra="", steps=steps, after=after, returned=returned,
                      optimizer="tf.compat.v1.train.GradientDescentOptimizer(learning_rate)")


_ELEMENTWISE = '''
def elementwise_ops(a, b):
    a, b = tf.constant({first}, dtype=tf.float32), tf.constant({second}, dtype=tf.float32)
    results = {{"add": a + b, "subtract": {subtract}, "multiply": a * b, "divide": {divide},
               "mod": {mod}, "abs": tf.abs(a), "negative": -a, "sign": tf.sign(a),
               "reciprocal": 1 / a, "square": a * a, "round": tf.round(a), "sqrt": tf.sqrt(a),
               "pow": {pow}, "exp": tf.exp(a), "log": {log}}}
    return {{k: v.numpy() for k, v in results.items()}}
'''


def _elementwise(**ops):
    """elementwise_ops written right but for ``ops`` (the operations' expressions, or the two
    inputs' names: ``first``, ``second``)."""
    right = dict(first="a", second="b", subtract="a - b", divide="a / b", mod="tf.math.floormod(a, b)",
                 pow="tf.pow(a, b)", log="tf.math.log(a)")
    return _ELEMENTWISE.format(**{**right, **ops})


_SWAPPED = "is what the reference solution gives with `{}` and `{}` swapped"
_ALL_SWAPPED = "Your function gives what the reference solution gives with `{}` and `{}` swapped"

_MINIBATCH = '''
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32)
    labels = np.asarray(labels, np.float32)
    n = len(X)
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
    costs = []
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
{before}        for e in range(epochs):
            order = np.random.default_rng(seed + e).permutation(n)
            for k in range(0, n, batch_size):
                idx = order[k:k + batch_size]
                sess.run(step, feed_dict={{X_in: X[idx], l_in: labels[idx]}})
            costs.append(sess.run(cost, feed_dict={{X_in: X, l_in: labels}}))
        W_val, b_val = sess.run([W, b])
    return W_val, b_val, {costs}
'''

_SCORES = '''
def decision_scores(X, W, b):
    X = tf.constant(X, tf.float32)
    W = tf.constant(W, tf.float32)
    b = tf.reshape(tf.constant(b, tf.float32), [])
    return ({expr}).numpy()
'''

_PROBA = '''
def predict_proba(X, W, b):
    X = tf.constant(X, tf.float32)
    z = {z}
    return tf.sigmoid({arg}).numpy()
'''

_ACCURACY = '''
def accuracy(X, labels, W, b):
    X = tf.constant(X, tf.float32)
    z = tf.reduce_sum(tf.matmul(X, tf.constant(W, tf.float32)), axis=1) + tf.reshape(tf.constant(b, tf.float32), [])
    predictions = (tf.sigmoid(z).numpy() {compare} 0.5).astype(np.float32)
    return float({scale}np.mean(predictions {equal} np.asarray(labels, np.float32)))
'''

_DATASET = '''
def make_dataset(n, seed):
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2))
    labels = (X[:, 1] + 1.23 * X[:, 0] - 0.55 {compare} 0)
    return X.astype(np.float32){x_after}, labels.astype(np.float32){labels_after}
'''

_Z = "tf.reduce_sum(tf.matmul(X, tf.constant(W, tf.float32)), axis=1) + tf.reshape(tf.constant(b, tf.float32), [])"

TF_BASICS = {
    "row_output": ("feed_placeholder", '''
def feed_placeholder(xs, w=6.0, b=1.5):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, shape=[1, None])
        y = x * w + b
    with tf.compat.v1.Session(graph=graph) as sess:
        return sess.run(y, feed_dict={x: np.asarray(xs, np.float32).reshape(1, -1)})
''', "as a row of shape"),
    "subtract_reversed": ("elementwise_ops", _elementwise(subtract="b - a"), _SWAPPED.format("a", "b")),
    "log_base_10": ("elementwise_ops", _elementwise(log="tf.math.log(a) / tf.math.log(10.0)"),
                    "a base-10 logarithm where the natural one is expected"),
    "log_base_2": ("elementwise_ops", _elementwise(log="tf.math.log(a) / tf.math.log(2.0)"),
                   "a base-2 logarithm"),
    "unique_values_not_shapes": ("unique_shapes", '''
def unique_shapes(values):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.int32, shape=[len(values)])
        y, _ = tf.unique(x)
    with tf.compat.v1.Session(graph=graph) as sess:
        found = sess.run(y, feed_dict={x: values})
    return tuple(y.shape.as_list()), tuple(int(v) for v in found)
''', "holds values where their shape is asked"),
    # Two inputs used the other way round: the check declares swappable=("a", "b").
    "divide_operands_swapped": ("elementwise_ops", _elementwise(divide="b / a"), _SWAPPED.format("a", "b")),
    "pow_operands_swapped": ("elementwise_ops", _elementwise(pow="tf.pow(b, a)"), _SWAPPED.format("a", "b")),
    "mod_operands_swapped": ("elementwise_ops", _elementwise(mod="tf.math.floormod(b, a)"),
                             _SWAPPED.format("a", "b")),
    "inputs_swapped_on_conversion": ("elementwise_ops", _elementwise(first="b", second="a"),
                                     _ALL_SWAPPED.format("a", "b")),
}

LINEAR_CLASSIFIER = {
    "dataset_transposed": ("make_dataset", _DATASET.format(compare=">", x_after=".T", labels_after=""),
                           "transposed"),
    "labels_as_column": ("make_dataset", _DATASET.format(compare=">", x_after="", labels_after=".reshape(-1, 1)"),
                         "as a column of shape"),
    "scores_as_column": ("decision_scores", _SCORES.format(expr="tf.matmul(X, W) + b"), "as a column of shape"),
    "bias_subtracted": ("decision_scores", _SCORES.format(expr="tf.reduce_sum(tf.matmul(X, W), axis=1) - b"),
                        "a constant term is added or missing"),
    "scores_as_row": ("decision_scores", _SCORES.format(expr="tf.matmul(tf.transpose(W), tf.transpose(X)) + b"),
                      "as a row of shape"),
    "sigmoid_of_minus_z": ("predict_proba", _PROBA.format(z=_Z, arg="-z"), "sigmoid(-z) = 1 - sigmoid(z)"),
    "proba_as_column": ("predict_proba", _PROBA.format(
        z="tf.matmul(X, tf.constant(W, tf.float32)) + tf.reshape(tf.constant(b, tf.float32), [])", arg="z"),
        "as a column of shape"),
    "cost_without_minus": ("cross_entropy", '''
def cross_entropy(labels, p):
    labels = tf.constant(labels, tf.float64)
    p = tf.constant(p, tf.float64)
    return float(tf.reduce_sum(labels * tf.math.log(p) + (1 - labels) * tf.math.log(1 - p)))
''', "is the negative of the expected value"),
    "logits_cost_negated": ("cross_entropy_from_logits", '''
def cross_entropy_from_logits(labels, z):
    labels = tf.constant(labels, tf.float64)
    z = tf.constant(z, tf.float64)
    return float(-tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=z)))
''', "is the negative of the expected value"),
    "logits_cost_in_bits": ("cross_entropy_from_logits", '''
def cross_entropy_from_logits(labels, z):
    labels = tf.constant(labels, tf.float64)
    z = tf.constant(z, tf.float64)
    per_point = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=z)
    return float(tf.reduce_sum(per_point) / tf.math.log(tf.constant(2.0, tf.float64)))
''', "a base-2 logarithm"),
    "gd_one_step_short": ("train_gradient_descent", _gd(steps="epochs - 1"), "the last step is missing"),
    "gd_cost_after_the_last_step": ("train_gradient_descent", _gd(
        after="        costs.append(sess.run(cost, feed_dict=feed))\n"), "one step too many at the end"),
    "gd_costs_as_column": ("train_gradient_descent", _gd(
        returned="W_val, b_val, np.array(costs, dtype=np.float32).reshape(-1, 1)"), "as a column of shape"),
    "gd_weights_as_row": ("train_gradient_descent", _gd(
        returned="W_val.T, b_val, np.array(costs, dtype=np.float32)"), "transposed"),
    "minibatch_initial_cost": ("train_minibatch_sgd", _MINIBATCH.format(
        before="        costs.append(sess.run(cost, feed_dict={X_in: X, l_in: labels}))\n",
        costs="np.array(costs, dtype=np.float32)"), "one value too many at the start"),
    "minibatch_costs_as_row": ("train_minibatch_sgd", _MINIBATCH.format(
        before="", costs="np.array(costs, dtype=np.float32).reshape(1, -1)"), "as a row of shape"),
    "momentum_one_step_short": ("train_momentum", _gd(steps="epochs - 1", momentum=True), "the last step is missing"),
    "momentum_weights_as_row": ("train_momentum", _gd(
        returned="W_val.T, b_val, np.array(costs, dtype=np.float32)", momentum=True), "transposed"),
    "error_rate": ("accuracy", _ACCURACY.format(compare=">", scale="", equal="!="), "an error rate where an accuracy"),
    "accuracy_percent": ("accuracy", _ACCURACY.format(compare=">", scale="100 * ", equal="=="),
                         "a percentage where a fraction is expected"),
    "accuracy_classes_swapped": ("accuracy", _ACCURACY.format(compare="<", scale="", equal="=="),
                                 "is 1 minus the expected value"),
}

LINEAR_CLASSIFIER.update({  # two inputs used the other way round: the checks declare swappable=(...)
    "logits_loss_arguments_by_position": ("cross_entropy_from_logits", '''
def cross_entropy_from_logits(labels, z):
    labels = tf.constant(labels, tf.float64)
    z = tf.constant(z, tf.float64)
    return float(tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(z, labels)))
''', _SWAPPED.format("labels", "z")),
    "logits_formula_roles_swapped": ("cross_entropy_from_logits", '''
def cross_entropy_from_logits(labels, z):
    y = np.asarray(labels, np.float64)
    s = np.asarray(z, np.float64)
    # the stable form max(z, 0) - z * y + log(1 + exp(-|z|)), with y and z the other way round
    return float(np.sum(np.maximum(y, 0) - y * s + np.log1p(np.exp(-np.abs(y)))))
''', _SWAPPED.format("labels", "z")),
    "step_size_root_on_n": ("decayed_step_size", '''
def decayed_step_size(alpha, n, i):
    return float(alpha / (i * np.sqrt(n)))
''', _SWAPPED.format("n", "i")),
    "step_size_parameters_reordered": ("decayed_step_size", '''
def decayed_step_size(alpha, i, n):
    return float(alpha / (n * np.sqrt(i)))
''', _SWAPPED.format("n", "i")),
    "momentum_optimizer_arguments_swapped": ("train_momentum", _gd(
        momentum=True, optimizer="tf.compat.v1.train.MomentumOptimizer(momentum, learning_rate)"),
        _ALL_SWAPPED.format("learning_rate", "momentum")),
    "momentum_update_roles_swapped": ("train_momentum", '''
def train_momentum(X, labels, learning_rate, momentum, epochs):
    X = tf.constant(X, tf.float32)
    y = tf.constant(labels, tf.float32)
    W = tf.Variable(tf.zeros([2, 1]))
    b = tf.Variable(tf.zeros([1]))
    vW, vb = tf.zeros([2, 1]), tf.zeros([1])
    costs = []
    for _ in range(epochs):
        with tf.GradientTape() as tape:
            z = tf.reduce_sum(tf.matmul(X, W), axis=1) + b
            cost = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
        costs.append(cost.numpy())
        dW, db = tape.gradient(cost, [W, b])
        vW = learning_rate * vW + dW   # the two coefficients in each other's place
        vb = learning_rate * vb + db
        W.assign_sub(momentum * vW)
        b.assign_sub(momentum * vb)
    return W.numpy(), b.numpy(), np.array(costs, dtype=np.float32)
''', _ALL_SWAPPED.format("learning_rate", "momentum")),
})

BY_ASSIGNMENT = {"01_tf_basics": TF_BASICS, "02_linear_classifier": LINEAR_CLASSIFIER}
