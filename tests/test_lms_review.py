# ruff: noqa: F811 - the fake fixture, imported from tests/test_lms_sources.py, is each test's argument
"""What an independent review of the LMS intake and the grading history found, each as a test
(every one failed before its fix): one student's names, files and uploads against the class;
replace, undo, reuse and exports against the gradebook. In-process: intake, and the grade
command on the fake sandbox (the ``fake`` fixture of tests/test_lms_sources.py)."""

from __future__ import annotations

import csv
import io
import os
import zipfile

import pytest

from autograder.lms import archives
from autograder.gradebook import Gradebook
from autograder.lms.intake import collect
from tests import fakes, nbfactory
from tests.test_lms_sources import _canvas_download, blackboard_attempt, by_student, canvas_name
from tests.test_lms_sources import fake  # noqa: F401 - the fixture

A = "01_tf_basics"


def _zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


@pytest.fixture
def nb(tmp_path):
    return nbfactory.make(tmp_path / "nb.ipynb", A).read_bytes()


# ---------------------------------------------------------------- the layout is the LMS's, not a student's

def test_a_canvas_students_moodle_like_file_names_never_make_the_download_moodle(tmp_path):
    root = tmp_path / "canvas"
    root.mkdir()
    for sortable, uid, aid in (("Smith, Alice", "4242", 9001), ("Okafor, Ben", "4243", 9002), ("Chen, Cy", "4244", 9003)):
        nbfactory.make(root / canvas_name(sortable, uid, aid, f"{A}.ipynb"), A)
    nbfactory.make(root / canvas_name("Mallory, M", "777", 9100, f"Smith Alice_4242_assignsubmission_file_{A}.ipynb"),
                   A, solved=False)
    for k in range(3):
        (root / canvas_name("Mallory, M", "777", 9101 + k, f"x_{k}_assignsubmission_file_{k}.png")).write_bytes(b"p")
    items, ignored, layouts = collect([str(root)], A)
    assert layouts == ["canvas"] and sorted(by_student(items)) == ["4242", "4243", "4244", "777"] and not ignored


def test_a_blackboard_title_with_an_underscore_and_numeric_usernames_is_blackboard(tmp_path):
    root = tmp_path / "bb"
    root.mkdir()
    for user, when in (("20231234", "2026-11-01-10-00-00"), ("20235678", "2026-11-01-11-00-00")):
        blackboard_attempt(root, "Lab_1", user, f"Student {user}", when, {f"{A}.ipynb": True})
    items, _, layouts = collect([str(root)], A)
    assert layouts == ["blackboard"] and sorted(by_student(items)) == ["20231234", "20235678"]


def test_a_download_of_one_moodle_participant_is_never_read_from_inside_their_folder(tmp_path, nb):
    folder = "Mallory M_1003_assignsubmission_file_"
    for members in ({f"{folder}/Bob Okafor_1002_assignsubmission_file_/{A}.ipynb": nb},
                    {f"{folder}/bobokafor_4242_1_{A}.ipynb": nb},
                    {"Ana Lima_1004_assignsubmission_file_/lab_2026_11_final.ipynb": nb}):
        items, _, layouts = collect([str(_zip(tmp_path / "one.zip", members))], A)
        assert layouts == ["moodle"] and [i.student for i in items] in (["1003"], ["1004"])


def test_a_name_ending_in_digits_is_settled_by_the_canvas_roster(tmp_path):
    root = tmp_path / "canvas"
    root.mkdir()
    nbfactory.make(root / canvas_name("Mallory_4242", "777", 9100, f"{A}.ipynb"), A)
    people = {"777": "mallory_4242", "4242": "smithalice"}
    items, _, _ = collect([str(root)], A, people=people)
    assert [(i.student, i.lms["attachment_id"]) for i in items] == [("777", "9100")]
    alone, _, _ = collect([str(root)], A)   # without a roster, read as Canvas's own importers read it
    assert [i.student for i in alone] == ["4242"]


