"""One set of public checks: the notebook's own check cells, `autograder check` and grading agree.

Fast tests cover the generated cells, the release's refusals and the judge's wording; the
slow ones run whole notebooks in a Jupyter kernel that cannot import this package, beside
`autograder check` on the same files, and compare verdicts and messages word for word.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.assignments.course import find_assignment
from autograder.checks.wording import check_report
from autograder.checks.judge import HIDDEN_MESSAGES, judge_all, syntax_problem
from autograder.notebooks.reading import assemble, read_notebook
from autograder.notebooks.check_cells import SUMMARY_SOURCE, check_source, guarded
from autograder.checks.plaindata import encode
from autograder.checks.rules import Close
from autograder.checks.spec import Check
from tests import nbfactory, plainkernel
from tests.corpus import diagnosed

ASSIGNMENTS = ["01_tf_basics", "02_linear_classifier", "03_deep_network"]
CORPORA = {"01_tf_basics": "tests.corpus.tf_basics", "02_linear_classifier": "tests.corpus.linear_classifier",
           "03_deep_network": "tests.corpus.deep_network"}


def generated(nb, kind):
    return [c for c in nb.cells if c.metadata.get("autograder", {}).get("generated") == kind]


# ---------------------------------------------------------------- the generated cells


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_notebook_has_a_check_cell_per_exercise_a_helper_and_a_summary(name):
    nb = nbfactory.student_notebook(name)
    exercises = find_assignment(name).checkset(hidden=False).exercises()
    assert [c.source for c in generated(nb, "check")] == [check_source(e) for e in exercises]
    [helper] = generated(nb, "helper")
    assert nb.cells.index(helper) == 2  # right after the setup cell
    assert "_AUTOGRADER_BUNDLE" in helper.source and "import autograder" not in helper.source
    assert generated(nb, "summary")[-1].source == SUMMARY_SOURCE and nb.cells[-1].source == SUMMARY_SOURCE
    # Each exercise's section says its points, public and hidden apart, as the checks count them.
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    points = find_assignment(name).load_public_reference()["points"]
    for exercise, p in points.items():
        total = p["public"] + p["hidden"]
        assert f"{total:g} points ({p['public']:g} in public checks, {p['hidden']:g} in hidden checks)" in text
    # Explorations print what goes wrong instead of raising, so Run All reaches the end.
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("autograder", {}).get("skip"):
            assert "except Exception as _error:" in cell.source


def test_points_under_headings_agree_with_the_nbgrader_test_cells():
    for name in ASSIGNMENTS:
        nb = nbfactory.solution_notebook(name)
        cells = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"].get("points")
                 for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
        for exercise, p in find_assignment(name).load_public_reference()["points"].items():
            assert cells[f"test_{exercise}"] == p["public"] + p["hidden"], (name, exercise)


def test_an_exploration_is_guarded_unless_indenting_would_change_it():
    assert guarded("# c\nx = f()\nprint(x)").splitlines() == [
        "# c", "try:", "    x = f()", "    print(x)",
        "except Exception as _error:  # so Run All goes on: the checks below still run",
        '    print(f"This exploration needs the exercises above to work first ({type(_error).__name__}: {_error})")']
    for source in ('s = """a\nb"""', "%matplotlib inline\nx = 1"):
        assert guarded(source) == source
    namespace: dict = {}
    exec(compile(guarded("raise NotImplementedError()"), "<t>", "exec"), namespace)  # prints, never raises


def test_generated_cells_are_never_run_when_grading(tmp_path):
    path = nbfactory.make(tmp_path / "s.ipynb", "01_tf_basics")
    submission, _ = read_notebook(path)
    plan, notes = assemble(find_assignment("01_tf_basics").load_solution(), submission, "01_tf_basics")
    sources = "\n".join(c.source for c in plan)
    assert "_AUTOGRADER_BUNDLE" not in sources and "autograder_checks" not in sources and not notes
    # A student's own cell that claims to be generated is still run, if it is an answer cell.
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answer_evaluate":
            cell["metadata"]["autograder"] = {"generated": "helper"}
    path.write_text(json.dumps(nb))
    submission, _ = read_notebook(path)
    plan, _ = assemble(find_assignment("01_tf_basics").load_solution(), submission, "01_tf_basics")
    assert any(c.label == "answer_evaluate" for c in plan)


def test_release_check_passes_on_the_committed_files_and_fails_on_a_stale_notebook(tmp_path, capsys):
    from autograder import cli

    assert cli.main(["release", "01_tf_basics", "--check"]) == 0
    course = tmp_path / "course"
    for part in ("assignments", "solutions"):
        shutil.copytree(nbfactory.ROOT / part / "01_tf_basics", course / part / "01_tf_basics")
    checks = course / "assignments" / "01_tf_basics" / "checks.py"
    checks.write_text(checks.read_text().replace('explain="W = [[1.23]', 'explain="W = [[1.230]'), encoding="utf-8")
    checks.write_text(checks.read_text() + "\n# an edit the notebook's bundle does not have yet\n")
    assert cli.main(["release", str(course / "assignments" / "01_tf_basics"), "--check"]) == 1
    assert "is stale: run `autograder release 01_tf_basics`" in capsys.readouterr().err


def test_release_refuses_a_known_mistake_that_passes_every_public_check(tmp_path, monkeypatch, capsys):
    from autograder import cli
    from autograder.assignments import release
    course = tmp_path / "course"
    for part in ("assignments", "solutions"):
        shutil.copytree(nbfactory.ROOT / part / "02_linear_classifier", course / part / "02_linear_classifier")
    folder = course / "assignments" / "02_linear_classifier"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    committed = json.loads((folder / "public_reference.json").read_text())

    def references(assignment, checkset, sandbox, hidden):  # the mistake answers like the solution
        refs = json.loads(json.dumps(committed))
        refs.pop("points")
        mistake = refs["mistakes"]["swapped_features"]
        mistake["checks"] = {cid: refs["checks"][cid] for cid in mistake["checks"]}
        return refs

    monkeypatch.setattr(release, "compute_references", references)
    monkeypatch.setattr(cli, "make_sandbox", lambda *a, **k: None)
    assert cli.main(["release", str(folder)]) == 1
    out = capsys.readouterr()
    total = len(committed["mistakes"])
    assert f"known mistakes: {total - 1} of {total} fail a public check; 1 pass every public check: " \
           "swapped_features" in out.out
    assert "swapped_features pass every public check" in out.err and "hidden_only" in out.err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing written

    # Declared hidden-only with a reason, the same mistake lets the release through.
    assignment = find_assignment(str(folder))
    full = assignment.checkset(hidden=False)
    declared = [dataclasses.replace(m, hidden_only="no public input tells") if m.name == "swapped_features" else m
                for m in full.mistakes]
    monkeypatch.setattr(type(assignment), "checkset",
                        lambda self, hidden: dataclasses.replace(full, mistakes=declared))
    found = release.catalogue(assignment, references(None, None, None, False))
    assert found.hidden_only == [("swapped_features", "no public input tells")] and not found.missed
    assert found.summary() == f"known mistakes: {total - 1} of {total} fail a public check; 1 declared hidden-only"


def test_the_catalogue_of_every_assignment_is_caught_by_its_public_checks():
    from autograder.assignments.student_files import catalogue

    for name in ASSIGNMENTS:
        assignment = find_assignment(name)
        found = catalogue(assignment, assignment.load_public_reference())
        assert not found.missed and len(found.caught) == len(assignment.checkset(hidden=False).mistakes)


# ---------------------------------------------------------------- messages that teach


def ok(**values):
    return {"status": "ok", "values": {k: encode(v) for k, v in values.items()}}


def test_every_failing_key_is_named_and_the_known_mistake_comes_first():
    c = Check("ops", "x", probe=lambda s: {}, rules=[Close("add"), Close("mod"), Close("log")])
    refs = {"checks": {c.id: ok(add=np.float32(3), mod=np.float32(1), log=np.float32(0))},
            "mistakes": {"m": {"exercise": "ops", "message": "the remainder is truncated",
                               "checks": {c.id: ok(add=np.float32(3), mod=np.float32(-1), log=np.float32(5))}}}}
    [r] = judge_all([c], {c.id: ok(add=np.float32(3), mod=np.float32(-1), log=np.float32(5))}, refs)
    assert r.message.startswith("`ops`: Likely mistake: the remainder is truncated. `mod`: ")
    assert "`log`: " in r.message and "`add`" not in r.message


def test_tolerances_read_as_an_allowed_error_and_relative_errors_skip_zeros():
    rule = Close("v", rtol=1e-5, atol=1e-6, why="float32 arithmetic")
    msg = rule.judge({"v": np.array([0.0, 2.0, 1.0])}, {"v": np.array([0.0, 1.0, 0.0])})
    assert "allowed error 1e-06 + 1e-05 × |expected| (float32 arithmetic)" in msg
    assert "rtol" not in msg and "atol" not in msg
    assert "max abs error 1" in msg and "max rel error 1" in msg and "inf" not in msg  # over the failing only
    only_zero = rule.judge({"v": np.array([1.0, 1.0])}, {"v": np.array([0.0, 1.0])})
    assert "max abs error 1" in only_zero and "rel error" not in only_zero
    assert Close("v", rtol=0, atol=1e-6).describe_tolerance() == "allowed error 1e-06"


def test_a_syntax_error_is_reported_with_its_line_for_public_and_hidden_checks():
    problem = syntax_problem("def f(x):\n    y = x +\n    return y\n")
    assert problem.startswith("a SyntaxError on line 2: invalid syntax") and "`y = x +`" in problem
    assert syntax_problem("def f(x):\nreturn x\n").startswith("a IndentationError on line 2: expected an indented")
    assert syntax_problem("def f(x):\n    %time x\n    return x\n") is None  # magics as IPython runs them
    public = Check("f", "a", probe=lambda s: {}, rules=[Close("v")])
    hidden = Check("f", "b", probe=lambda s: {}, rules=[Close("v")], hidden=True)
    missing = {"status": "error", "kind": "missing", "exc_type": "MissingFunction", "message": "`f` is not defined"}
    refs = {"checks": {public.id: ok(v=1.0), hidden.id: ok(v=2.0)}}
    p, h = judge_all([public, hidden], {public.id: missing, hidden.id: missing}, refs, {"f": problem})
    assert p.outcome == "syntax" and "its answer cell has a SyntaxError on line 2" in p.message
    assert "is not defined" not in p.message
    assert h.message == HIDDEN_MESSAGES["syntax"].format(fn="`f`")


def test_not_implemented_from_a_library_is_an_error_with_a_hint_not_unfinished_work():
    from autograder.checks.probe_tools import Student, StudentRaised

    def library():  # a frame outside every notebook cell, like TensorFlow's
        raise NotImplementedError("Cannot convert a symbolic tf.Tensor (Add:0) to a numpy array.")

    cell = {"library": library}
    exec(compile("def mine():\n    return library()\n\ndef stub():\n    raise NotImplementedError()\n",
                 "<cell 3>", "exec"), cell)
    raised = {}
    for fn in ("mine", "stub"):
        try:
            getattr(Student(cell), fn)()
        except StudentRaised as exc:
            raised[fn] = exc
    assert raised["mine"].origin == "library" and raised["stub"].origin == "cell"
    c = Check("f", "a", probe=lambda s: {}, rules=[Close("v")])
    refs = {"checks": {c.id: ok(v=1.0)}}

    def judged(exc):
        obs = {"status": "error", "kind": "student", "exc_type": exc.exc_type, "message": exc.message,
               "where": exc.where, "function": "f", "origin": exc.origin}
        return judge_all([c], {c.id: obs}, refs)[0]

    tf_error, stub = judged(raised["mine"]), judged(raised["stub"])
    assert tf_error.outcome == "error" and "Cannot convert a symbolic tf.Tensor" in tf_error.message
    assert "numpy was called on a tensor of a graph" in tf_error.message and "not implemented" not in tf_error.message
    assert stub.outcome == "not_implemented"


def test_the_report_lists_points_public_and_hidden_in_the_assignment_order():
    c1 = Check("b_second", "x", probe=lambda s: {}, rules=[Close("v")])
    c0 = Check("a_first", "x", probe=lambda s: {}, rules=[Close("v")])
    refs = {"checks": {c1.id: ok(v=1.0), c0.id: ok(v=1.0)}}
    results = judge_all([c1, c0], {c1.id: ok(v=1.0), c0.id: ok(v=1.0)}, refs)
    report = check_report("A", "nb", results, {"a_first": {"public": 1, "hidden": 2},
                                               "b_second": {"public": 1, "hidden": 1}})
    assert "[PASS] b_second: 1/1 checks passed (worth 2 points: 1 in public checks, 1 in hidden checks)" in report
    table = report.split("Points available:\n")[1].splitlines()
    assert [row.split()[0] for row in table] == ["exercise", "b_second", "a_first", "all"]
    assert table[-1].split() == ["all", "2", "3", "5"]


# ---------------------------------------------------------------- the notebook and `autograder check` agree


# Each notebook of 02 and 03 costs its own kernel, TensorFlow's import and the check cells'
# training (03: 9-39 s each). The agreement is between one bundled judge and the grader's, so
# the suite runs every exercise's first mistake and the first valid variation there (every
# exercise and every kind of verdict: passed, a named mistake, numbers only, not implemented,
# a syntax error); AUTOGRADER_TEST_EXHAUSTIVE=1 runs the whole corpus (before a release).
EXHAUSTIVE = os.environ.get("AUTOGRADER_TEST_EXHAUSTIVE") == "1"


def agreement_cases(name: str, corpus) -> tuple[dict, dict]:
    """The corpus's mistakes and valid variations the agreement test runs (see EXHAUSTIVE)."""
    if EXHAUSTIVE or name == "01_tf_basics":
        return corpus.MISTAKES, corpus.VARIATIONS
    first: dict = {}
    for mistake, (exercise, source, why) in corpus.MISTAKES.items():
        first.setdefault(exercise, (mistake, (exercise, source, why)))
    return dict(first.values()), dict(list(corpus.VARIATIONS.items())[:1])


