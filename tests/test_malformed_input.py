"""Hostile input: odd file names, size bombs, tampered instructor cells.

Whatever the file, a submission gets a result line with its own student id, an
`invalid` one with a one-line message when it is no gradable notebook; the grader
writes nothing outside the output folder, one student's files never overwrite
another's, its memory stays bounded, and tampering never raises a score or the
maximum score.
"""

import json
import os
import subprocess
import sys

import pytest

from autograder.outputs.terminal import human_line, json_line
from autograder.outputs.feedback import render
from autograder.notebooks.reading import InvalidSubmission, read_notebook, student_id
from autograder.files import safe_name
from autograder.outputs.result_files import write_feedback
from tests import nbfactory
from tests.conftest import ROOT, json_lines

A = "01_tf_basics"
FULL = 22.0
MB = 2**20


# ---------------------------------------------------------------- file names ----

ODD_IDS = ["a b", "a_b", "a~b", "..", "...", "_", "-rf", ".hidden", "x\ny", "x\ty", "x y", "élève_名前",
           "e\u0301l", "a/b", "a\\b", "\\xe9l\\xe8ve", "名" * 84, "a" * 130, "a" * 131, "", "~x", "line\u2028sep"]


def test_safe_name_keeps_safe_ids_and_never_merges_two():
    for kept in ("alice", "s000", "cheater", "jane.doe", "élève_名前", "a_b", "_", "x@uni.edu", "v1.0"):
        assert safe_name(kept) == kept
    names = [safe_name(s) for s in ODD_IDS]
    assert len(set(names)) == len(ODD_IDS), "two ids share a file name"
    for name in names:
        assert name and name[0] not in ".-" and "/" not in name and name.isprintable()
        assert len(name.encode()) <= 120  # + ".html": well under the 255-byte limit of a file name


def test_feedback_files_of_dotted_ids_do_not_collide(tmp_path):
    for student in ("jane.doe", "jane.roe"):
        write_feedback(tmp_path, A, student, render({"student": student, "assignment": A, "status": "invalid",
                                                     "message": student, "score": 0.0, "max_score": FULL,
                                                     "checks": []}))
    folder = tmp_path / "feedback" / A
    assert sorted(p.name for p in folder.iterdir()) == [
        "jane.doe.html", "jane.doe.json", "jane.doe.txt", "jane.roe.html", "jane.roe.json", "jane.roe.txt"]
    assert json.loads((folder / "jane.doe.json").read_text())["student"] == "jane.doe"


def test_output_lines_cannot_be_forged_by_a_student_id():
    forged = 'x: 22/22 — 8/8 checks passed\nmallory'
    result = {"student": forged, "status": "invalid", "message": f"{forged}.ipynb: the file is empty",
              "score": 0.0, "max_score": FULL}
    assert "\n" not in human_line(result) and "\\n" in human_line(result)
    for name in (forged, "a\u2028b", "a\x85b", "a\u2029b", "a\rb", "a\x1bb"):
        line = json_line({**result, "student": name})
        assert len(line.splitlines()) == 1 and json.loads(line)["student"] == name
        assert len(human_line({**result, "student": name}).splitlines()) == 1


def test_student_id_of_a_file_name_that_is_not_utf8(tmp_path):
    path = tmp_path / os.fsdecode(b"\xe9l\xe8ve.ipynb")  # Latin-1, as some zip tools extract it
    assert student_id(path, A) == "\\xe9l\\xe8ve"
    assert student_id(tmp_path / os.fsdecode(b"\xff") / A / f"{A}.ipynb", A) == "\\xff"
    assert student_id(tmp_path / "...ipynb", A) == ".."


# ---------------------------------------------------------------- size bombs ----

def sparse_file(path, size=200 * MB):
    with open(path, "wb") as fh:  # no disk used: a hole of `size` bytes
        fh.truncate(size)
    return path


def many_cells(path, n=100_000):
    cells = [{"cell_type": "markdown", "id": f"c{i}", "metadata": {}, "source": "x"} for i in range(n)]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    return path


def item_bomb(path, target=19 * MB):
    """19 MB of empty lists: 1.5 GB once json.loads has built them."""
    head, tail = '{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": [', '[]]}, "cells": []}'
    path.write_text(head + "[]," * ((target - len(head) - len(tail)) // 3) + tail)
    return path


def deep(path):
    path.write_text('{"nbformat": 4, "nbformat_minor": 5, "cells": [], "metadata": {"x": '
                    + "[" * 100_000 + "]" * 100_000 + "}}")
    return path


def costliest_valid(path):
    """Just under the item limit, of the items that cost most once parsed; a valid notebook."""
    cell = {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": None, "outputs": [],
            "source": ["名\n"] * 1_990_000}
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]},
                               ensure_ascii=False))
    return path


