"""Similarity detection: does `autograder similarity` find disguised copies, and only them?

    .venv/bin/python benchmarks/bench_similarity.py [--seeds 3] [--big 300] [--dolos DIR] [--keep DIR]

Builds a synthetic class of 100 notebooks of 02_linear_classifier: 90 students who worked
alone and 10 copies of some of them (copies 1 and 2 of one source: a group of three),
disguised at increasing strength:

    1 verbatim              2 names renamed          3 + comments and whitespace changed
    4 + statements reordered 5 + a helper inlined     6 + two idioms paraphrased
    7 + debug prints added   8 = 5 + one exercise rewritten
    9 = 7 + one exercise rewritten (the longest)     10 = 7 + two exercises rewritten

Every independent student picks, per exercise, one of several answers (the solution, the
mistakes and valid variations of tests/corpus/linear_classifier.py, and more written here,
right and wrong, in different styles), then writes it in their own style: a random choice
of idioms (``tf.constant`` or ``tf.convert_to_tensor``, ``@`` or ``tf.matmul``, ``dtype=``
or not, a ``result`` variable before each ``return``...). Two independent students who
picked the same answer to a short exercise have the same code there, as in a real class.

It prints, for both candidate engines (copydetect, as `autograder similarity` uses it, and
Dolos through node when ``--dolos`` names a folder with ``node_modules/@dodona/dolos-lib``),
precision and recall at the engine's documented threshold, the highest independent pair's
score and the lowest copy's, the false positives over every independent pair of all seeds,
and the wall time of the whole command (intake to HTML) for a class of ``--big`` notebooks.

Dolos is run on the same written code as copydetect (the starter's code and hints as its
``ignore`` file), once per exercise, with the same mean over exercises: the comparison is of
the engines, not of whole-file scoring. To set it up (node 20 or later)::

    mkdir -p /tmp/dolos && cd /tmp/dolos && npm init -y && npm install @dodona/dolos-lib@3.5.1
    npm rebuild tree-sitter --build-from-source   # where its prebuilt binary needs a newer libstdc++
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.integrity import similarity  # noqa: E402

ASSIGNMENT = "02_linear_classifier"
STARTER = ROOT / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
DOLOS_THRESHOLD = 0.6   # Dolos' similarity is the same kind of share: the same cut


def _corpus():
    spec = importlib.util.spec_from_file_location("corpus", ROOT / "tests" / "corpus" / "linear_classifier.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- answers written here

MORE = {
    "make_dataset": [
        '''
def make_dataset(n, seed):
    rng = np.random.default_rng(seed)
    points = rng.uniform(low=-1.0, high=1.0, size=(n, 2)).astype(np.float32)
    above = points[:, 1] > 0.55 - 1.23 * points[:, 0]
    return points, above.astype(np.float32)
''', '''
def make_dataset(n, seed):
    X = np.random.default_rng(seed).uniform(-1, 1, (n, 2))
    x1, x2 = X[:, 0], X[:, 1]
    labels = np.zeros(n)
    labels[x2 + 1.23 * x1 - 0.55 > 0] = 1
    return np.float32(X), np.float32(labels)
''', '''
def make_dataset(n, seed):
    gen = np.random.default_rng(seed)
    X = gen.uniform(-1, 1, size=(n, 2))
    labels = [1.0 if x2 + 1.23 * x1 > 0.55 else 0.0 for x1, x2 in X]
    return X.astype(np.float32), np.array(labels, dtype=np.float32)
'''],
    "decision_scores": [
        '''
def decision_scores(X, W, b):
    X = tf.convert_to_tensor(X, dtype=tf.float32)
    scores = tf.squeeze(X @ tf.cast(W, tf.float32), axis=1)
    return (scores + tf.cast(b, tf.float32)[0]).numpy()
''', '''
def decision_scores(X, W, b):
    z = np.dot(np.asarray(X, np.float32), np.asarray(W, np.float32)).flatten()
    return z + np.float32(b).item()
''', '''
def decision_scores(X, W, b):
    out = []
    for row in np.asarray(X, np.float32):
        out.append(row[0] * W[0][0] + row[1] * W[1][0] + b[0])
    return np.array(out, np.float32)
'''],
    "predict_proba": [
        '''
def predict_proba(X, W, b):
    return tf.sigmoid(decision_scores(X, W, b)).numpy()
''', '''
def predict_proba(X, W, b):
    z = decision_scores(X, W, b)
    return 1.0 / (1.0 + np.exp(-z))
''', '''
def predict_proba(X, W, b):
    logits = tf.reshape(tf.matmul(tf.constant(X, tf.float32), tf.constant(W, tf.float32)), [-1])
    logits = logits + tf.constant(b, tf.float32)
    return tf.math.sigmoid(logits).numpy()
''', '''
def predict_proba(X, W, b):
    z = np.asarray(X) @ np.asarray(W) + b
    return np.exp(z[:, 0]) / (1 + np.exp(z[:, 0]))
'''],
    "cross_entropy": [
        '''
def cross_entropy(labels, p):
    total = 0.0
    for y, q in zip(labels, p):
        total += -np.log(q) if y == 1 else -np.log(1 - q)
    return float(total)
''', '''
def cross_entropy(labels, p):
    y = np.array(labels, dtype=np.float64)
    p = np.clip(np.array(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    losses = y * np.log(p) + (1 - y) * np.log(1 - p)
    return -losses.sum()
'''],
    "cross_entropy_from_logits": [
        '''
def cross_entropy_from_logits(labels, z):
    z = np.asarray(z, np.float64)
    y = np.asarray(labels, np.float64)
    return float(np.sum(np.logaddexp(0, z) - y * z))
''', '''
def cross_entropy_from_logits(labels, z):
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(labels, tf.float64), logits=tf.cast(z, tf.float64))
    return tf.reduce_sum(loss).numpy().item()
''', '''
def cross_entropy_from_logits(labels, z):
    total = 0.0
    for y, s in zip(labels, z):
        total += max(s, 0) - s * y + math.log(1 + math.exp(-abs(s)))
    return total
'''],
    "train_gradient_descent": [
        '''
def train_gradient_descent(X, labels, learning_rate, epochs):
    X = np.asarray(X, np.float32)
    y = np.asarray(labels, np.float32)
    W = np.zeros((2, 1), np.float32)
    b = np.zeros(1, np.float32)
    history = []
    for epoch in range(epochs):
        z = (X @ W)[:, 0] + b[0]
        p = 1 / (1 + np.exp(-z))
        history.append(np.sum(np.logaddexp(0, z) - y * z))
        W -= learning_rate * (X.T @ (p - y)).reshape(2, 1)
        b -= learning_rate * np.sum(p - y)
    return W, b, np.array(history, np.float32)
''', '''
def train_gradient_descent(X, labels, learning_rate, epochs):
    g = tf.Graph()
    with g.as_default():
        inputs = tf.compat.v1.placeholder(tf.float32, [None, 2])
        targets = tf.compat.v1.placeholder(tf.float32, [None])
        weights = tf.Variable(tf.zeros([2, 1]))
        bias = tf.Variable(tf.zeros([1]))
        logits = tf.reshape(tf.matmul(inputs, weights), [-1]) + bias
        loss = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits))
        train = tf.compat.v1.train.GradientDescentOptimizer(learning_rate).minimize(loss)
    losses = []
    with tf.compat.v1.Session(graph=g) as s:
        s.run(tf.compat.v1.global_variables_initializer())
        fd = {inputs: X, targets: labels}
        for i in range(epochs):
            l, _ = s.run([loss, train], feed_dict=fd)
            losses.append(l)
        return s.run(weights), s.run(bias), np.array(losses)
'''],
    "train_minibatch_sgd": [
        '''
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32)
    y = np.asarray(labels, np.float32)
    W = np.zeros((2, 1), np.float32)
    b = np.zeros(1, np.float32)
    history = []
    for e in range(epochs):
        perm = np.random.default_rng(seed + e).permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = perm[start:start + batch_size]
            z = (X[batch] @ W)[:, 0] + b[0]
            err = 1 / (1 + np.exp(-z)) - y[batch]
            W -= learning_rate * (X[batch].T @ err).reshape(2, 1)
            b -= learning_rate * err.sum()
        zz = (X @ W)[:, 0] + b[0]
        history.append(np.sum(np.logaddexp(0, zz) - y * zz))
    return W, b, np.array(history, np.float32)
'''],
    "train_momentum": [
        '''
def train_momentum(X, labels, learning_rate, momentum, epochs):
    X = tf.constant(X, tf.float32)
    y = tf.constant(labels, tf.float32)
    W = tf.Variable(tf.zeros([2, 1]))
    b = tf.Variable(tf.zeros([1]))
    vW, vb = tf.zeros([2, 1]), tf.zeros([1])
    costs = []
    for _ in range(epochs):
        with tf.GradientTape() as tape:
            z = tf.reshape(X @ W, [-1]) + b
            cost = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
        costs.append(cost.numpy())
        gW, gb = tape.gradient(cost, [W, b])
        vW = momentum * vW + gW
        vb = momentum * vb + gb
        W.assign_sub(learning_rate * vW)
        b.assign_sub(learning_rate * vb)
    return W.numpy(), b.numpy(), np.array(costs)
''', '''
def train_momentum(X, labels, learning_rate, momentum, epochs):
    opt = tf.keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)
    X = tf.constant(X, tf.float32)
    y = tf.constant(labels, tf.float32)
    W = tf.Variable(tf.zeros([2, 1]))
    b = tf.Variable(tf.zeros([1]))
    out = []
    for step in range(epochs):
        with tf.GradientTape() as tape:
            logits = tf.squeeze(tf.matmul(X, W), 1) + b
            loss = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
        out.append(float(loss))
        opt.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
    return W.numpy(), b.numpy(), np.array(out)
'''],
    "decayed_step_size": [
        '''
def decayed_step_size(alpha, n, i):
    return alpha / n / math.sqrt(i)
''', '''
def decayed_step_size(alpha, n, i):
    step = alpha / (n * i ** 0.5)
    return step
''', '''
def decayed_step_size(alpha, n, i):
    return alpha / (n * np.sqrt(i + 1))
'''],
    "accuracy": [
        '''
def accuracy(X, labels, W, b):
    p = predict_proba(X, W, b)
    return float(np.mean((p > 0.5) == (np.asarray(labels) > 0.5)))
''', '''
def accuracy(X, labels, W, b):
    correct = 0
    for x, y in zip(X, labels):
        z = x[0] * W[0][0] + x[1] * W[1][0] + b[0]
        correct += int((z > 0) == (y == 1))
    return correct / len(labels)
''', '''
def accuracy(X, labels, W, b):
    scores = decision_scores(X, W, b)
    predicted = np.where(scores > 0, 1.0, 0.0)
    return np.sum(predicted == labels) / len(labels)
'''],
}

# A helper some students write, and the same code with it inlined (a copy's disguise).
WITH_HELPER = '''
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32)
    labels = np.asarray(labels, np.float32)
    W = tf.Variable(tf.zeros([2, 1]))
    b = tf.Variable(tf.zeros([1]))
    def cost_of(Xb, lb):
        z = tf.reshape(tf.matmul(Xb, W), [-1]) + b
        return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=lb, logits=z))
    costs = []
    for e in range(epochs):
        order = np.random.default_rng(seed + e).permutation(len(X))
        for k in range(0, len(X), batch_size):
            idx = order[k:k + batch_size]
            with tf.GradientTape() as tape:
                c = cost_of(X[idx], labels[idx])
            dW, db = tape.gradient(c, [W, b])
            W.assign_sub(learning_rate * dW)
            b.assign_sub(learning_rate * db)
        costs.append(cost_of(X, labels).numpy())
    return W.numpy(), b.numpy(), np.array(costs)
'''
INLINED = '''
def train_minibatch_sgd(X, labels, learning_rate, epochs, batch_size, seed):
    X = np.asarray(X, np.float32)
    labels = np.asarray(labels, np.float32)
    W = tf.Variable(tf.zeros([2, 1]))
    b = tf.Variable(tf.zeros([1]))
    costs = []
    for e in range(epochs):
        order = np.random.default_rng(seed + e).permutation(len(X))
        for k in range(0, len(X), batch_size):
            idx = order[k:k + batch_size]
            with tf.GradientTape() as tape:
                z = tf.reshape(tf.matmul(X[idx], W), [-1]) + b
                c = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels[idx], logits=z))
            dW, db = tape.gradient(c, [W, b])
            W.assign_sub(learning_rate * dW)
            b.assign_sub(learning_rate * db)
        z = tf.reshape(tf.matmul(X, W), [-1]) + b
        costs.append(tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=z)).numpy())
    return W.numpy(), b.numpy(), np.array(costs)
'''

# A student's style: each idiom is taken or not, once per student.
IDIOMS = [
    (r"tf\.constant\(", "tf.convert_to_tensor("),
    (r"np\.asarray\(", "np.array("),
    (r"tf\.matmul\(([^,()]+), ([^,()]+)\)", r"(\1 @ \2)"),
    (r", tf\.float(32|64)\)", r", dtype=tf.float\1)"),
    (r"tf\.reduce_sum\(", "tf.math.reduce_sum("),
    (r"np\.mean\(", "np.average("),
    (r"tf\.sigmoid\(", "tf.math.sigmoid("),
    (r"tf\.compat\.v1\.", "v1."),
    (r"\.astype\(np\.float32\)", '.astype("float32")'),
    (r"^(\s*)(\w+)\.append\((.*)\)$", r"\1\2 += [\3]"),
    (r"tf\.zeros\(\[([^\]]*)\]\)", r"tf.zeros(shape=(\1))"),
    (r"^(\s+)return (.+)$", r"\1result = \2\n\1return result"),
    (r"np\.float32\b", "'float32'"),
    (r"\bfloat\((.*)\)$", r"np.float64(\1)"),
]
RENAMES = {"X": "features", "W": "weights", "b": "bias", "labels": "targets", "costs": "history", "z": "logits",
           "p": "probs", "sess": "session", "graph": "g", "cost": "loss", "idx": "batch", "order": "perm",
           "l": "ys", "q": "ps", "y": "truth", "n": "count", "e": "epoch", "k": "start", "total": "acc"}
COMMENTS = ["# compute it", "# step 1", "# as in the lecture", "# vectorised", "# TODO check shapes",
            "# works now", "# shape (n,)", "# float32 everywhere"]


def pools(corpus) -> dict[str, list[str]]:
    import json as _json

    solution = _json.loads(SOLUTION.read_text())
    found: dict[str, list[str]] = {}
    for cell in solution["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            src = "".join(cell["source"])
            body = re.sub(r".*### BEGIN SOLUTION\n|    ### END SOLUTION.*", "", src, flags=re.S)
            name = meta["grade_id"].removeprefix("answer_")
            found[name] = [src.split("\n")[0] + "\n" + body]
    for exercise, source, _ in corpus.MISTAKES.values():
        found[exercise].append(source)
    for variation in corpus.VARIATIONS.values():
        for exercise, source in variation.items():
            found[exercise].append(source)
    for exercise, sources in MORE.items():
        found[exercise] += sources
    found["train_minibatch_sgd"].append(WITH_HELPER)
    return found


def styled(source: str, style: list[int], rng: random.Random | None = None) -> str:
    """The student's idioms; with ``rng``, each place takes an idiom of the style or not (people
    are not consistent), without it every place does (a copy keeps what it copied)."""
    for n in style:
        pattern, repl = IDIOMS[n]
        source = re.sub(pattern, (lambda m, r=repl: m.expand(r) if rng.random() < 0.7 else m[0]) if rng else repl,
                        source, flags=re.M)
    return source


def renamed(source: str) -> str:
    for old, new in RENAMES.items():
        source = re.sub(rf"(?<![\w.]){old}(?![\w=])", new, source)
    return source


def recommented(source: str, rng: random.Random) -> str:
    out = []
    for line in source.split("\n"):
        if line.lstrip().startswith("#"):
            continue
        code = re.sub(r"\s+#.*$", "", line)
        if code.strip() and rng.random() < 0.3:
            out.append(re.match(r"\s*", code)[0] + rng.choice(COMMENTS))
        code = code.replace(", ", ",").replace(" = ", "=") if rng.random() < 0.5 else code.replace("=", " = ")
        out.append(code.rstrip() + ("  " + rng.choice(COMMENTS) if code.strip() and rng.random() < 0.2 else ""))
        if code.strip() and rng.random() < 0.2:
            out.append("")
    return "\n".join(out)


def reordered(source: str) -> str:
    """Swap adjacent independent assignments at the same indent."""
    lines = source.split("\n")
    n = 0
    while n < len(lines) - 1:
        a, b = lines[n], lines[n + 1]
        ma, mb = re.match(r"(\s*)(\w+) = (.*)", a), re.match(r"(\s*)(\w+) = (.*)", b)
        if ma and mb and ma[1] == mb[1] and ma[2] != mb[2] and not re.search(rf"\b{ma[2]}\b", mb[3]) \
                and not re.search(rf"\b{mb[2]}\b", ma[3]):
            lines[n], lines[n + 1] = b, a
            n += 2
        else:
            n += 1
    return "\n".join(lines)


def with_prints(source: str, rng: random.Random) -> str:
    out = []
    for line in source.split("\n"):
        out.append(line)
        m = re.match(r"(\s+)(\w+) = ", line)
        if m and rng.random() < 0.5:
            out.append(f'{m[1]}print("{m[2]}:", {m[2]})')
    return "\n".join(out)


# ---------------------------------------------------------------- a class of notebooks

class Student:
    def __init__(self, name: str, answers: dict[str, str]):
        self.name, self.answers, self.picked = name, answers, {}


def independent(name: str, pool: dict[str, list[str]], rng: random.Random) -> tuple[Student, list[int]]:
    style = [n for n in range(len(IDIOMS)) if rng.random() < 0.5]
    picked = {ex: rng.choice(sources) for ex, sources in pool.items()}
    student = Student(name, {ex: styled(source, style, rng) for ex, source in picked.items()})
    student.picked = picked
    return student, style


def notebook(starter: dict, answers: dict[str, str]) -> dict:
    nb = copy.deepcopy(starter)
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        exercise = meta["grade_id"].removeprefix("answer_")
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        code = answers[exercise].strip("\n").split("\n")
        at = next(i for i, line in enumerate(code) if line.startswith("def "))
        head, body = code[:at], code[at + 1:]
        student = src.replace("    # YOUR CODE HERE\n    raise NotImplementedError()", "\n".join(body))
        if code[at] != src.split("\n")[0]:
            student = student.replace(src.split("\n")[0], code[at], 1)
        cell["source"] = "\n".join(head + [student])
    return nb


def build_class(folder: Path, size: int, copies: int, seed: int, starter: dict, pool: dict) -> set[frozenset]:
    """``size`` notebooks in ``folder``, ``copies`` of them copies; returns the copied pairs."""
    rng = random.Random(seed)
    students, styles = [], []
    for n in range(size - copies):
        student, style = independent(f"s{seed}_{n:03d}", pool, rng)
        students.append(student)
        styles.append(style)
    positives: set[frozenset] = set()
    longest = "train_gradient_descent"
    for c in range(copies):
        level = c % 10 + 1
        # copies 1 and 2 of one source: a group of three
        src_n = ((c - 1 if level == 2 else c) * 7 + 3) % (size - copies)
        source, style = students[src_n], styles[src_n]
        if level >= 5:      # the source wrote the helper; the copy inlines it
            source.answers["train_minibatch_sgd"] = styled(WITH_HELPER, style)
            source.picked["train_minibatch_sgd"] = WITH_HELPER
        answers = dict(source.answers)
        if level >= 5:
            answers["train_minibatch_sgd"] = styled(INLINED, style)
        crng = random.Random(seed * 1000 + c)
        for ex, code in answers.items():
            if level >= 6 and level != 8:       # two idioms the source did not use
                extra = [n for n in range(len(IDIOMS)) if n not in style][:2]
                code = styled(code, extra)
            if level >= 4:
                code = reordered(code)
            if level >= 2:
                code = renamed(code)
            if level >= 3:
                code = recommented(code, crng)
            if level >= 7 and level != 8:
                code = with_prints(code, crng)
            answers[ex] = code
        rewritten = {8: ["decayed_step_size"], 9: [longest], 10: [longest, "train_minibatch_sgd"]}.get(level, [])
        other_style = [n for n in range(len(IDIOMS)) if crng.random() < 0.5]
        for ex in rewritten:
            choices = [s for s in pool[ex] if s != source.picked[ex]]
            answers[ex] = styled(crng.choice(choices), other_style, crng)
        copy_name = f"c{seed}_{c:02d}_level{level}"
        students.append(Student(copy_name, answers))
        positives.add(frozenset((source.name, copy_name)))
        if level == 2:
            positives.add(frozenset((f"c{seed}_{c - 1:02d}_level1", copy_name)))
    folder.mkdir(parents=True, exist_ok=True)
    for student in students:
        (folder / f"{student.name}.ipynb").write_text(json.dumps(notebook(starter, student.answers)))
    return positives


# ---------------------------------------------------------------- the engines

def copydetect_scores(folder: Path) -> tuple[dict[frozenset, float], list]:
    starter_nb = json.loads(STARTER.read_text())
    solution_nb = json.loads(SOLUTION.read_text())
    starter = similarity.Starter.from_notebooks(starter_nb, solution_nb)
    docs, skipped, _ = similarity.read_class([str(folder)], ASSIGNMENT, starter, "files")
    assert not skipped, skipped
    pairs = similarity.analyse(docs, starter)
    return {frozenset((p.a.student, p.b.student)): p.score for p in pairs}, docs


DOLOS_SCRIPT = r"""
import { Dolos } from "@dodona/dolos-lib";
const [ignore, ...paths] = process.argv.slice(2);
const dolos = new Dolos({ language: "python", maxFingerprintPercentage: %COMMON% });
const report = await dolos.analyzePaths(paths, ignore);
for (const p of report.allPairs()) console.log(JSON.stringify([p.leftFile.path, p.rightFile.path, p.similarity]));
"""


def _dolos(dolos_dir: Path, work: Path, ignore: Path, texts: dict[str, str], common) -> dict[frozenset, float]:
    work.mkdir(parents=True, exist_ok=True)
    paths = []
    for student, text in texts.items():
        path = work / f"{student}.py"
        path.write_text(text + "\n")
        paths.append(str(path))
    script = dolos_dir / "bench-similarity.mjs"
    script.write_text(DOLOS_SCRIPT.replace("%COMMON%", json.dumps(common)))
    out = subprocess.run(["node", str(script), str(ignore), *paths], cwd=dolos_dir, capture_output=True,
                         text=True, check=True).stdout
    scores = {}
    for line in out.splitlines():
        left, right, score = json.loads(line)
        scores[frozenset((Path(left).stem, Path(right).stem))] = score
    return scores


def dolos_scores(dolos_dir: Path, docs, per_exercise: bool = True, common=None) -> dict:
    """Dolos' similarity of the same written code, the starter's code and hints ignored (its
    ``ignore`` file). Per exercise (one Dolos run each) with the same mean over exercises as
    copydetect's score, or whole files (Dolos' own score). ``common``: its
    maxFingerprintPercentage (None, its default, measured best here; 0.2 loses copies)."""
    work = Path(tempfile.mkdtemp(prefix="bench-dolos-"))
    try:
        starter = similarity.Starter.from_notebooks(json.loads(STARTER.read_text()), json.loads(SOLUTION.read_text()))
        ignore = work / "given.py"
        ignore.write_text("\n\n".join(starter.given))
        if not per_exercise:
            return _dolos(dolos_dir, work / "all", ignore, {d.student: "\n\n".join(c for _, c in d.exercises)
                                                           for d in docs}, common)
        sums: dict[frozenset, float] = {}
        counts: dict[frozenset, int] = {}
        for gid in starter.answers:
            texts = {d.student: dict(d.exercises).get(gid, "") for d in docs}
            texts = {s: t for s, t in texts.items() if t.strip()}
            scores = _dolos(dolos_dir, work / gid, ignore, texts, common)
            for pair in combinations(sorted(d.student for d in docs), 2):
                pair = frozenset(pair)
                if any(s in texts for s in pair):   # an exercise neither answered does not count
                    sums[pair] = sums.get(pair, 0.0) + scores.get(pair, 0.0)
                    counts[pair] = counts.get(pair, 0) + 1
        return {pair: sums[pair] / counts[pair] for pair in sums}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def evaluate(name: str, scores: dict, students: list[str], positives: set, threshold: float) -> dict:
    pairs = [frozenset(p) for p in combinations(students, 2)]
    found = {p for p in pairs if scores.get(p, 0.0) >= threshold}
    tp = len(found & positives)
    fp = len(found - positives)
    negatives = [scores.get(p, 0.0) for p in pairs if p not in positives]
    copies = {tuple(sorted(p)): scores.get(p, 0.0) for p in positives}
    return {"engine": name, "tp": tp, "fp": fp, "fn": len(positives) - tp, "negatives": len(negatives),
            "max_negative": max(negatives), "copies": copies, "threshold": threshold}


def show(r: dict) -> None:
    precision = r["tp"] / (r["tp"] + r["fp"]) if r["tp"] + r["fp"] else 1.0
    recall = r["tp"] / (r["tp"] + r["fn"])
    target = {p: s for p, s in r["copies"].items() if "level10" not in "".join(p)}
    print(f"  {r['engine']:<11} threshold {r['threshold']:.2f}: precision {precision:.3f}, recall {recall:.3f} "
          f"({r['tp']}/{r['tp'] + r['fn']}; with at most one exercise rewritten: "
          f"{sum(s >= r['threshold'] for s in target.values())}/{len(target)}), false positives {r['fp']} of "
          f"{r['negatives']} independent pairs; highest independent pair {r['max_negative']:.3f}, "
          f"lowest copy {min(r['copies'].values()):.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="classes of 100 to build (false positives over all)")
    ap.add_argument("--big", type=int, default=300, help="the class size timed end to end")
    ap.add_argument("--dolos", type=Path, help="a folder with node_modules/@dodona/dolos-lib (npm install there)")
    ap.add_argument("--keep", type=Path, help="build the classes here and keep them")
    args = ap.parse_args()

    corpus = _corpus()
    pool = pools(corpus)
    starter = json.loads(STARTER.read_text())
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-similarity-"))
    totals: dict[str, dict] = {}
    try:
        for seed in range(1, args.seeds + 1):
            folder = base / f"class{seed}"
            positives = build_class(folder, 100, 10, seed, starter, pool)
            t0 = time.perf_counter()
            scores, docs = copydetect_scores(folder)
            took = time.perf_counter() - t0
            students = [d.student for d in docs]
            results = [evaluate("copydetect", scores, students, positives, similarity.THRESHOLD)]
            if args.dolos:
                t1 = time.perf_counter()
                results.append(evaluate("dolos", dolos_scores(args.dolos, docs), students, positives,
                                        DOLOS_THRESHOLD))
                print(f"class {seed}: copydetect {took:.1f} s, Dolos {time.perf_counter() - t1:.1f} s "
                      f"(100 notebooks)")
            else:
                print(f"class {seed}: copydetect {took:.1f} s (100 notebooks); Dolos skipped (no --dolos)")
            for r in results:
                show(r)
                for (a, b), s in sorted(r["copies"].items(), key=lambda x: x[0][1]):
                    print(f"      {a} ~ {b}: {s:.3f}")
                t = totals.setdefault(r["engine"], {"engine": r["engine"], "tp": 0, "fp": 0, "fn": 0,
                                                    "negatives": 0, "max_negative": 0.0, "copies": {},
                                                    "threshold": r["threshold"]})
                for key in ("tp", "fp", "fn", "negatives"):
                    t[key] += r[key]
                t["max_negative"] = max(t["max_negative"], r["max_negative"])
                t["copies"].update(r["copies"])
        print(f"all {args.seeds} classes:")
        for t in totals.values():
            show(t)
            print(f"  {t['engine']:<11} false-positive rate {t['fp'] / t['negatives']:.5f} "
                  f"({t['fp']} of {t['negatives']} independent pairs)")

        big = base / "big"
        positives = build_class(big, args.big, args.big // 10, 99, starter, pool)
        t0 = time.perf_counter()
        docs, pairs, skipped, written = similarity.run(ASSIGNMENT, STARTER, SOLUTION, [str(big)], [], base / "out-big",
                                                       layout="files")
        wall = time.perf_counter() - t0
        scores = {frozenset((p.a.student, p.b.student)): p.score for p in pairs}
        r = evaluate("copydetect", scores, [d.student for d in docs], positives, similarity.THRESHOLD)
        print(f"{args.big} notebooks: `autograder similarity` end to end (intake, compare, HTML and CSV) "
              f"{wall:.1f} s; {len(pairs)} pairs with a score, {sum(p.score >= similarity.THRESHOLD for p in pairs)} "
              f"at or above the threshold")
        show(r)
        if args.dolos:
            t0 = time.perf_counter()
            scores = dolos_scores(args.dolos, docs)
            print(f"  Dolos on the same {args.big} (its analysis only, the notebooks already read by the "
                  f"command above): {time.perf_counter() - t0:.1f} s")
            show(evaluate("dolos", scores, [d.student for d in docs], positives, DOLOS_THRESHOLD))
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