def test_one_user_id_under_two_names_is_two_claims_never_merged(tmp_path):
    root = tmp_path / "canvas"
    root.mkdir()
    nbfactory.make(root / canvas_name("Smith, Alice", "4242", 9001, "my lab.ipynb"), A)
    nbfactory.make(root / canvas_name("Mallory_4242", "777", 9100, f"{A}.ipynb"), A, solved=False)
    items, _, _ = collect([str(root)], A)
    assert {i.status for i in items} == {"error"} and all("2 submissions claim the id 4242" in i.problem for i in items)


# ---------------------------------------------------------------- one student's files never sink the download

def test_a_students_odd_files_at_the_top_of_a_download_are_only_theirs(tmp_path, nb, monkeypatch):
    monkeypatch.setattr(archives, "MAX_MEMBER_BYTES", 2**20)
    members = {
        f"Alice Smith_1001_assignsubmission_file_/{A}.ipynb": nb,
        "Mallory M_1003_assignsubmission_file_/Notes.txt": b"x",      # names differing in case only
        "Mallory M_1003_assignsubmission_file_/notes.txt": b"x",
        "Mallory M_1003_assignsubmission_file_/video.mp4": b"\0" * (3 * 2**20),   # not wanted: never a problem
        "Oscar O_1004_assignsubmission_file_/big.ipynb": b"\0" * (3 * 2**20),     # a notebook over the limit
        f"Wang Li_1005_assignsubmission_file_/{'机器学习第一次作业最终版本' * 7}.ipynb": nb,   # 277 bytes of name
    }
    s = by_student(collect([str(_zip(tmp_path / "moodle.zip", members))], A)[0])
    assert s["1001"][0].problem is None and s["1005"][0].problem is None
    assert "holds no notebook" in s["1003"][0].problem
    assert "could not be unpacked" in s["1004"][0].problem and "over the limit" in s["1004"][0].problem


@pytest.mark.parametrize("broken", ["bad utf-8 name", "unsupported method", "nul in name"])
def test_a_students_zip_that_python_cannot_even_read_makes_only_them_invalid(tmp_path, nb, broken):
    class Raw(zipfile.ZipInfo):
        def __init__(self, raw, flag):
            super().__init__(raw.decode("cp437"))
            self.raw, self.flag = raw, flag

        def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own name
            return self.raw, (self.flag_bits | 0x800) if self.flag else (self.flag_bits & ~0x800)

    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as z:
        if broken == "bad utf-8 name":
            z.writestr(Raw(b"\xff\xfe.ipynb", True), nb)
        elif broken == "nul in name":
            z.writestr(Raw(b"lab.ipynb\x00evil.txt", False), nb)
        else:
            z.writestr(f"{A}.ipynb", nb)
    if broken == "unsupported method":
        data = bytearray(upload.read_bytes())
        for sig, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
            at = data.find(sig)
            data[at + offset:at + offset + 2] = (9).to_bytes(2, "little")   # Deflate64
        upload.write_bytes(bytes(data))
    root = tmp_path / "canvas"
    root.mkdir()
    nbfactory.make(root / canvas_name("Smith, Alice", "4242", 9001, f"{A}.ipynb"), A)
    (root / canvas_name("Mallory, M", "777", 9100, "work.zip")).write_bytes(upload.read_bytes())
    s = by_student(collect([str(root)], A)[0])
    assert s["4242"][0].problem is None and "work.zip could not be opened" in s["777"][0].problem


