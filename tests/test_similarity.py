"""`autograder similarity`: only the code students wrote counts, odd notebooks are skipped and
reported, and the pages escape what students wrote. Fast: no TensorFlow, no sandbox."""

import copy
import csv
import json

import pytest

from autograder.integrity import similarity
from tests.conftest import ROOT

ASSIGNMENT = "02_linear_classifier"
STARTER = ROOT / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

# Two students who worked alone, and a third who copied the first and disguised it.
ALONE_1 = {
    "make_dataset": "    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2))\n"
                    "    labels = (X[:, 1] + 1.23 * X[:, 0] - 0.55 > 0)\n"
                    "    return X.astype(np.float32), labels.astype(np.float32)",
    "train_gradient_descent": "    X = tf.constant(X, tf.float32)\n    y = tf.constant(labels, tf.float32)\n"
                              "    W = tf.Variable(tf.zeros([2, 1]))\n    b = tf.Variable(tf.zeros([1]))\n"
                              "    costs = []\n    for _ in range(epochs):\n"
                              "        with tf.GradientTape() as tape:\n"
                              "            p = tf.sigmoid(tf.squeeze(X @ W, axis=1) + b)\n"
                              "            cost = -tf.reduce_sum(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))\n"
                              "        costs.append(cost.numpy())\n"
                              "        dW, db = tape.gradient(cost, [W, b])\n"
                              "        W.assign_sub(learning_rate * dW)\n        b.assign_sub(learning_rate * db)\n"
                              "    return W.numpy(), b.numpy(), np.array(costs)",
    "accuracy": "    scores = decision_scores(X, W, b)\n    predicted = np.where(scores > 0, 1.0, 0.0)\n"
                "    return np.sum(predicted == labels) / len(labels)",
}
ALONE_2 = {
    "make_dataset": "    gen = np.random.default_rng(seed)\n    pts = gen.uniform(-1, 1, size=(n, 2))\n"
                    "    ys = [1.0 if b + 1.23 * a > 0.55 else 0.0 for a, b in pts]\n"
                    "    return pts.astype('float32'), np.array(ys, dtype=np.float32)",
    "train_gradient_descent": "    Xn = np.asarray(X, np.float32)\n    t = np.asarray(labels, np.float32)\n"
                              "    w = np.zeros((2, 1), np.float32)\n    c = 0.0\n    hist = []\n"
                              "    for i in range(epochs):\n        s = (Xn @ w)[:, 0] + c\n"
                              "        q = 1 / (1 + np.exp(-s))\n"
                              "        hist.append(np.sum(np.logaddexp(0, s) - t * s))\n"
                              "        w -= learning_rate * (Xn.T @ (q - t)).reshape(2, 1)\n"
                              "        c -= learning_rate * np.sum(q - t)\n"
                              "    return w, np.array([c], np.float32), np.array(hist, np.float32)",
    "accuracy": "    correct = 0\n    for x, y in zip(X, labels):\n"
                "        z = x[0] * W[0][0] + x[1] * W[1][0] + b[0]\n        correct += int((z > 0) == (y == 1))\n"
                "    return correct / len(labels)",
}


def disguised(answers: dict[str, str]) -> dict[str, str]:
    """Renamed, recommented and re-spaced: what a copier does first."""
    out = {}
    for name, code in answers.items():
        for old, new in (("labels", "targets"), ("costs", "history"), ("cost", "loss"), ("scores", "s2"),
                         ("predicted", "guess")):
            code = code.replace(old, new)
        out[name] = "\n".join(f"{line}  # mine" if n % 2 else line.replace(" = ", "=")
                              for n, line in enumerate(code.split("\n")))
    return out


def starter() -> dict:
    return json.loads(STARTER.read_text())


def answer_cells(nb: dict):
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            yield meta["grade_id"].removeprefix("answer_"), cell


def filled(answers: dict[str, str], nb: dict | None = None) -> dict:
    """The student notebook with these bodies in place of `raise NotImplementedError()`."""
    nb = copy.deepcopy(nb or starter())
    for name, cell in answer_cells(nb):
        if name in answers:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = src.replace("    # YOUR CODE HERE\n    raise NotImplementedError()", answers[name])
    return nb


