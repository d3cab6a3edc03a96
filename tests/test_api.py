"""The library API (autograder.api.grade_batch), in-process on the fake sandbox
(tests/fakes.py): one call grades a batch into the gradebook and every output file; the
same call on a Dask runner gives the same gradebook; the settings are one picklable value."""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import zipfile

import pytest

from autograder.runs import cluster
from autograder.api import grade_batch
from autograder.assignments.course import find_assignment
from autograder.errors import UsageError
from autograder.settings import Settings
from tests import fakes

distributed = pytest.importorskip("distributed")

ROSTER = ("Student,ID,SIS User ID,SIS Login ID,Section,Lab 4: scaling (4004)\n    Points Possible,,,,,4\n"
          '"Lovelace, Ada",101,S1,ada,A,\n"Okafor, Ben",102,S2,ben,A,\n"Stone, Emma",103,S3,emma,B,\n'
          '"Wong, Fay",104,S4,fay,B,\n')


class _Answers(dict):
    """Ben (102) gets the public check wrong; everyone else is right."""

    def get(self, label, default=None):
        return {fakes.PUBLIC: fakes.WRONG} if label == "102" else {}


def fake_sandbox(settings: Settings) -> fakes.FakeSandbox:
    sandbox = fakes.FakeSandbox()
    sandbox.answers = _Answers()
    return sandbox


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    fakes.course(tmp_path / "course")
    assignment = find_assignment(fakes.NAME, tmp_path / "course")
    download = tmp_path / "download"   # Canvas names: <name>_<user id>_<attachment id>_<file>
    download.mkdir()
    solution = assignment.solution_notebook.read_text()
    for name in ("lovelaceada_101_1_04_scale.ipynb", "okaforben_LATE_102_2_04_scale.ipynb",
                 "stoneemma_103_3_notes.txt"):
        (download / name).write_text(solution if name.endswith(".ipynb") else "no notebook")
    (tmp_path / "roster.csv").write_text(ROSTER)
    settings = Settings(backend="fake", jobs=2, roster=tmp_path / "roster.csv", lms_column="Lab 4: scaling (4004)")
    return {"assignment": assignment, "download": download, "settings": settings, "tmp": tmp_path}


def _gradebook(report) -> list[tuple]:
    from autograder.gradebook import Gradebook

    return [(r["student"], r["name"], r["status"], r["final_score"], [(c["id"], c["passed"]) for c in r["checks"]])
            for r in Gradebook(report.gradebook).results(fakes.NAME)]


