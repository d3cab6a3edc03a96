"""Course policies through the commands, in-process on the fake sandbox (tests/fakes.py: the
04_scale course, 2 points; a student whose id is in ``WRONG`` gets the public check wrong, 1 point):
a Canvas zip with ``_LATE`` submissions and a Blackboard download with attempt times graded with
``--due``, a Moodle download with its grading worksheet's times, an extension granted after
grading (counted score and every export change, the stored automatic score never), revoked, and
bad policies refused before anything is graded.

Fixtures by each LMS's own rules: Canvas names by instructure/canvas-lms ``lib/content_zipper.rb``
(``canvas_name`` of tests/test_lms_sources.py); Blackboard's documented download
``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>`` with its receipt; Moodle's
folders (``mod/assign/locallib.php``, ``download_submissions``) and its grading worksheet
(``mod/assign/gradingtable.php``: ``Last modified (submission)`` is ``userdate()`` in
``strftimedaydatetime``, ``lang/en/langconfig.php``).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from autograder import cli
from autograder.gradebook import Gradebook
from tests import fakes
from tests.test_lms_sources import canvas_name

N = fakes.NAME
WRONG = {"103", "bwrong"}
POLICY = """
[policy]
time_zone = "Europe/Berlin"
[policy.late]
rule = "per_day"
percent = 25
at_most = 3
"""
DUE = "2026-03-20 23:59"   # Europe/Berlin (CET, UTC+1)
ROSTER = ("Student,ID,SIS User ID,SIS Login ID,Section,Lab 4: scaling (4004)\n    Points Possible,,,,,4\n"
          '"Lovelace, Ada",101,S1,ada,A,\n"Okafor, Ben",102,S2,ben,A,\n"Stone, Emma",103,S3,emma,B,\n')


@pytest.fixture
def fake(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    course = fakes.course(tmp_path / "course")
    monkeypatch.setenv("AUTOGRADER_COURSE", str(course))
    (course / "course.toml").write_text(POLICY)

    class Answers(dict):
        def get(self, label, default=None):
            return {fakes.PUBLIC: fakes.WRONG} if str(label) in WRONG else {}

    sandbox = fakes.FakeSandbox()
    sandbox.answers = Answers()
    monkeypatch.setattr(cli, "make_sandbox", lambda *a, **k: sandbox)
    solution = (course / "solutions" / N / f"{N}.ipynb").read_text()

    def run(*args):
        capsys.readouterr()
        code = cli.main([str(a) for a in args])
        said = capsys.readouterr()
        return code, said.out, said.err

    def notebook(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(solution)
        return path

    return {"run": run, "notebook": notebook, "out": tmp_path / "out", "tmp": tmp_path, "course": course}


def grades(out: Path) -> dict[str, dict]:
    return {r["id"]: r for r in csv.DictReader(io.StringIO((out / "exports" / f"{N}-grades.csv").read_text()))}


def stored_scores(out: Path) -> list[tuple]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute("SELECT id, student, score FROM gradings ORDER BY id").fetchall()


def test_a_canvas_zip_with_late_submissions_graded_with_due(fake):
    root = fake["tmp"] / "canvas"
    for sortable, uid, aid, late in (("Lovelace, Ada", "101", 1, False), ("Okafor, Ben", "102", 2, True),
                                     ("Stone, Emma", "103", 3, True)):
        fake["notebook"](root / canvas_name(sortable, uid, aid, f"{N}.ipynb", late=late))
    archive = fake["tmp"] / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in root.iterdir():
            z.write(f, f.name)
    (fake["tmp"] / "roster.csv").write_text(ROSTER)
    out = fake["out"]
    code, _, err = fake["run"]("grade", N, archive, "--out", out, "--due", DUE, "--roster", fake["tmp"] / "roster.csv",
                               "--lms-column", "Lab 4: scaling (4004)")
    assert code == 0, err
    assert "through Canvas's _LATE marks only: its download holds no submission times" in err
    rows = grades(out)
    # Canvas's download carries no time: _LATE is "late by an unknown amount", charged the rule's first step.
    assert {k: (r["score"], r["automatic_score"], r["late"], r["late_deduction"]) for k, r in rows.items()} == {
        "101": ("2", "2", "", ""), "102": ("1.5", "2", "late", "0.5"), "103": ("0.5", "1", "late", "0.5")}
    assert rows["102"]["late_rule"] == ("marked late by Canvas, which gives no submission time: late by an unknown "
                                        "amount, charged the rule's first step: −25% (25% per started day, at most "
                                        "3 days, then 0)")
    canvas = {r[1]: r[5] for r in csv.reader(io.StringIO((out / "exports" / f"{N}-canvas.csv").read_text()))}
    assert (canvas["101"], canvas["102"], canvas["103"]) == ("4", "3", "1")   # counted, scaled to 4 points
    page = (out / "feedback" / N / "102.html").read_text()
    assert "Score: 1.5 / 2" in page and "the checks below gave 2" in page and "late by an unknown amount" in page
    assert json.loads((out / "feedback" / N / "102.json").read_text())["counted_score"] == 1.5
    # the automatic scores, as graded (by student: the gradings' order is the order the threads finished in)
    assert {st: s for _, st, s in stored_scores(out)} == {"101": 2.0, "102": 2.0, "103": 1.0}


def _blackboard(fake, title: str, user: str, full: str, when: str) -> None:
    root = fake["tmp"] / "bb"
    fake["notebook"](root / f"{title}_{user}_attempt_{when}_{N}.ipynb")
    (root / f"{title}_{user}_attempt_{when}.txt").write_text(
        f"Name: {full} ({user})\nAssignment: {title}\nDate Submitted: (not read)\n\nFiles:\n"
        f"\tOriginal filename: {N}.ipynb\n\tFilename: {title}_{user}_attempt_{when}_{N}.ipynb\n")


@pytest.fixture
def blackboard(fake):
    _blackboard(fake, "Lab 4", "asmith", "Ann Smith", "2026-03-20-23-59-00")   # exactly at the due time
    _blackboard(fake, "Lab 4", "jdoe", "Jane Doe", "2026-03-21-10-00-00")      # 10 h 1 min late: day 1
    _blackboard(fake, "Lab 4", "bwrong", "Bo Wrong", "2026-03-22-00-30-00")    # 1 day 31 min late: day 2
    _blackboard(fake, "Lab 4", "klate", "Kim Late", "2026-03-24-00-00-00")     # day 4: past at_most 3
    archive = fake["tmp"] / "bb.zip"   # as Blackboard hands it out: one zip, flat
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted((fake["tmp"] / "bb").iterdir()):
            z.write(f, f.name)
    code, _, err = fake["run"]("grade", N, archive, "--out", fake["out"], "--due", DUE)
    assert code == 0, err
    return fake


def test_a_blackboard_zip_graded_with_due_by_its_attempt_times(blackboard):
    rows = grades(blackboard["out"])
    assert {k: (r["score"], r["automatic_score"], r["late"], r["late_deduction"]) for k, r in rows.items()} == {
        "asmith": ("2", "2", "", ""), "jdoe": ("1.5", "2", "late", "0.5"), "bwrong": ("0", "1", "late", "1"),
        "klate": ("0", "2", "late", "2")}
    assert rows["jdoe"]["late_rule"] == "submitted 10 hours 1 minute late: −25% (25% per started day, at most 3 " \
                                        "days, then 0)"
    assert rows["klate"]["late_rule"].startswith("submitted 3 days 1 minute late: counts 0")
    assert "Late: submitted 10 hours 1 minute late" in (blackboard["out"] / "feedback" / N / "jdoe.txt").read_text()


def test_an_extension_granted_after_grading_changes_the_counted_score_and_exports_never_the_stored_one(blackboard):
    run, out = blackboard["run"], blackboard["out"]
    before = stored_scores(out)
    code, said, err = run("extend", "jdoe", N, "--until", "2026-03-21 12:00", "--reason", "doctor's note",
                          "--out", out)
    assert code == 0, err
    assert "jdoe: counted 1.5 -> 2 (automatic 2, unchanged)" in said
    row = grades(out)["jdoe"]
    assert (row["score"], row["automatic_score"], row["late"], row["late_deduction"]) == ("2", "2", "", "")
    assert "extension until 2026-03-21 12:00 Europe/Berlin: doctor's note" in row["late_rule"]
    assert "doctor&#39;s note" in (out / "feedback" / N / "jdoe.html").read_text()   # escaped
    assert json.loads((out / "exports" / "gradescope" / N / "jdoe" / "results.json").read_text())["score"] == 2
    assert stored_scores(out) == before                                     # no grading written or changed
    history = Gradebook(out / "gradebook.sqlite").history("jdoe", N)
    assert [h["result"]["score"] for h in history] == [2.0]
    # A report later recomputes the same; revoking brings the penalty back, and both stay on record.
    assert run("report", N, "--out", out)[0] == 0 and grades(out)["jdoe"]["score"] == "2"
    code, said, _ = run("extend", "jdoe", N, "--revoke", "--reason", "granted by mistake", "--out", out)
    assert code == 0 and "jdoe: counted 2 -> 1.5" in said and grades(out)["jdoe"]["score"] == "1.5"
    code, listed, _ = run("extensions", N, "--out", out)
    assert code == 0 and "doctor's note" in listed and "revoked" in listed and "granted by mistake" in listed
    assert stored_scores(out) == before
    # Overrides still win over every policy.
    assert run("override", N, "klate", "1.8", "--reason", "accepted by hand", "--out", out)[0] == 0
    row = grades(out)["klate"]
    assert (row["score"], row["override_reason"], row["late_deduction"]) == ("1.8", "accepted by hand", "")


def test_bad_extensions_and_bad_policies_are_refused(blackboard):
    run, out = blackboard["run"], blackboard["out"]
    code, _, err = run("extend", "jdoe", N, "--until", "2026-03-21 12:00", "--out", out)
    assert code == 2 and "give --reason" in err
    code, _, err = run("extend", "jdoe", N, "--until", "2026-03-19 12:00", "--reason", "x", "--out", out)
    assert code == 2 and "is not after the due date (2026-03-20 23:59 Europe/Berlin)" in err
    code, _, err = run("extend", "jdoe", N, "--until", "2026-03-29 02:30", "--reason", "x", "--out", out)
    assert code == 2 and "does not exist in Europe/Berlin" in err
    code, _, err = run("extend", "asmith", N, "--revoke", "--reason", "x", "--out", out)
    assert code == 2 and "no extension" in err
    code, _, err = run("grade", N, blackboard["tmp"] / "bb", "--out", blackboard["tmp"] / "o2", "--due", "soon")
    assert code == 2 and "--due 'soon'" in err and not (blackboard["tmp"] / "o2").exists()
    (blackboard["course"] / "course.toml").write_text('[policy]\nlate = {rule = "per_day", percent = 110}\n')
    code, _, err = run("grade", N, blackboard["tmp"] / "bb", "--out", blackboard["tmp"] / "o3")
    assert code == 2 and "[policy]: late: percent must be a number above 0 and at most 100" in err
    assert not (blackboard["tmp"] / "o3").exists()


def test_a_changed_due_date_recomputes_on_report_and_a_folder_of_notebooks_says_it_has_no_times(blackboard):
    run, out = blackboard["run"], blackboard["out"]
    assert run("report", N, "--out", out, "--due", "2026-03-25 12:00")[0] == 0
    assert {r["score"] for r in grades(out).values()} == {"2", "1"}          # nobody late any more
    assert run("report", N, "--out", out)[0] == 0 and grades(out)["jdoe"]["score"] == "2"   # remembered
    plain = blackboard["tmp"] / "plain"
    blackboard["notebook"](plain / "ada.ipynb")
    code, _, err = run("grade", N, plain, "--out", blackboard["tmp"] / "o4", "--due", DUE)
    assert code == 0 and "applies to nothing" in err and "holds no submission times" in err
    assert grades(blackboard["tmp"] / "o4")["ada"]["late"] == ""


def test_moodle_times_come_from_its_grading_worksheet(fake):
    root = fake["tmp"] / "moodle"
    fake["notebook"](root / "Ada Lovelace_1001_assignsubmission_file_" / f"{N}.ipynb")
    fake["notebook"](root / "Ben Okafor_1002_assignsubmission_file_" / f"{N}.ipynb")
    worksheet = fake["tmp"] / "worksheet.csv"
    worksheet.write_text("Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
                         "Last modified (submission),Last modified (grade),Feedback comments\n"
                         'Participant 1001,Ada Lovelace,ada@example.org,Submitted,,10.00,Yes,'
                         '"Friday, 20 March 2026, 11:59 PM",-,\n'
                         'Participant 1002,Ben Okafor,ben@example.org,Submitted,,10.00,Yes,'
                         '"Saturday, 21 March 2026, 1:00 AM",-,\n')
    code, _, err = fake["run"]("grade", N, root, "--out", fake["out"], "--due", DUE, "--roster", worksheet)
    assert code == 0, err
    rows = grades(fake["out"])
    assert (rows["1001"]["score"], rows["1002"]["score"]) == ("2", "1.5")
    assert rows["1002"]["late_rule"].startswith("submitted 1 hour 1 minute late: −25%")
    sheet = {r["Identifier"]: r for r in csv.DictReader(io.StringIO((fake["out"] / "exports" / f"{N}-moodle.csv"
                                                                      ).read_text()))}
    assert sheet["Participant 1002"]["Grade"] == "7.50"          # counted, scaled to the row's 10


def test_late_days_are_spent_in_due_order_across_the_gradebooks_assignments_and_which_counts(fake):
    from autograder.assignments.scaffold import scaffold

    run, out, course = fake["run"], fake["out"], fake["course"]
    scaffold(course, "05_more")
    (course / "course.toml").write_text(POLICY.replace("[policy]\n", "[policy]\nlate_days = 1\n") + """