def write_class(folder, notebooks: dict[str, dict | str]):
    folder.mkdir(parents=True, exist_ok=True)
    for student, nb in notebooks.items():
        (folder / f"{student}.ipynb").write_text(nb if isinstance(nb, str) else json.dumps(nb))
    return folder


def run(tmp_path, notebooks, **kw):
    folder = write_class(tmp_path / "class", notebooks)
    return similarity.run(ASSIGNMENT, STARTER, SOLUTION, [str(folder)], kw.pop("against", []), tmp_path / "out",
                          layout="files", **kw)


def score(pairs, a, b):
    return next((p.score for p in pairs if {p.a.student, p.b.student} == {a, b}), 0.0)


def test_a_disguised_copy_is_found_and_independent_work_is_not(tmp_path):
    docs, pairs, skipped, written = run(tmp_path, {"ann": filled(ALONE_1), "bob": filled(ALONE_2),
                                                   "cid": filled(disguised(ALONE_1))})
    assert not skipped and len(docs) == 3
    assert score(pairs, "ann", "cid") >= similarity.THRESHOLD
    assert score(pairs, "ann", "bob") < similarity.THRESHOLD
    top = pairs[0]
    assert {top.a.student, top.b.student} == {"ann", "cid"}
    assert {g for g, _ in top.exercises} == {"answer_make_dataset", "answer_train_gradient_descent",
                                             "answer_accuracy"}
    rows = list(csv.DictReader(written["csv"].open()))
    assert {rows[0]["student_a"], rows[0]["student_b"]} == {"ann", "cid"} and rows[0]["page"]
    assert (written["index"].parent / rows[0]["page"]).is_file()


def test_starter_code_and_generated_cells_never_count(tmp_path):
    nb = starter()
    assert all("raise NotImplementedError()" in "".join(c["source"]) for _, c in answer_cells(nb))
    start = similarity.Starter.from_notebooks(nb)
    # The untouched student notebook: nothing written, in any answer cell.
    assert set(similarity.written(nb, start).values()) == {""}
    # Identical code outside the answer cells: a generated check cell, the instructor's setup
    # cell, a markdown cell, all edited the same way by two students; answers their own.
    same = "def helper_everyone_pasted(a, b):\n    return tf.reduce_sum(tf.matmul(a, b), axis=1) + 42 * a\n" * 3
    twins = {}
    for student, answers in (("ann", ALONE_1), ("bob", ALONE_2)):
        twin = filled(answers)
        for cell in twin["cells"]:
            generated = cell.get("metadata", {}).get("autograder", {}).get("generated")
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if generated or gid == "setup" or cell["cell_type"] == "markdown":
                cell["source"] = same
        twins[student] = twin
    # The same hint-quoting answer everyone writes: fingerprints of the starter notebook's hints.
    hint = {"make_dataset": "    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2))"}
    twins["cid"], twins["dan"] = filled(hint), filled(hint)
    docs, pairs, skipped, _ = run(tmp_path, twins)
    assert not skipped
    assert score(pairs, "ann", "bob") < 0.2
    assert score(pairs, "cid", "dan") == 0.0  # only the starter's hint was shared
    by_student = {d.student: dict(d.exercises) for d in docs}
    assert "helper_everyone_pasted" not in json.dumps(by_student)
    assert all("YOUR CODE HERE" not in code and "Helpful" not in code and "def make_dataset" not in code
               for answers in by_student.values() for code in answers.values())


def test_a_renamed_signature_is_still_starter_code():
    start = similarity.Starter.from_notebooks(starter())
    nb = filled({"decayed_step_size": "    return float(alpha / (n * np.sqrt(i)))"})
    for name, cell in answer_cells(nb):
        if name == "decayed_step_size":
            cell["source"] = cell["source"].replace("(alpha, n, i)", "(a, count, step)")
    assert similarity.written(nb, start)["answer_decayed_step_size"] == "    return float(alpha / (n * np.sqrt(i)))"


def test_code_most_of_the_class_shares_is_ignored(tmp_path):
    common = {"decayed_step_size": "    return float(alpha / (n * np.sqrt(i))) + 0.0 * (alpha + n + i)"}
    notebooks = {f"s{n:02d}": filled(common) for n in range(12)}
    docs, pairs, _, _ = run(tmp_path, notebooks)
    assert len(docs) == 12 and pairs == []   # in all 12 (more than COMMON_MIN): everyone's code