def test_one_call_grades_a_batch_into_the_gradebook_and_every_output(course):
    emitted, said = [], []
    out = course["tmp"] / "out"
    report = grade_batch(course["assignment"], [str(course["download"])], course["settings"], out=out,
                         sandbox=fake_sandbox, emit=emitted.append, say=said.append)
    assert not report.failed and [r.student for r in emitted] == [r.student for r in report.results]
    assert report.layouts == [(str(course["download"]), "canvas")] and said[0].endswith("layout canvas (detected)")
    assert _gradebook(report) == [
        ("101", "Lovelace, Ada", "graded", 2.0, [(fakes.PUBLIC, True), (fakes.HIDDEN, True)]),
        ("102", "Okafor, Ben", "graded", 1.0, [(fakes.PUBLIC, False), (fakes.HIDDEN, True)]),
        ("103", "Stone, Emma", "invalid", 0.0, [])]
    assert [m["student"] for m in report.missing] == ["104"]
    lines = report.lines()
    assert lines[0].startswith("2 graded, 1 invalid, 0 errors, 0 with a timeout, 1 missing")
    assert any("Wong, Fay (104): missing" in line for line in lines)
    # every output file, from the gradebook
    for student in ("101", "102", "103"):
        assert json.loads((out / "results" / fakes.NAME / f"{student}.json").read_text())["student"] == student
        for suffix in (".txt", ".html", ".json"):
            assert (out / "feedback" / fakes.NAME / f"{student}{suffix}").exists()
    assert (out / "logs" / fakes.NAME / "101.log").exists()
    assert "feedback for Okafor, Ben" in (out / "feedback" / fakes.NAME / "102.html").read_text()
    canvas = list(csv.reader(io.StringIO((out / "exports" / f"{fakes.NAME}-canvas.csv").read_text())))
    assert canvas[1:] == [["Lovelace, Ada", "101", "S1", "ada", "A", "4"], ["Okafor, Ben", "102", "S2", "ben", "A", "2"],
                          ["Stone, Emma", "103", "S3", "emma", "B", ""], ["Wong, Fay", "104", "S4", "fay", "B", ""]]
    grades = {r["id"]: r for r in csv.DictReader(io.StringIO((out / "exports" / f"{fakes.NAME}-grades.csv").read_text()))}
    assert grades["102"]["late"] == "late" and grades["101"]["late"] == "" and grades["101"]["sis_user_id"] == "S1"
    assert len((out / "exports" / f"{fakes.NAME}-checks.csv").read_text().splitlines()) == 1 + 4
    with zipfile.ZipFile(out / "exports" / f"{fakes.NAME}-feedback.zip") as fb:
        assert sorted(fb.namelist()) == ["lovelaceada_101_1_feedback.html", "okaforben_LATE_102_2_feedback.html",
                                         "stoneemma_103_3_feedback.html"]
    assert json.loads((out / "exports" / "gradescope" / fakes.NAME / "102" / "results.json").read_text())["score"] == 1
    assert report.written[-1] == out / "report" / fakes.NAME / "index.html" and "Okafor, Ben" in \
        report.written[-1].read_text()
    assert not (out / "exports" / f"{fakes.NAME}-moodle.csv").exists()


def test_the_same_call_on_a_dask_runner_gives_the_same_gradebook(course, monkeypatch):
    threads = grade_batch(course["assignment"], [str(course["download"])], course["settings"],
                          out=course["tmp"] / "threads", sandbox=fake_sandbox)
    monkeypatch.setattr(cluster, "sandbox_for", lambda spec: fake_sandbox(spec.settings))
    cluster._GRADERS.clear()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        spec = cluster.GraderSpec(course["assignment"], course["assignment"].version, course["settings"])
        on_dask = grade_batch(course["assignment"], [str(course["download"])], course["settings"],
                              out=course["tmp"] / "dask", sandbox=fake_sandbox,
                              runner=cluster.DaskRunner(client, spec))
    assert _gradebook(on_dask) == _gradebook(threads) and len(_gradebook(threads)) == 3


def test_settings_are_one_picklable_value_and_bad_ones_are_usage_errors(course):
    settings = course["settings"]
    assert pickle.loads(pickle.dumps(settings)) == settings
    spec = cluster.GraderSpec(course["assignment"], "v", settings)
    assert pickle.loads(pickle.dumps(spec)).key() == spec.key()
    from dataclasses import replace

    for bad, words in ((replace(settings, jobs=0), "--jobs"), (replace(settings, dask_local=0), "--dask-local"),
                       (replace(settings, lms_column="Lab 9 (9)"), "not a column of the Canvas roster")):
        with pytest.raises(UsageError, match=words):
            grade_batch(course["assignment"], [str(course["download"])], bad, out=course["tmp"] / "bad",
                        sandbox=fake_sandbox)
    assert not (course["tmp"] / "bad" / "gradebook.sqlite").exists()


def test_the_folders_a_zip_was_unpacked_into_are_gone_after_the_batch(course, monkeypatch):
    import tempfile

    made = []
    real = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    archive = course["tmp"] / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in course["download"].iterdir():
            z.write(path, path.name)
    report = grade_batch(course["assignment"], [str(archive)], course["settings"], out=course["tmp"] / "out",
                         sandbox=fake_sandbox)
    assert len(report.results) == 3 and made and not any(os.path.exists(m) for m in made)