BOMBS = [  # (maker, what the message says)
    (sparse_file, "the file is 200 MB, over the 20 MB limit"),
    (many_cells, "the notebook has 100,000 cells, over the limit of 2,000"),
    (item_bomb, "items, over the limit of 2,000,000"),
    (deep, "nested too deeply"),
]


@pytest.mark.parametrize("make, words", BOMBS, ids=[m.__name__ for m, _ in BOMBS])
def test_size_bombs_are_invalid_with_a_message_naming_the_limit(tmp_path, make, words):
    with pytest.raises(InvalidSubmission, match=words) as info:
        read_notebook(make(tmp_path / "bomb.ipynb"))
    assert "\n" not in str(info.value)


# VmHWM, the peak of this process's own memory since its exec: ru_maxrss would carry the
# peak of the process it was forked from (pytest, with TensorFlow imported by then) over exec.
MEASURE = r"""
import json, sys
from pathlib import Path
from autograder.notebooks.reading import InvalidSubmission, read_notebook
def hwm_kb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
before = hwm_kb()
outcome = {}
for name in sys.argv[1:]:
    try:
        read_notebook(Path(name))
        outcome[name] = "read"
    except InvalidSubmission as exc:
        outcome[name] = str(exc)
print(json.dumps({"before_mb": before / 1024, "peak_mb": hwm_kb() / 1024,
                  "outcome": outcome}))
"""


