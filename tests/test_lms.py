"""Submissions in from Canvas, Moodle and Blackboard as they download them; grades and feedback out.

Fast tests read layouts, archives and rosters without grading; the slow ones grade zips
built here from the solution and the stub, as an instructor would (assignment 01).
"""

import csv
import io
import json
import struct
import zipfile

import pytest

from autograder.lms.archives import ArchiveRefused, extract
from autograder.lms.intake import collect
from autograder.lms.roster import read_roster
from tests import nbfactory
from tests.conftest import json_lines

A = "01_tf_basics"
FULL = 22.0


def by_student(items):
    out = {}
    for item in items:
        out.setdefault(item.student, []).append(item)
    return out


# ---------------------------------------------------------------- layouts

MOODLE = {  # folder -> notebooks in it (None: the stub)
    "Ada Lovelace_1001_assignsubmission_file_": {f"{A}.ipynb": True},
    "Ben Okafor_1002_assignsubmission_file_": {f"{A}.ipynb": True, "scratch work.ipynb": False},
    "Chloé Martin_1003_assignsubmission_file_": {"my notebook.ipynb": False},
    "Dev Patel_1004_assignsubmission_file_": {},                                   # handed in a PDF only
    "Emma Stone_1005_assignsubmission_file_": {f"{A}.ipynb": False},
}


def make_moodle(root):
    for folder, files in MOODLE.items():
        (root / folder).mkdir(parents=True)
        for name, solved in files.items():
            nbfactory.make(root / folder / name, A, solved=solved)
        if not files:
            (root / folder / "report.pdf").write_bytes(b"%PDF-1.4")
    return root


# Named as instructure/canvas-lms lib/content_zipper.rb names them: the sortable name ("Lovelace, Ada")
# lower-cased with every non-word character removed, _LATE when late, the user id, the attachment id
# (one per file of the current submission), the file's display name.
CANVAS = {  # file -> solved
    "lovelaceada_12345_67890_01_tf_basics.ipynb": True,
    "okaforben_12346_67891_01_tf_basics.ipynb": False,
    "martinchloe_LATE_12347_67999_01_tf_basics-1.ipynb": True,            # late; a second upload of the name
    "pateldev_12348_67893_01_tf_basics.ipynb": True,
    "pateldev_12348_67900_scratch.ipynb": False,                            # a second file of that submission
    "stoneemma_12349_67894_01_tf_basics.ipynb": "broken",
    "nguyenan_12350_67895_lab.ipynb": True,                                 # another file name, the only one
}
CANVAS_ROSTER = ("Student,ID,SIS User ID,SIS Login ID,Section,Lab 1 (123456),Current Score\n"
                 "    Points Possible,,,,,22,(read only)\n"
                 + "".join(f'"{n}",{i},S{i},{n.split(",")[1].strip().lower()},Sec A,,\n' for n, i in (
                     ("Lovelace, Ada", 12345), ("Okafor, Ben", 12346), ("Martin, Chloe", 12347), ("Patel, Dev", 12348),
                     ("Stone, Emma", 12349), ("Nguyen, An", 12350))))


def make_canvas(root):
    root.mkdir(parents=True)
    for name, solved in CANVAS.items():
        if solved == "broken":
            (root / name).write_text('{"nbformat": 4, "cells": [')
        else:
            nbfactory.make(root / name, A, solved=solved)
    return root


def zip_folder(folder, target):
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def test_moodle_folders_give_one_student_each_by_participant_id(tmp_path):
    items, ignored, layouts = collect([str(make_moodle(tmp_path / "moodle"))], A)
    assert layouts == ["moodle"]
    s = by_student(items)
    assert sorted(s) == ["1001", "1002", "1003", "1004", "1005"] and all(len(v) == 1 for v in s.values())
    assert s["1001"][0].name == "Ada Lovelace" and s["1001"][0].problem is None
    assert s["1002"][0].path.name == f"{A}.ipynb" and s["1002"][0].problem is None      # resolved by its name
    assert any("scratch work.ipynb (not the notebook of 1002)" in t for t in ignored)
    assert s["1003"][0].path.name == "my notebook.ipynb" and s["1003"][0].problem is None  # the only one
    assert s["1004"][0].problem == "not graded: this submission holds no notebook (.ipynb) (it holds report.pdf)"
    assert s["1002"][0].lms == {"layout": "moodle", "participant": "1002",
                                "folder": "Ben Okafor_1002_assignsubmission_file_"}