def test_a_backend_that_cannot_run_leaves_no_gradebook(course):
    from autograder.errors import SandboxUnavailable

    def unavailable(settings):
        raise SandboxUnavailable("no such backend here")

    with pytest.raises(SandboxUnavailable):
        grade_batch(course["assignment"], [str(course["download"])], course["settings"], out=course["tmp"] / "out",
                    sandbox=unavailable)
    assert not (course["tmp"] / "out" / "gradebook.sqlite").exists()


def test_a_kept_grader_is_built_once_and_refresh_false_writes_no_report(course, monkeypatch):
    from autograder.api import GraderPool
    from autograder.runs import grading

    calibrations, boxes = [], []
    real = grading.calibration_s
    monkeypatch.setattr(grading, "calibration_s", lambda: calibrations.append(1) or real())

    def counted_sandbox(settings):
        boxes.append(fake_sandbox(settings))
        return boxes[-1]

    from dataclasses import replace

    pool = GraderPool(sandbox=counted_sandbox)
    settings, out = replace(course["settings"], force=True), course["tmp"] / "out"   # graded again, not reused
    try:
        reports = [grade_batch(course["assignment"], [str(course["download"])], settings, out=out,
                               grader=pool.grader(course["assignment"], settings), refresh=False, sandbox=None)
                   for _ in range(2)]
        # one grader, one sandbox, one calibration of the machine for both batches; the sandbox left open
        assert pool.built == 1 and len(boxes) == 1 and len(calibrations) == 1
        assert pool.grader(course["assignment"], settings) is pool.grader(course["assignment"], settings)
        assert len(boxes[0].jobs) == 1 + 2 * 2 * 2   # the solution's run, then two batches of two notebooks, two runs each
        assert sorted(r.student for r in reports[1].results) == sorted(r.student for r in reports[0].results)
        assert _gradebook(reports[1]) == [
            ("101", "Lovelace, Ada", "graded", 2.0, [(fakes.PUBLIC, True), (fakes.HIDDEN, True)]),
            ("102", "Okafor, Ben", "graded", 1.0, [(fakes.PUBLIC, False), (fakes.HIDDEN, True)]),
            ("103", "Stone, Emma", "invalid", 0.0, [])]
        # refresh=False: each result's files (result, log, its own feedback) and the gradebook; no export
        # (only the remembered LMS context a later refresh reads), no report
        assert reports[0].written == [] and reports[0].notes == []
        for folder, suffix in (("results", ".json"), ("logs", ".log"), ("feedback", ".html")):
            assert (out / folder / fakes.NAME / f"101{suffix}").exists(), folder
        assert not (out / "report").exists() and [p.name for p in (out / "exports").iterdir()] == [f"{fakes.NAME}-lms"]
        # a grader of another assignment version is refused
        changed = find_assignment(fakes.NAME, course["tmp"] / "course")
        (changed.solution_dir / "extra.txt").write_text("not graded")
        changed.public_checks.write_text(changed.public_checks.read_text() + "\n# changed\n")
        changed = find_assignment(fakes.NAME, course["tmp"] / "course")
        with pytest.raises(UsageError, match="not this version"):
            grade_batch(changed, [str(course["download"])], settings, out=out, refresh=False,
                        grader=pool.grader(course["assignment"], settings))
        assert pool.grader(changed, settings) is not pool.grader(course["assignment"], settings) and pool.built == 3
    finally:
        pool.close()


def test_the_default_still_refreshes_every_output_with_a_kept_grader(course):
    from autograder.api import GraderPool

    pool = GraderPool(sandbox=fake_sandbox)
    try:
        out = course["tmp"] / "out"
        report = grade_batch(course["assignment"], [str(course["download"])], course["settings"], out=out,
                             grader=pool.grader(course["assignment"], course["settings"]))
        assert report.written[-1] == out / "report" / fakes.NAME / "index.html"
        assert (out / "feedback" / fakes.NAME / "101.html").exists()
    finally:
        pool.close()