@pytest.mark.parametrize("bad", ["{not json", "", json.dumps({"cells": [], "nbformat": 4, "metadata": {},
                                                              "nbformat_minor": 5}),
                                 json.dumps({"cells": [{"cell_type": "code"}], "nbformat": 4})])
def test_a_malformed_notebook_is_reported_and_skipped(tmp_path, bad):
    docs, pairs, skipped, written = run(tmp_path, {"ann": filled(ALONE_1), "cid": filled(disguised(ALONE_1)),
                                                   "zed": bad})
    assert [d.student for d in sorted(docs, key=lambda d: d.student)] == ["ann", "cid"]
    assert [s.student for s in skipped] == ["zed"] and skipped[0].why
    assert score(pairs, "ann", "cid") >= similarity.THRESHOLD
    assert "zed" in written["index"].read_text()


def test_an_lms_zip_is_read_like_grade_reads_it(tmp_path):
    import zipfile

    zipped = tmp_path / "submissions.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for student, answers in (("ann", ALONE_1), ("cid", disguised(ALONE_1)), ("bob", ALONE_2)):
            z.writestr(f"{student}.ipynb", json.dumps(filled(answers)))
    docs, pairs, skipped, _ = similarity.run(ASSIGNMENT, STARTER, SOLUTION, [str(zipped)], [], tmp_path / "out")
    assert sorted(d.student for d in docs) == ["ann", "bob", "cid"] and not skipped
    assert score(pairs, "ann", "cid") >= similarity.THRESHOLD


@pytest.mark.filterwarnings("ignore::Warning")  # nbformat's, about the odd cell
def test_odd_cells_never_stop_the_run(tmp_path):
    nb = filled(ALONE_1)
    nb["cells"].insert(0, "not a cell")
    docs, _, skipped, _ = run(tmp_path, {"ann": filled(ALONE_1), "odd": json.dumps(nb)})
    assert [d.student for d in docs] == ["ann"] and [s.student for s in skipped] == ["odd"]


def test_the_pages_escape_what_students_wrote(tmp_path):
    evil = {name: code.replace("\n", "\n    s_ = '</pre><script>alert(1)</script>'  # <b>hi</b>\n", 1)
            for name, code in ALONE_1.items()}
    docs, pairs, skipped, written = run(tmp_path, {"ann": filled(evil), "cid": filled(evil),
                                                   "x<img src=y>": filled(ALONE_2)})
    assert not skipped
    pages = list(written["pages"].glob("*.html")) + [written["index"]]
    text = "".join(p.read_text() for p in pages)
    assert "<script>" not in text and "<img" not in text and "<b>hi" not in text
    assert "&lt;script&gt;" in text and "<mark>" in text


def test_past_terms_are_compared_with_this_class_only(tmp_path):
    past = write_class(tmp_path / "2025", {"old1": filled(ALONE_1), "old2": filled(ALONE_1)})
    docs, pairs, _, written = run(tmp_path, {"bob": filled(ALONE_2), "cid": filled(disguised(ALONE_1))},
                                  against=[str(past)])
    assert {d.term for d in docs} == {"", "2025"}
    labels = {(p.a.label, p.b.label) for p in pairs if p.score >= similarity.THRESHOLD}
    assert labels == {("cid", "2025/old1"), ("cid", "2025/old2")}   # never old1 with old2
    assert similarity.clusters(pairs) == [["2025/old1", "2025/old2", "cid"]]


def test_clusters_are_groups_of_three_or_more(tmp_path):
    docs, pairs, _, written = run(tmp_path, {"ann": filled(ALONE_1), "cid": filled(disguised(ALONE_1)),
                                             "dan": filled(ALONE_1), "bob": filled(ALONE_2)})
    assert similarity.clusters(pairs) == [["ann", "cid", "dan"]]
    assert "ann, cid, dan" in written["index"].read_text()


def test_the_command_is_registered_and_light():
    from autograder.cli import _parser

    args = _parser().parse_args(["similarity", ASSIGNMENT, "a.zip", "--against", "old", "--threshold", "0.7"])
    assert (args.command, args.submissions, args.against, args.threshold) == ("similarity", ["a.zip"], ["old"], 0.7)