def test_canvas_files_by_user_id_every_file_of_the_current_submission_considered(tmp_path):
    items, ignored, layouts = collect([str(make_canvas(tmp_path / "canvas"))], A)
    assert layouts == ["canvas"]
    s = by_student(items)
    assert sorted(s) == ["12345", "12346", "12347", "12348", "12349", "12350"]
    assert all(len(v) == 1 and v[0].problem is None for v in s.values())
    assert s["12347"][0].path.name == "martinchloe_LATE_12347_67999_01_tf_basics-1.ipynb"
    assert s["12347"][0].lms["late"] is True and s["12345"][0].lms["late"] is False
    assert s["12348"][0].path.name == "pateldev_12348_67893_01_tf_basics.ipynb"   # named like the assignment
    assert any("pateldev_12348_67900_scratch.ipynb (not the notebook of 12348)" in t for t in ignored)
    assert s["12345"][0].name == "lovelaceada"
    assert s["12345"][0].lms["prefix"] == "lovelaceada_12345" and s["12345"][0].lms["user_id"] == "12345"
    assert s["12345"][0].lms["attachment_id"] == "67890"
    assert s["12350"][0].problem is None


def test_blackboard_attempts_by_username_and_the_latest_counts(tmp_path):
    root = tmp_path / "bb"
    root.mkdir()
    for name, solved in (("Lab 1_jdoe_attempt_2026-11-01-10-00-00_01_tf_basics.ipynb", False),
                         ("Lab 1_jdoe_attempt_2026-11-02-09-30-00_01_tf_basics.ipynb", True),
                         ("Lab 1_asmith_attempt_2026-11-01-11-00-00_01_tf_basics.ipynb", True)):
        nbfactory.make(root / name, A, solved=solved)
    (root / "Lab 1_jdoe_attempt_2026-11-02-09-30-00.txt").write_text("Name: J Doe")
    items, _, layouts = collect([str(root)], A)
    assert layouts == ["blackboard"]
    s = by_student(items)
    latest = [i for i in s["jdoe"] if i.problem is None]
    assert len(latest) == 1 and "2026-11-02" in latest[0].path.name
    assert len(s["jdoe"]) == 2 and s["asmith"][0].problem is None


def test_ids_that_collide_across_folders_are_errors_naming_both(tmp_path):
    make_moodle(tmp_path / "a")
    other = tmp_path / "b" / "Someone Else_1001_assignsubmission_file_"
    other.mkdir(parents=True)
    nbfactory.make(other / f"{A}.ipynb", A)
    items, _, _ = collect([str(tmp_path / "a"), str(tmp_path / "b")], A)
    claims = by_student(items)["1001"]
    assert len(claims) == 2 and all(c.status == "error" for c in claims)
    assert all("Ada Lovelace_1001" in c.problem and "Someone Else_1001" in c.problem for c in claims)


def test_a_zip_and_its_folder_give_the_same_items(tmp_path):
    folder = make_moodle(tmp_path / "moodle")
    archive = zip_folder(folder, tmp_path / "moodle.zip")
    from_zip, _, zip_layouts = collect([str(archive)], A)
    from_folder, _, _ = collect([str(folder)], A)
    key = lambda items: sorted((i.student, i.name, i.path.name, i.problem) for i in items)  # noqa: E731
    assert key(from_zip) == key(from_folder) and zip_layouts == ["moodle"]
    assert all(i.shown.startswith(f"{archive}:") for i in from_zip)


# ---------------------------------------------------------------- archives