# A mistake named from the solution's values on a check's swapped inputs (tests/corpus/diagnosed.py):
# the bundled judge reads them from the notebook's public reference, as the grader from its own.
SWAPPED_CASES = {"01_tf_basics": "inputs_swapped_on_conversion", "02_linear_classifier": "step_size_root_on_n"}


def corpus_notebooks(name: str, folder: Path) -> dict[str, Path]:
    corpus = importlib.import_module(CORPORA[name])
    mistakes, variations = agreement_cases(name, corpus)
    out = {"solution": nbfactory.make(folder / "solution.ipynb", name),
           "stub": nbfactory.make(folder / "stub.ipynb", name, solved=False)}
    for mistake, (exercise, source, _) in mistakes.items():
        out[f"mistake_{mistake}"] = nbfactory.make(folder / f"mistake_{mistake}.ipynb", name, {exercise: source})
    if name in SWAPPED_CASES:
        exercise, source, _ = diagnosed.BY_ASSIGNMENT[name][SWAPPED_CASES[name]]
        out["swapped_inputs"] = nbfactory.make(folder / "swapped_inputs.ipynb", name, {exercise: source})
    for variation, answers in variations.items():
        out[f"variation_{variation}"] = nbfactory.make(folder / f"variation_{variation}.ipynb", name, answers)
    first = find_assignment(name).checkset(hidden=False).exercises()[0]
    out["syntax_error"] = nbfactory.make(folder / "syntax_error.ipynb", name, {
        first: nbfactory.solution_answers(name)[f"answer_{first}"].replace("\n", "\n    x = (1 +\n", 1)})
    if name == "01_tf_basics":  # numpy on a graph's tensor: TensorFlow raises NotImplementedError
        out["numpy_on_graph"] = nbfactory.make(folder / "numpy_on_graph.ipynb", name, {"build_linear_graph": '''
def build_linear_graph(x, w, b):
    graph = tf.Graph()
    with graph.as_default():
        y = np.multiply(tf.constant(x, tf.float32), tf.constant(w, tf.float32)) + b
    return graph, y
'''})
    return out