[assignments.04_scale.policy]
due = "2026-03-13 23:59"
[assignments.05_more.policy]
due = "2026-03-20 23:59"
counts = "latest_before_due"
""")
    solution_05 = (course / "solutions" / "05_more" / "05_more.ipynb").read_text()

    def attempt(folder: str, assignment: str, when: str) -> Path:
        root = fake["tmp"] / folder
        path = root / f"Lab_jdoe_attempt_{when}_{assignment}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(solution_05 if assignment == "05_more" else (course / "solutions" / N / f"{N}.ipynb").read_text())
        return root

    # 05 graded first: 5 hours late, and the late day is still unspent, so it covers 05 ...
    code, _, err = run("grade", "05_more", attempt("b05", "05_more", "2026-03-21-05-00-00"), "--out", out)
    assert code == 0, err
    assert grades_of(out, "05_more")["jdoe"][:2] == ("2", "submitted 5 hours 1 minute late; 1 late day used: "
                                                           "no penalty")
    # ... until 04, due a week earlier and also late, is graded: the day goes to 04 (due order), 05 pays.
    assert run("grade", N, attempt("b04", N, "2026-03-14-02-00-00"), "--out", out)[0] == 0
    assert grades_of(out, N)["jdoe"][:2] == ("2", "submitted 2 hours 1 minute late; 1 late day used: no penalty")
    assert run("report", "05_more", "--out", out)[0] == 0
    assert grades_of(out, "05_more")["jdoe"][:2] == ("1.5", "submitted 5 hours 1 minute late: −25% (25% per started "
                                                            "day, at most 3 days, then 0)")
    # latest_before_due: an on-time attempt graded earlier counts over the late one, even with fewer points.
    WRONG.add("jdoe")
    try:
        assert run("grade", "05_more", attempt("b05_early", "05_more", "2026-03-19-10-00-00"), "--out", out,
                   "--force")[0] == 0
    finally:
        WRONG.discard("jdoe")
    assert run("grade", "05_more", fake["tmp"] / "b05", "--out", out, "--force")[0] == 0   # the late one again
    assert grades_of(out, "05_more")["jdoe"] == ("1", "", "1")   # counted: the on-time grading, 1 point


def grades_of(out: Path, assignment: str) -> dict[str, tuple]:
    rows = csv.DictReader(io.StringIO((out / "exports" / f"{assignment}-grades.csv").read_text()))
    return {r["id"]: (r["score"], r["late_rule"], r["automatic_score"]) for r in rows}