def _zip_with(tmp_path, name, member, data=b"{}", symlink=False, declared=None):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo(member)
        if symlink:
            info.external_attr = (0o120777 << 16)
        with archive.open(info, "w") as fh:
            fh.write(data)
        if declared is not None:  # the central directory (zip64) will say `declared` bytes
            archive.filelist[-1].file_size = declared
    return path


@pytest.mark.parametrize("member, kwargs, words", [
    ("../escape.ipynb", {}, "points outside the archive"),
    ("/etc/escape.ipynb", {}, "points outside the archive"),
    ("C:/escape.ipynb", {}, "points outside the archive"),
    ("a/..\\..\\escape.ipynb", {}, "points outside the archive"),
    ("link.ipynb", {"symlink": True, "data": b"/etc/passwd"}, "symbolic link"),
    ("big.ipynb", {"declared": 10 * 2**30}, "declares"),
])
def test_hostile_archives_are_refused_and_write_nothing_outside(tmp_path, member, kwargs, words):
    archive = _zip_with(tmp_path, "hostile.zip", member, **kwargs)
    into = tmp_path / "into"
    into.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ArchiveRefused, match=words):
        extract(archive, into)
    assert sorted(p.name for p in tmp_path.iterdir()) == before and not list(into.iterdir())
    assert not (tmp_path.parent / "escape.ipynb").exists()


def test_a_zip_bomb_is_refused_by_what_it_declares_and_by_what_it_inflates(tmp_path, monkeypatch):
    from autograder.lms import archives

    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(3):
            archive.writestr(f"n{i}.ipynb", b"0" * (40 * 2**20))  # 120 MB declared, ~120 KB stored
    assert path.stat().st_size < 2**20
    monkeypatch.setattr(archives, "MAX_TOTAL_BYTES", 100 * 2**20)
    (tmp_path / "a").mkdir()
    with pytest.raises(ArchiveRefused, match="declared in all"):
        extract(path, tmp_path / "a")
    # A header that understates its size: the bytes inflated are counted.
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(signature)
        struct.pack_into("<I", raw, at + offset, 10)
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(raw))
    (tmp_path / "b").mkdir()
    with pytest.raises(ArchiveRefused):
        extract(liar, tmp_path / "b")


def test_nested_zips_and_macos_forks(tmp_path):
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr(f"{A}.ipynb", b"{}")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.write(inner, "Ada Lovelace_1001_assignsubmission_file_/work.zip")
        archive.writestr("__MACOSX/._x.ipynb", b"junk")
        archive.writestr("Ada Lovelace_1001_assignsubmission_file_/._hidden.ipynb", b"junk")
        archive.writestr("Ada Lovelace_1001_assignsubmission_file_/report.pdf", b"%PDF")
    into = tmp_path / "into"
    into.mkdir()
    assert extract(outer, into) == 1
    assert [p.relative_to(into).as_posix() for p in into.rglob("*.ipynb")] == [
        f"Ada Lovelace_1001_assignsubmission_file_/work/{A}.ipynb"]


def test_a_refused_zip_is_a_usage_error(tmp_path, run_cli):
    archive = _zip_with(tmp_path, "hostile.zip", "../escape.ipynb")
    proc = run_cli("grade", A, archive, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(f"autograder: error: {archive}: refused:")


# ---------------------------------------------------------------- rosters and exports


def test_canvas_roster_and_its_gradebook_import_file(tmp_path):
    from autograder.lms.exports import canvas_csv

    path = tmp_path / "canvas.csv"
    path.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Lab 1: TF basics (123456),Quiz 2 (222)\n"
                    "    Points Possible,,,,,22,10\n"
                    '"Lovelace, Ada",12345,S001,ada,Sec A,,\n'
                    '"Okafor, Ben",12346,S002,ben,Sec B,,\n', encoding="utf-8")
    roster = read_roster(path)
    assert roster.kind == "canvas" and [p.id for p in roster.people] == ["12345", "12346"]
    assert roster.assignment_column("tf basics") == "Lab 1: TF basics (123456)"
    results = [{"student": "12345", "name": "lovelace ada", "status": "graded", "final_score": 20.0,
                "max_score": 22.0, "lms": {"user_id": "12345"}},
               {"student": "12346", "status": "invalid", "final_score": 0.0, "lms": {"user_id": "12346"}}]
    text, notes = canvas_csv(results, "01_tf_basics", roster, "Lab 1: TF basics (123456)", False)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Lab 1: TF basics (123456)"]
    assert rows[1] == ["Lovelace, Ada", "12345", "S001", "ada", "Sec A", "20"]
    assert rows[2] == ["Okafor, Ben", "12346", "S002", "ben", "Sec B", ""]   # invalid: blank, never 0


