"""Known mistakes in 01_tf_basics, so that feedback can name them.

Each redefines one exercise's function the wrong way; the grader records the
exercise's probes on it next to the reference, and a failing answer that
reproduces these values gets the message.
"""

from autograder.authoring import Mistake

MISTAKES = [
    Mistake("elementwise_ops", "truncated_mod",
            "mod computed as a truncated (C-style) remainder; tf.math.mod is a floor modulo whose result "
            "takes the sign of the divisor",
            """
def elementwise_ops(a, b):
    a = tf.constant(a, dtype=tf.float32)
    b = tf.constant(b, dtype=tf.float32)
    results = {"add": a + b, "subtract": a - b, "multiply": a * b, "divide": a / b,
               "mod": tf.truncatemod(a, b), "abs": tf.abs(a), "negative": -a, "sign": tf.sign(a),
               "reciprocal": 1 / a, "square": tf.square(a), "round": tf.round(a), "sqrt": tf.sqrt(a),
               "pow": tf.pow(a, b), "exp": tf.exp(a), "log": tf.math.log(a)}
    return {k: v.numpy() for k, v in results.items()}
"""),
    Mistake("elementwise_ops", "python_round",
            "round computed by rounding halves away from zero; tf.round rounds halves to the even number",
            """
def elementwise_ops(a, b):
    import math
    a = tf.constant(a, dtype=tf.float32)
    b = tf.constant(b, dtype=tf.float32)
    half_up = tf.sign(a) * tf.floor(tf.abs(a) + 0.5)
    results = {"add": a + b, "subtract": a - b, "multiply": a * b, "divide": a / b,
               "mod": tf.math.mod(a, b), "abs": tf.abs(a), "negative": -a, "sign": tf.sign(a),
               "reciprocal": 1 / a, "square": tf.square(a), "round": half_up, "sqrt": tf.sqrt(a),
               "pow": tf.pow(a, b), "exp": tf.exp(a), "log": tf.math.log(a)}
    return {k: v.numpy() for k, v in results.items()}
"""),
    Mistake("feed_placeholder", "column_output",
            "the result has shape [n, 1]: feed a 1-D array (placeholder shape [None]) so y is 1-D too",
            """
def feed_placeholder(xs, w=6.0, b=1.5):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, shape=[None, 1])
        y = x * w + b
    with tf.compat.v1.Session(graph=graph) as sess:
        return sess.run(y, feed_dict={x: np.asarray(xs, dtype=np.float32).reshape(-1, 1)})
"""),
    Mistake("eager_linear", "missing_bias",
            "the bias b is missing: y = x * w + b",
            """
def eager_linear(x, w, b):
    return float(tf.constant(x, tf.float32) * w)
"""),
]
