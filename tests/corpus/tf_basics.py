"""01_tf_basics: mistakes a student makes, and valid ways to be right."""

from tests.corpus import review

MISTAKES = {
    "fmod": ("elementwise_ops", '''
def elementwise_ops(a, b):
    a = np.asarray(a, np.float32); b = np.asarray(b, np.float32)
    with np.errstate(all="ignore"):
        return {"add": a + b, "subtract": a - b, "multiply": a * b, "divide": a / b, "mod": np.fmod(a, b),
                "abs": np.abs(a), "negative": -a, "sign": np.sign(a), "reciprocal": 1 / a, "square": a * a,
                "round": np.round(a), "sqrt": np.sqrt(a), "pow": a ** b, "exp": np.exp(a), "log": np.log(a)}
''', "truncated (C-style) remainder"),
    "round_half_up": ("elementwise_ops", '''
def elementwise_ops(a, b):
    a = tf.constant(a); b = tf.constant(b)
    ops = {"add": tf.add, "subtract": tf.subtract, "multiply": tf.multiply, "divide": tf.divide,
           "mod": tf.math.floormod, "pow": tf.pow}
    out = {k: f(a, b).numpy() for k, f in ops.items()}
    out.update(abs=tf.abs(a).numpy(), negative=tf.negative(a).numpy(), sign=tf.sign(a).numpy(),
               reciprocal=tf.math.reciprocal(a).numpy(), square=tf.square(a).numpy(),
               round=(tf.sign(a) * tf.floor(tf.abs(a) + 0.5)).numpy(), sqrt=tf.sqrt(a).numpy(),
               exp=tf.exp(a).numpy(), log=tf.math.log(a).numpy())
    return out
''', "rounds halves to the even number"),
    "column_output": ("feed_placeholder", '''
def feed_placeholder(xs, w=6.0, b=1.5):
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, shape=[None, 1])
        y = x * w + b
    with tf.compat.v1.Session(graph=g) as s:
        return s.run(y, feed_dict={x: [[v] for v in xs]}).astype(np.float32)
''', "shape [n, 1]"),
    "eager_missing_bias": ("eager_linear", '''
def eager_linear(x, w, b):
    return float(tf.multiply(tf.constant(x), tf.constant(w)))
''', "bias b is missing"),
    "session_without_graph": ("evaluate", '''
def evaluate(graph, tensor):
    with tf.compat.v1.Session() as sess:
        return sess.run(tensor)
''', "graph/session mix-up"),
}

# The course review's mistakes (issue 30, items 7 and 8), graded on their own by tests/test_course_review.py.
MISTAKES.update(review.TF_BASICS)

VARIATIONS = {
    "other_styles": {
        "evaluate": '''
def evaluate(graph, tensor):
    with graph.as_default():
        sess = tf.compat.v1.Session()
        value = sess.run(tensor)
        sess.close()
    return value
''',
        "eager_linear": '''
@tf.function
def _linear(x, w, b):
    return x * w + b

def eager_linear(x, w, b):
    return _linear(tf.constant(x, tf.float32), tf.constant(w, tf.float32), tf.constant(b, tf.float32))
''',
        "describe_tensor": '''
def describe_tensor(value):
    t = tf.constant(value)
    return {"rank": tf.rank(t), "shape": t.shape, "dtype": t.dtype}
''',
        "unique_shapes": '''
def unique_shapes(values):
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.int32, shape=[len(values)])
        y, idx = tf.unique(x)
        dyn = tf.shape(y)
    with tf.compat.v1.Session(graph=g) as s:
        return y.shape.as_list(), list(s.run(dyn, feed_dict={x: values}))
''',
    },
}