def test_moodle_worksheet_is_filled_in_as_it_is(tmp_path):
    from autograder.lms.exports import moodle_worksheet

    path = tmp_path / "worksheet.csv"
    path.write_text("\ufeffIdentifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
                    "Last modified (submission),Last modified (grade),Feedback comments\n"
                    "Participant 1001,Ada Lovelace,ada@example.org,Submitted,,22.00,Yes,-,-,\n"
                    "Participant 1002,Ben Okafor,ben@example.org,No submission,,22.00,Yes,-,-,\n", encoding="utf-8")
    roster = read_roster(path)
    assert roster.kind == "moodle-worksheet" and roster.by_id()["1001"].name == "Ada Lovelace"
    results = [{"student": "1001", "status": "graded", "final_score": 19.0, "max_score": 22.0,
                "checks": [{"exercise": "evaluate", "passed": False}], "lms": {"participant": "1001"}}]
    rows = list(csv.DictReader(io.StringIO(moodle_worksheet(results, roster, False)[0])))
    assert rows[0]["Grade"] == "19.00" and rows[0]["Feedback comments"].startswith("19/22; to look at again: evaluate")
    assert rows[0]["Email address"] == "ada@example.org" and rows[1]["Grade"] == ""
    assert list(rows[0]) == roster.columns


def test_a_roster_that_is_neither_is_refused(tmp_path):
    from autograder.assignments.course import UsageError

    path = tmp_path / "x.csv"
    path.write_text("name;mark\nAda;3\n")
    with pytest.raises(UsageError, match="not a roster this grader reads"):
        read_roster(path)


# ---------------------------------------------------------------- graded end to end

@pytest.fixture(scope="module")
def moodle_graded(tmp_path_factory, run_cli):
    base = tmp_path_factory.mktemp("moodle")
    archive = zip_folder(make_moodle(base / "download"), base / "moodle.zip")
    worksheet = base / "worksheet.csv"
    worksheet.write_text("Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
                         "Last modified (submission),Last modified (grade),Feedback comments\n"
                         + "".join(f"Participant {f.split('_')[1]},{f.split('_')[0]},x@example.org,Submitted,,22.00,"
                                   "Yes,-,-,\n" for f in MOODLE)
                         + "Participant 1006,Fay Wong,fay@example.org,No submission,,22.00,Yes,-,-,\n")
    proc = run_cli("grade", A, archive, "--json", "--out", base / "out", "--roster", worksheet, "--jobs", "2")
    return {"proc": proc, "results": json_lines(proc.stdout), "out": base / "out", "base": base,
            "folder": base / "download"}