def split_reports(stdout: str) -> list[str]:
    reports = re.split(r"\n(?=Public checks of )", stdout.strip("\n"))
    return [r.strip("\n") for r in reports]


def exercise_blocks(text: str) -> dict[str, str]:
    """exercise -> its "[PASS]/[FAIL] exercise: ..." line and the messages under it."""
    blocks: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"\[(PASS|FAIL)\] (\w+): ", line)
        if m:
            current = m.group(2)
            blocks[current] = [line]
        elif current and line.startswith("    - "):
            blocks[current].append(line)
        else:
            current = None
    return {k: "\n".join(v) for k, v in blocks.items()}


@pytest.fixture(scope="module")
def kernelspec(tmp_path_factory):
    folder = plainkernel.install_kernelspec(tmp_path_factory.mktemp("jupyter"))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(folder))
    yield folder
    mp.undo()


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_notebook_check_cells_and_autograder_check_agree_word_for_word(name, tmp_path, kernelspec):
    notebooks = corpus_notebooks(name, tmp_path / "nb")
    # `autograder check` runs while the kernels run (they share nothing), kernels two at a
    # time, each in a fresh kernel of its own as before.
    check = subprocess.Popen([sys.executable, "-m", "autograder.cli", "check", name, *map(str, notebooks.values()),
                              "--backend", "local"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        runs = plainkernel.run_many(notebooks, tmp_path, drop_explorations=True)
        stdout, stderr = check.communicate(timeout=3000)
    finally:
        if check.poll() is None:
            check.kill()
            check.communicate()
    proc = subprocess.CompletedProcess(check.args, check.returncode, stdout, stderr)
    assert proc.returncode == 1, proc.stderr[-3000:]  # the stub and the mistakes fail public checks
    reports = dict(zip(notebooks, split_reports(proc.stdout)))
    assert len(reports) == len(notebooks), proc.stdout[-2000:]
    exercises = find_assignment(name).checkset(hidden=False).exercises()
    for label, path in notebooks.items():
        run = runs[label]
        assert plainkernel.text_output(run.cells[0]).strip() == "no package", "the kernel must not see autograder"
        raised = plainkernel.errors(run)
        assert raised == ([] if label != "syntax_error" else raised[:1]) and all("Syntax" in e for e in raised), \
            (label, raised)
        expected = exercise_blocks(reports[label])
        assert list(expected) == exercises, (label, reports[label])
        cells = generated(run, "check")
        assert len(cells) == len(exercises)
        for exercise, cell in zip(exercises, cells):
            # What the student's own code printed during the check comes first; then the verdict.
            seen = exercise_blocks(plainkernel.text_output(cell))
            assert list(seen) == [exercise] and seen[exercise] == expected[exercise], (label, exercise)
        summary = plainkernel.text_output(generated(run, "summary")[-1]).rstrip("\n")
        summary = summary[summary.index(f"Public checks of {name} for this notebook"):]
        assert summary.split("\n", 1)[1] == reports[label].split("\n", 1)[1], label
        assert summary.startswith(f"Public checks of {name} for this notebook")
    # What the new messages promise, seen through both.
    first = exercises[0]
    assert "its answer cell has a SyntaxError on line 2" in exercise_blocks(reports["syntax_error"])[first]
    assert "[PASS]" not in exercise_blocks(reports["stub"])[first]
    assert "0 of " in reports["stub"] and "Points available:" in reports["stub"]
    if name in SWAPPED_CASES:  # the swap and the inputs, word for word in both (compared above)
        exercise, _, words = diagnosed.BY_ASSIGNMENT[name][SWAPPED_CASES[name]]
        block = exercise_blocks(reports["swapped_inputs"])[exercise]
        assert words in block and "The check's inputs: " in block, block
    if name == "01_tf_basics":
        block = exercise_blocks(reports["numpy_on_graph"])["build_linear_graph"]
        assert "Cannot convert a symbolic" in block and "numpy was called on a tensor of a graph" in block
        assert "not implemented" not in block


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_run_all_on_the_stub_reaches_the_summary(name, tmp_path, kernelspec):
    path = nbfactory.make(tmp_path / "stub.ipynb", name, solved=False)
    run = plainkernel.run(path, tmp_path)
    assert plainkernel.errors(run) == []
    n = len(find_assignment(name).checkset(hidden=False).exercises())
    summary = plainkernel.text_output(run.cells[-1])
    assert f"0 of {n} exercises pass their public checks." in summary and "Points available:" in summary
    # Explorations that call an exercise say they wait for it; the others (worked examples) just run.
    exercises = find_assignment(name).checkset(hidden=False).exercises()
    waiting = [c for c in run.cells if c.metadata.get("autograder", {}).get("skip")
               and any(f"{e}(" in c.source for e in exercises)]
    assert waiting and all("This exploration needs the exercises above" in plainkernel.text_output(c)
                           for c in waiting)


def test_two_mistakes_in_one_answer_are_both_named_and_a_partial_likeness_is_not():
    c = Check("ops", "x", probe=lambda s: {}, rules=[Close("mod"), Close("round"), Close("add")])
    ref = dict(mod=np.float32(1), round=np.float32(2), add=np.float32(3))
    refs = {"checks": {c.id: ok(**ref)},
            "mistakes": {"fmod": {"exercise": "ops", "message": "the remainder is truncated",
                                  "checks": {c.id: ok(**{**ref, "mod": np.float32(-1)})}},
                         "half_up": {"exercise": "ops", "message": "halves are rounded up",
                                     "checks": {c.id: ok(**{**ref, "round": np.float32(3)})}},
                         "both_wrong": {"exercise": "ops", "message": "add and mod are wrong",
                                        "checks": {c.id: ok(**{**ref, "mod": np.float32(-1), "add": np.float32(0)})}}}}
    [r] = judge_all([c], {c.id: ok(mod=np.float32(-1), round=np.float32(3), add=np.float32(3))}, refs)
    assert r.message.startswith("`ops`: Likely mistakes: the remainder is truncated; halves are rounded up. ")
    assert "add and mod" not in r.message  # its `add` differs from the answer's


# ---------------------------------------------------------------- Colab, and verdicts that are never stale

@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_helper_opens_folded_in_jupyter_and_as_a_form_in_colab_and_students_read_no_tool_names(name):
    nb = nbfactory.student_notebook(name)
    [helper] = generated(nb, "helper")
    assert helper.metadata["cellView"] == "form" and helper.metadata["jupyter"]["source_hidden"] is True
    assert helper.source.startswith(f"#@title Public checks of {name}")
    for cell in generated(nb, "helper") + generated(nb, "check") + generated(nb, "summary"):
        text = cell.source if cell.cell_type == "markdown" else "\n".join(
            line for line in cell.source.splitlines() if line.startswith("#"))
        assert "autograder release" not in text and "autograder check" not in text, cell.source[:300]


@pytest.mark.slow
def test_a_check_cell_judges_the_functions_as_they_are_now(tmp_path, kernelspec):
    """accuracy calls the student's predict_proba: fixing predict_proba and running accuracy's
    check cell again gives the new verdict, and the summary agrees."""
    name = "02_linear_classifier"
    wrong = '''
def predict_proba(X, W, b):
    z = tf.reduce_sum(tf.matmul(tf.constant(X, tf.float32), tf.constant(W, tf.float32)), axis=1)
    return tf.sigmoid(-(z + tf.reshape(tf.constant(b, tf.float32), []))).numpy()
'''
    accuracy = '''
def accuracy(X, labels, W, b):
    predictions = (predict_proba(X, W, b) > 0.5).astype(np.float32)
    return float(np.mean(predictions == np.asarray(labels, np.float32)))
'''
    fixed = wrong.replace("tf.sigmoid(-(z + ", "tf.sigmoid((z + ")
    path = nbfactory.make(tmp_path / "nb.ipynb", name, answers={"predict_proba": wrong, "accuracy": accuracy})
    nb = json.loads(path.read_text())
    for source in (fixed, 'autograder_checks.check("accuracy")', "autograder_checks.summary()"):
        nb["cells"].append({"cell_type": "code", "execution_count": None, "id": f"later-{len(nb['cells'])}",
                            "metadata": {}, "outputs": [], "source": source})
    path.write_text(json.dumps(nb))
    run = plainkernel.run(path, tmp_path, drop_explorations=True)
    first = plainkernel.text_output(generated(run, "check")[-1])   # accuracy is the last exercise
    again, summary = plainkernel.text_output(run.cells[-2]), plainkernel.text_output(run.cells[-1])
    assert "[FAIL] accuracy" in first and "[PASS] accuracy" in again
    assert "accuracy" in summary and "[FAIL] accuracy" not in summary and "[FAIL] predict_proba" not in summary