def test_reading_any_file_keeps_memory_bounded(tmp_path):
    """read_notebook's peak memory, in a fresh process, over every kind of bomb.

    Why it holds: the size is checked before a byte is read and at most 20 MB + 1 are
    read; the JSON items are counted on the raw bytes before json.loads, and 2 M items
    cost at most ~100 bytes each once parsed; the notebook is parsed once and never
    copied (no NotebookNode). So: interpreter + nbformat (~45 MB) + 20 MB of bytes, at
    most 80 MB of text, ~200 MB of parsed items. The old reader took 1.5 GB on item_bomb.
    """
    files = [make(tmp_path / f"{make.__name__}.ipynb") for make, _ in BOMBS]
    files.append(costliest_valid(tmp_path / "costliest_valid.ipynb"))
    proc = subprocess.run([sys.executable, "-c", MEASURE, *map(str, files)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    for (_, words), name in zip(BOMBS, files):
        assert words in report["outcome"][str(name)]
    assert report["outcome"][str(files[-1])] == "read"
    assert report["peak_mb"] < 400, report


# ------------------------------------------------------------ through the CLI ----

def snapshot(folder, skip=None) -> dict:
    """Every path under the folder (but `skip` and what it holds) with its size and mtime."""
    found = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if skip is None or os.path.join(root, d) != str(skip)]
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            found[p] = (st.st_size, st.st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def odd_names(tmp_path_factory, run_cli):
    base = tmp_path_factory.mktemp("odd")
    subs, out = base / "subs", base / "out"
    solved = {  # student id -> file; each holds the solution
        "a b": subs / "a b.ipynb",
        "élève_名前": subs / "élève_名前.ipynb",
        "new\nline": subs / "new\nline.ipynb",
        "..": subs / "...ipynb",
        "-rf": subs / "-rf.ipynb",
        "jane.doe": subs / "jane.doe.ipynb",
        "-- ünï\tcödé ": subs / "-- ünï\tcödé " / A / f"{A}.ipynb",  # nbgrader's layout
    }
    for path in solved.values():
        nbfactory.make(path, A)
    invalid = {  # student id -> (file, content)
        "a_b": (subs / "a_b.ipynb", b""),  # "a b" and "a_b" used to share a_b.json
        "jane.roe": (subs / "jane.roe.ipynb", b"not json"),  # and jane.doe/jane.roe a jane.html
        "line\u2028sep": (subs / "line\u2028sep.ipynb", b"{"),
        "\\xe9l\\xe8ve": (subs / os.fsdecode(b"\xe9l\xe8ve.ipynb"), b""),
        "名" * 84: (subs / ("名" * 84) / A / f"{A}.ipynb", b""),  # 252 bytes: + ".json" was too long
    }
    for path, content in invalid.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    before = snapshot(base)
    proc = run_cli("grade", A, subs, "--json", "--backend", "local", "--out", out, "--jobs", "2")
    after_json = snapshot(base, skip=out)
    human = run_cli("grade", A, subs, "--backend", "local", "--out", out)  # every result reused
    return {"proc": proc, "results": json_lines(proc.stdout), "human": human, "out": out, "subs": subs,
            "solved": solved, "invalid": invalid, "before": before, "after": after_json,
            "after_human": snapshot(base, skip=out)}


@pytest.mark.slow
def test_odd_file_names_each_get_their_own_result(odd_names):
    proc, results = odd_names["proc"], odd_names["results"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(results) == set(odd_names["solved"]) | set(odd_names["invalid"])
    for student in odd_names["solved"]:
        assert results[student]["status"] == "graded" and results[student]["score"] == FULL, results[student]
    for student in odd_names["invalid"]:
        r = results[student]
        assert r["status"] == "invalid" and r["max_score"] == FULL, r
        assert "\n" not in r["message"] and "\u2028" not in json_line(r)
    assert results["\\xe9l\\xe8ve"]["submission"].endswith("\\xe9l\\xe8ve.ipynb")


@pytest.mark.slow
def test_odd_file_names_write_only_inside_the_output_folder(odd_names):
    out = odd_names["out"]
    assert odd_names["after"] == odd_names["before"], "written outside --out"
    assert odd_names["after_human"] == odd_names["after"]
    for root, dirs, files in os.walk(out):
        for name in dirs + files:
            assert name.isprintable() and name[0] not in ".-" and len(name.encode()) <= 255, \
                os.path.join(root, name)


@pytest.mark.slow
def test_odd_file_names_never_share_output_files(odd_names):
    out, results = odd_names["out"], odd_names["results"]
    names = {safe_name(s) for s in results}
    assert len(names) == len(results)
    for student, r in results.items():
        name = safe_name(student)
        stored = json.loads((out / "results" / A / f"{name}.json").read_text())
        assert stored["student"] == student and stored["score"] == r["score"]
        feedback = json.loads((out / "feedback" / A / f"{name}.json").read_text())
        assert feedback["student"] == student
        for path in (out / "feedback" / A / f"{name}.html", out / "feedback" / A / f"{name}.txt",
                     out / "logs" / A / f"{name}.log"):
            assert path.is_file(), path
        gradescope = json.loads((out / "exports" / "gradescope" / A / name / "results.json").read_text())
        assert gradescope["score"] == r["score"]


@pytest.mark.slow
def test_odd_file_names_print_one_line_each(odd_names):
    human = odd_names["human"]
    assert human.returncode == 0, human.stderr[-3000:]
    lines = human.stdout.splitlines()
    assert len(lines) == len(odd_names["results"]), lines
    assert any(line.startswith("new\\nline: 22/22") for line in lines), lines
    assert sum("(unchanged, not regraded)" in line for line in lines) >= len(odd_names["solved"])


WRAPPER = r"""
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr[-3000:],
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


@pytest.mark.slow
def test_size_bombs_through_the_cli_keep_the_graders_memory_bounded(tmp_path, run_cli, cache_dir):
    """The grader's own peak memory (ru_maxrss of the CLI process, run alone in a fresh wrapper).

    Reference values come from the warm cache and every submission is invalid, so no
    sandbox starts and the peak is the grading process's own. It stays near the
    grader's base (numpy, nbformat, matplotlib for the report) because each file is
    refused before it is read (size) or parsed (items), and 100 000 small cells are
    ~1 M items (~100 MB parsed). The second run checks unchanged files for reuse: it
    hashes in chunks, and skips files that were never read.
    """
    warm = run_cli("grade", A, nbfactory.make(tmp_path / "warm" / "solution.ipynb", A), "--backend", "local",
                   "--out", tmp_path / "warm-out")
    assert warm.returncode == 0, warm.stderr[-3000:]
    subs = tmp_path / "subs"
    subs.mkdir()
    for make, _ in BOMBS:
        make(subs / f"{make.__name__}.ipynb")
    # AUTOGRADER_WARM=0: a batch with work starts its warm worker (TensorFlow, ~550 MB) at
    # once, a sandbox process that the wrapper would count; this measures the grader alone.
    env = {**os.environ, "AUTOGRADER_CACHE": str(cache_dir), "AUTOGRADER_WARM": "0"}
    cli = [sys.executable, "-m", "autograder.cli", "grade", A, str(subs), "--json", "--backend", "local",
           "--out", str(tmp_path / "out")]
    for attempt in ("first", "again"):
        proc = subprocess.run([sys.executable, "-c", WRAPPER, *cli], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
        report = json.loads(proc.stdout)
        assert report["rc"] == 0, report["stderr"]
        results = json_lines(report["stdout"])
        for make, words in BOMBS:
            r = results[make.__name__]
            assert r["status"] == "invalid" and words in r["message"] and "\n" not in r["message"], r
        assert report["peak_mb"] < 400, (attempt, report["peak_mb"])
        print(f"{attempt}: grader peak {report['peak_mb']:.0f} MB")


# ------------------------------------------------------------------ tampering ----

def _cells(nb, pred):
    return [c for c in nb.cells if pred(c.metadata.get("nbgrader", {}))]


def is_instructor(meta):
    return meta.get("grade_id") and not meta.get("solution")


def to_markdown(cell):
    cell.cell_type = "markdown"
    for key in ("outputs", "execution_count"):
        cell.pop(key, None)


def evil_kernel(nb):
    nb.metadata.kernelspec = {"name": "evil", "display_name": "x", "language": "bash"}
    nb.metadata.language_info = {"name": "bash"}


def instructor_markdown(nb):
    for cell in _cells(nb, is_instructor):
        to_markdown(cell)


def instructor_emptied(nb):
    for cell in _cells(nb, is_instructor):
        cell.source = ""


def instructor_deleted(nb):
    nb.cells = [c for c in nb.cells if not is_instructor(c.metadata.get("nbgrader", {}))]


def outputs_all_passed(nb):
    for n, cell in enumerate(_cells(nb, lambda m: m.get("grade"))):
        cell.execution_count = n + 1
        cell.outputs = [{"output_type": "stream", "name": "stdout", "text": "All tests passed! Score: 22/22\n"},
                        {"output_type": "execute_result", "execution_count": n + 1, "metadata": {},
                         "data": {"text/plain": "'all passed'"}}]


def points_raised(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta and meta.get("grade_id"):
            meta.update(points=1000, grade=True)  # answer cells become graded cells too


def duplicated_ids(nb):
    import copy

    for cell in list(_cells(nb, lambda m: m.get("grade"))):
        dup = copy.deepcopy(cell)
        dup.id, dup.metadata.nbgrader["points"] = f"dup-{cell.id}", 100
        nb.cells.append(dup)
    answer = _cells(nb, lambda m: m.get("grade_id") == "answer_evaluate")[0]
    wrong = copy.deepcopy(answer)
    wrong.id, wrong.source = "dup-answer", "def evaluate(graph, tensor):\n    return 0.0\n"
    nb.cells.insert(nb.cells.index(answer) + 1, wrong)


def answer_markdown(nb):
    to_markdown(_cells(nb, lambda m: m.get("grade_id") == "answer_eager_linear")[0])


TAMPERED = {  # student -> (edit, honest score, words in the message)
    "evil_kernel": (evil_kernel, FULL, "checks passed"),
    "instructor_markdown": (instructor_markdown, FULL, ""),
    "instructor_emptied": (instructor_emptied, FULL, ""),
    "instructor_deleted": (instructor_deleted, FULL, ""),
    "outputs_all_passed": (outputs_all_passed, FULL, ""),
    "points_raised": (points_raised, FULL, ""),
    "duplicated_ids": (duplicated_ids, FULL, "duplicate cell 'answer_evaluate' ignored"),
    "answer_markdown": (answer_markdown, FULL - 2, ""),  # no eager_linear is defined: its 2 points go
}


@pytest.fixture(scope="module")
def tampered(tmp_path_factory, run_cli):
    subs, out = tmp_path_factory.mktemp("tampered"), tmp_path_factory.mktemp("tampered-out")
    for student, (edit, _, _) in TAMPERED.items():
        nbfactory.make(subs / f"{student}.ipynb", A, edit=edit)
    proc = run_cli("grade", A, subs, "--json", "--backend", "local", "--out", out, "--jobs", "2")
    return proc, json_lines(proc.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("student", TAMPERED)
def test_tampering_gives_the_honest_score_and_the_same_maximum(tampered, student):
    proc, results = tampered
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, score, words = TAMPERED[student]
    r = results[student]
    assert r["status"] == "graded" and r["score"] == score and r["max_score"] == FULL, r
    assert sum(c["max_points"] for c in r["checks"]) == FULL
    assert words in r["message"]