@pytest.mark.slow
def test_a_moodle_zip_grades_five_students_by_participant_id(moodle_graded):
    proc, results, out = moodle_graded["proc"], moodle_graded["results"], moodle_graded["out"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "layout moodle (detected)" in proc.stderr
    assert sorted(results) == ["1001", "1002", "1003", "1004", "1005"]
    assert results["1001"]["name"] == "Ada Lovelace" and results["1001"]["score"] == FULL
    assert results["1002"]["score"] == FULL            # two notebooks: the one named like the assignment
    assert results["1003"]["score"] == 0.0 and results["1003"]["status"] == "graded"   # its only one
    assert results["1004"]["status"] == "invalid" and "no notebook" in results["1004"]["message"]
    assert results["1001"]["submission"].endswith(f"Ada Lovelace_1001_assignsubmission_file_/{A}.ipynb")
    rows = {r["Identifier"]: r for r in csv.DictReader(io.StringIO((out / "exports" / f"{A}-moodle.csv").read_text()))}
    assert rows["Participant 1001"]["Grade"] == "22.00" and rows["Participant 1005"]["Grade"] == "0.00"
    assert rows["Participant 1004"]["Grade"] == "" and rows["Participant 1006"]["Grade"] == ""
    assert "Fay Wong (1006): missing (handed in nothing)" in proc.stderr
    with zipfile.ZipFile(out / "exports" / f"{A}-feedback.zip") as archive:
        assert "Ada Lovelace_1001_assignsubmission_file_/feedback.html" in archive.namelist()
    report = (out / "report" / A / "index.html").read_text()
    assert "Ada Lovelace" in report and "Fay Wong" in report and "no notebook" in report


@pytest.mark.slow
def test_the_same_submissions_from_the_zip_and_from_its_folder_give_the_same_gradebook(moodle_graded, run_cli):
    import sqlite3

    base = moodle_graded["base"]
    proc = run_cli("grade", A, moodle_graded["folder"], "--out", base / "out_folder", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]

    def rows(out):
        db = sqlite3.connect(out / "gradebook.sqlite")
        found = db.execute("SELECT student, status, score, checks, sha256 FROM grades ORDER BY student").fetchall()
        # limit_s follows the machine's load at the moment a check runs (by design), so it is left out
        return [(s, st, sc, [{k: v for k, v in c.items() if k != "limit_s"} for c in json.loads(ch)], sha)
                for s, st, sc, ch, sha in found]

    first, second = rows(base / "out_folder"), rows(moodle_graded["out"])
    # (invalid students are stored too, with no checks: 1004 handed in a PDF only)
    assert first == second and len(first) >= 2 and all(checks for _, st, _, checks, _ in first if st == "graded")
    assert [(s, st) for s, st, _, _, _ in first if st != "graded"] == [("1004", "invalid")]


@pytest.mark.slow
def test_a_canvas_zip_with_a_late_and_a_two_file_submission_and_its_import_file(tmp_path, run_cli):
    archive = zip_folder(make_canvas(tmp_path / "download"), tmp_path / "submissions.zip")
    roster = tmp_path / "gradebook.csv"
    roster.write_text(CANVAS_ROSTER)
    proc = run_cli("grade", A, archive, "--json", "--out", tmp_path / "out", "--roster", roster,
                   "--lms-column", "Lab 1 (123456)", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = {r["student"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert len(results) == 6 and not any("superseded" in r["message"] for r in results.values())
    assert results["12347"]["score"] == FULL and results["12347"]["lms"]["late"] is True
    assert results["12348"]["score"] == FULL and results["12347"]["name"] == "Martin, Chloe"
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "exports" / f"{A}-canvas.csv").read_text())))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Lab 1 (123456)"]
    assert all(len(r) == 6 and r[1] for r in rows[1:]) and len(rows) == 7
    scores = {r[1]: r[5] for r in rows[1:]}
    assert scores == {"12345": "22", "12346": "0", "12347": "22", "12348": "22", "12349": "", "12350": "22"}
    assert not (tmp_path / "out" / "exports" / f"{A}-moodle.csv").exists()   # a Canvas run: Canvas files only
    with zipfile.ZipFile(tmp_path / "out" / "exports" / f"{A}-feedback.zip") as fb:
        assert "martinchloe_LATE_12347_67999_feedback.html" in fb.namelist()
    page = (tmp_path / "out" / "feedback" / A / "12347.html").read_text()
    assert "feedback for Martin, Chloe" in page