def test_each_student_has_their_own_budget_for_their_uploads(tmp_path, nb, monkeypatch):
    monkeypatch.setattr(archives, "MAX_UPLOAD_BYTES", 2**20)
    root = tmp_path / "canvas"
    root.mkdir()
    _zip(root / canvas_name("Aardvark, Mallory", "777", 9100, "work.zip"),
         {f"data{i}.txt": b"a" * (2**20 // 3) for i in range(4)})   # more than her budget
    _zip(root / canvas_name("Smith, Alice", "4242", 9001, "lab.zip"), {f"{A}.ipynb": nb})
    s = by_student(collect([str(root)], A)[0])
    assert s["4242"][0].problem is None and "could not be opened" in s["777"][0].problem


def test_a_folder_name_that_is_not_utf8_grades_the_class(fake):
    run, out, tmp = fake["run"], fake["out"], fake["tmp"]
    root = tmp / "moodle"
    fake["notebook"](root / "Ben Okafor_1002_assignsubmission_file_" / f"{fakes.NAME}.ipynb")
    bad = os.fsencode(str(root)) + b"/Jos\xe9 M\xfcller_1001_assignsubmission_file_"
    os.makedirs(bad)
    with open(bad + f"/{fakes.NAME}.ipynb".encode(), "wb") as fh:
        fh.write((root / "Ben Okafor_1002_assignsubmission_file_" / f"{fakes.NAME}.ipynb").read_bytes())
    code, said, _ = run("grade", fakes.NAME, root, "--out", out)
    assert code == 0 and "1001: 2/2" in said and "1002: 2/2" in said


# ---------------------------------------------------------------- sources

def test_the_instructors_own_linked_folder_and_the_same_zip_twice(tmp_path, nb):
    root = tmp_path / "canvas"
    root.mkdir()
    nbfactory.make(root / canvas_name("Smith, Alice", "4242", 9001, f"{A}.ipynb"), A)
    (tmp_path / "downloads").symlink_to(root)
    items, _, layouts = collect([str(tmp_path / "downloads")], A)
    assert layouts == ["canvas"] and [(i.student, i.problem) for i in items] == [("4242", None)]
    archive = _zip(tmp_path / "d.zip", {p.name: p.read_bytes() for p in root.iterdir()})
    items, _, _ = collect([archive, str(archive)], A)
    assert [(i.student, i.problem) for i in items] == [("4242", None)]


def test_a_graded_and_an_invalid_submission_of_one_id_in_two_sources_are_both_errors(tmp_path):
    for where, display in (("first", f"{A}.ipynb"), ("second", "draft.pdf")):
        (tmp_path / where).mkdir()
        path = tmp_path / where / canvas_name("Smith, Alice", "4242", 9001, display)
        nbfactory.make(path, A) if display.endswith(".ipynb") else path.write_bytes(b"%PDF")
    items, _, _ = collect([str(tmp_path / "first"), str(tmp_path / "second")], A)
    assert [i.status for i in items] == ["error", "error"]


def test_two_notebooks_both_named_like_the_assignment_say_so(tmp_path):
    root = tmp_path / "canvas"
    root.mkdir()
    nbfactory.make(root / canvas_name("Smith, Alice", "4242", 9001, f"{A}.ipynb"), A)
    nbfactory.make(root / canvas_name("Smith, Alice", "4242", 9002, f"{A}-1.ipynb"), A)
    [item] = collect([str(root)], A)[0]
    assert f"several notebooks and 2 named like {A}.ipynb" in item.problem


# ---------------------------------------------------------------- the gradebook and the exports

def test_replace_as_the_batch_advises_counts_the_kept_result(fake):
    run, out = fake["run"], fake["out"]
    assert run("grade", fakes.NAME, _canvas_download(fake, "lab"), "--out", out)[0] == 0
    other = _canvas_download(fake, "other", "03_other", "03_other.ipynb")
    assert "--replace counts it instead" in run("grade", fakes.NAME, other, "--out", out)[2]
    run("grade", fakes.NAME, other, "--out", out, "--replace")
    assert {r["status"] for r in Gradebook(out / "gradebook.sqlite").results(fakes.NAME)} == {"invalid"}


def test_an_anonymous_download_with_a_roster_says_nobody_is_missing(fake):
    run, out, tmp = fake["run"], fake["out"], fake["tmp"]
    root = tmp / "anon"
    fake["notebook"](root / canvas_name(None, "anon_Ab3xY", 11, f"{fakes.NAME}.ipynb"))
    roster = tmp / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,04_scale (555)\n"
                      '"Lovelace, Ada",101,S1,ada,A,\n"Okafor, Ben",102,S2,ben,A,\n')
    code, _, err = run("grade", fakes.NAME, root, "--out", out, "--roster", roster, "--missing-as-zero")
    assert code == 0 and "missing (handed in nothing)" not in err and "leaves out 1 submission" in err
    rows = list(csv.reader(io.StringIO((out / "exports" / f"{fakes.NAME}-canvas.csv").read_text())))
    assert all(r[-1] != "0" for r in rows[1:])


def test_a_new_roster_forgets_the_old_column_and_missing_as_zero_can_be_turned_off(fake):
    run, out, tmp = fake["run"], fake["out"], fake["tmp"]
    lab = _canvas_download(fake, "lab")
    people = '"Lovelace, Ada",101,S1,ada,A,\n"Okafor, Ben",102,S2,ben,A,\n"Wong, Fay",104,S4,fay,A,\n'
    (tmp / "r1.csv").write_text("Student,ID,SIS User ID,SIS Login ID,Section,Lab 4 (555)\n" + people)
    (tmp / "r2.csv").write_text("Student,ID,SIS User ID,SIS Login ID,Section,04_scale (777)\n" + people)
    assert run("grade", fakes.NAME, lab, "--out", out, "--roster", tmp / "r1.csv", "--lms-column", "Lab 4 (555)",
               "--missing-as-zero")[0] == 0
    code, _, err = run("grade", fakes.NAME, lab, "--out", out, "--roster", tmp / "r2.csv")
    assert code == 0, err
    header, *rows = csv.reader(io.StringIO((out / "exports" / f"{fakes.NAME}-canvas.csv").read_text()))
    assert header[-1] == "04_scale (777)" and ["Wong, Fay", "104", "S4", "fay", "A", "0"] in rows
    assert run("report", fakes.NAME, "--out", out, "--no-missing-as-zero")[0] == 0
    rows = list(csv.reader(io.StringIO((out / "exports" / f"{fakes.NAME}-canvas.csv").read_text())))
    assert ["Wong, Fay", "104", "S4", "fay", "A", ""] in rows


def test_the_same_notebook_re_uploaded_late_keeps_its_grade_under_the_new_lms_names(fake):
    run, out, tmp = fake["run"], fake["out"], fake["tmp"]
    first = fake["notebook"](tmp / "d1" / canvas_name("Lovelace, Ada", "101", 5001, f"{fakes.NAME}.ipynb"))
    assert run("grade", fakes.NAME, tmp / "d1", "--out", out)[0] == 0
    (tmp / "d2").mkdir()
    (tmp / "d2" / canvas_name("Lovelace, Ada", "101", 6001, f"{fakes.NAME}.ipynb", late=True)).write_bytes(
        first.read_bytes())
    code, said, _ = run("grade", fakes.NAME, tmp / "d2", "--out", out)
    assert code == 0 and "unchanged, not regraded" in said
    assert zipfile.ZipFile(out / "exports" / f"{fakes.NAME}-feedback.zip").namelist() == [
        "lovelaceada_LATE_101_6001_feedback.html"]


def test_a_student_whose_id_is_claimed_twice_is_not_also_missing_and_the_worksheet_keeps_its_cells(fake):
    run, out, tmp = fake["run"], fake["out"], fake["tmp"]
    fake["notebook"](tmp / "a" / "José Müller_1001_assignsubmission_file_" / f"{fakes.NAME}.ipynb")
    fake["notebook"](tmp / "a" / "Ben Okafor_1002_assignsubmission_file_" / f"{fakes.NAME}.ipynb")
    fake["notebook"](tmp / "b" / "José Müller_1001_assignsubmission_file_" / f"{fakes.NAME}.ipynb")
    sheet = tmp / "worksheet.csv"
    sheet.write_text("Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
                     "Last modified (submission),Last modified (grade),Feedback comments\n"
                     "Participant 1001,José Müller,j@example.org,Submitted,,100.00,Yes,-,-,\n"
                     "Participant 1002,Ben Okafor,b@example.org,Submitted,,100.00,Yes,-,-,\n", encoding="utf-8")
    code, _, err = run("grade", fakes.NAME, tmp / "a", tmp / "b", "--out", out, "--roster", sheet,
                       "--missing-as-zero")
    assert code == 1 and "missing (handed in nothing)" not in err
    rows = {r["Identifier"]: r for r in csv.DictReader(io.StringIO(
        (out / "exports" / f"{fakes.NAME}-moodle.csv").read_text()))}
    assert rows["Participant 1001"]["Grade"] == "" and rows["Participant 1002"]["Last modified (grade)"] == "-"


def test_undo_in_a_folder_without_a_gradebook_creates_none(fake):
    code, _, err = fake["run"]("undo", fakes.NAME, "--out", fake["out"])
    assert code == 2 and "no gradebook" in err and not (fake["out"] / "gradebook.sqlite").exists()