@pytest.mark.slow
def test_override_refreshes_feedback_and_exports_and_refuses_out_of_range(tmp_path, run_cli):
    archive = zip_folder(make_canvas(tmp_path / "download"), tmp_path / "submissions.zip")
    roster = tmp_path / "gradebook.csv"
    roster.write_text(CANVAS_ROSTER)
    out = tmp_path / "out"
    assert run_cli("grade", A, archive, "--out", out, "--jobs", "2", "--roster", roster,
                   "--lms-column", "Lab 1 (123456)").returncode == 0
    refused = run_cli("override", A, "12346", "30", "--reason", "typo", "--out", out)
    assert refused.returncode == 2 and "outside 0..22" in refused.stderr
    done = run_cli("override", A, "12346", "15", "--reason", "late work accepted by hand", "--out", out)
    assert done.returncode == 0 and "12346: 0 -> 15" in done.stdout
    page = (out / "feedback" / A / "12346.html").read_text()
    assert "set by hand: late work accepted by hand" in page and "15" in page
    rows = {r[1]: r[5] for r in csv.reader(io.StringIO((out / "exports" / f"{A}-canvas.csv").read_text()))}
    assert rows["12346"] == "15"
    # A regrade keeps the override in every output (the feedback page, zip, report and CSVs).
    assert run_cli("grade", A, archive, "--out", out, "--jobs", "2", "--force").returncode == 0
    assert run_cli("report", A, "--out", out).returncode == 0
    assert "set by hand: late work accepted by hand" in (out / "feedback" / A / "12346.html").read_text()
    assert "Score: 15 / 22" in (out / "feedback" / A / "12346.txt").read_text()
    with zipfile.ZipFile(out / "exports" / f"{A}-feedback.zip") as fb:
        assert b"set by hand: late work accepted by hand" in fb.read("okaforben_12346_67891_feedback.html")
    rows = {r[1]: r[5] for r in csv.reader(io.StringIO((out / "exports" / f"{A}-canvas.csv").read_text()))}
    grades = {r["id"]: r for r in csv.DictReader(io.StringIO((out / "exports" / f"{A}-grades.csv").read_text()))}
    assert rows["12346"] == "15" and grades["12346"]["score"] == "15" and grades["12346"]["name"] == "Okafor, Ben"
    assert run_cli("override", A, "12346", "99", "--reason", "bonus", "--allow-out-of-range", "--out", out
                   ).returncode == 0


@pytest.mark.slow
def test_a_blackboard_folder_grades_the_latest_attempt(tmp_path, run_cli):
    root = tmp_path / "bb"
    root.mkdir()
    for name, solved in (("Lab 1_jdoe_attempt_2026-11-01-10-00-00_01_tf_basics.ipynb", True),
                         ("Lab 1_jdoe_attempt_2026-11-02-09-30-00_01_tf_basics.ipynb", False),
                         ("Lab 1_asmith_attempt_2026-11-01-11-00-00_01_tf_basics.ipynb", True)):
        nbfactory.make(root / name, A, solved=solved)
    proc = run_cli("grade", A, root, "--json", "--out", tmp_path / "out", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    graded = {r["student"]: r for r in map(json.loads, proc.stdout.splitlines()) if not r.get("not_graded")}
    assert graded["jdoe"]["score"] == 0.0 and "2026-11-02" in graded["jdoe"]["submission"]  # the latest, a stub
    assert graded["asmith"]["score"] == FULL and "layout blackboard (detected)" in proc.stderr


def test_two_students_claiming_one_id_end_the_command_with_1_and_name_both_paths(tmp_path, run_cli):
    for where in ("a", "b"):
        folder = tmp_path / where / "Ada Lovelace_1001_assignsubmission_file_"
        folder.mkdir(parents=True)
        nbfactory.make(folder / f"{A}.ipynb", A)
    proc = run_cli("grade", A, tmp_path / "a", tmp_path / "b", "--json", "--out", tmp_path / "out")
    assert proc.returncode == 1
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["status"] for r in lines] == ["error", "error"]
    assert all(str(tmp_path / "a") in r["message"] and str(tmp_path / "b") in r["message"] for r in lines)
