"""LMS downloads built by each LMS's own rules (the source of each rule is named where it is
used), the attacks of one student's upload on classmates, the grading history (keep, undo,
--replace), --pick, and exports that cannot mislead.

In-process and fast: intake on its own, and the ``grade`` command on the fake sandbox
(tests/fakes.py), which answers per student id. The same attacks graded end to end on both
real backends are in tests/test_lms_attacks_e2e.py.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from autograder import cli
from autograder.gradebook import Gradebook, counts
from autograder.lms.intake import collect
from tests import fakes, nbfactory

A = "01_tf_basics"


def by_student(items):
    out = {}
    for item in items:
        out.setdefault(item.student, []).append(item)
    return out


# ---------------------------------------------------------------- Canvas, by its own code
# instructure/canvas-lms lib/content_zipper.rb: get_filename joins [users_name, "LATE" if late, id]
# with "_" and sanitize_file_name removes every non-word character; users_name is the sortable name,
# lower-cased, with "_<digits>_" collapsed (sanitize_user_name); id is the user id, or
# "anon_<anonymous id>" (5 base58 characters, Anonymity.generate_short_id) with no name when graded
# anonymously; add_upload_submission appends "_<attachment id>_<display name>" for every file of the
# current submission, the display name through sanitize_attachment_filename.

def canvas_name(sortable: str | None, user: str, attachment: int, display: str, late: bool = False) -> str:
    users_name = None
    if sortable is not None:
        users_name = re.sub(r"_(\d+)_", r"\1", sortable)
        users_name = re.sub(r"^(\d+)$", r"\1", users_name).lower()
    prefix = re.sub(r"[^\w]", "", "_".join(p for p in (users_name, "LATE" if late else None, user) if p is not None))
    shown = _ATTACHMENT_UNSAFE.sub("_", display)
    return f"{prefix}_{attachment}_{shown}"


_ATTACHMENT_UNSAFE = re.compile(r'[\x00/\\:*?"<>|]+')   # sanitize_attachment_filename


def test_canvas_name_rules_give_the_names_canvas_writes():
    assert canvas_name("Lovelace, Ada", "70021", 9001, f"{A}.ipynb") == f"lovelaceada_70021_9001_{A}.ipynb"
    assert canvas_name("Müller, José", "7", 1, "a:b.ipynb", late=True) == "müllerjosé_LATE_7_1_a_b.ipynb"
    assert canvas_name(None, "anon_Ab3xY", 5, "x.ipynb", late=True) == "LATE_anon_Ab3xY_5_x.ipynb"


def test_a_canvas_student_with_two_files_is_graded_from_the_notebook_named_like_the_assignment(tmp_path):
    root = tmp_path / "canvas"
    root.mkdir()
    nbfactory.make(root / canvas_name("Lovelace, Ada", "70020", 70021, f"{A}.ipynb"), A)   # all correct
    nbfactory.make(root / canvas_name("Lovelace, Ada", "70020", 70022, "scratch.ipynb"), A, solved=False)
    (root / canvas_name("Lovelace, Ada", "70020", 70023, "notes.pdf")).write_bytes(b"%PDF")
    nbfactory.make(root / canvas_name("Okafor, Ben", "70030", 70031, f"{A}.ipynb", late=True), A)
    items, ignored, layouts = collect([str(root)], A)
    s = by_student(items)
    assert layouts == ["canvas"] and sorted(s) == ["70020", "70030"]
    ada, ben = s["70020"][0], s["70030"][0]
    assert ada.problem is None and ada.path.name == f"lovelaceada_70020_70021_{A}.ipynb"
    assert ada.lms["attachment_id"] == "70021" and ada.lms["late"] is False
    assert ben.problem is None and ben.lms["late"] is True and ben.lms["prefix"] == "okaforben_LATE_70030"
    assert "scratch.ipynb" in ada.notes[0] and not any("superseded" in (i.problem or "") for i in items)


def test_canvas_several_notebooks_none_named_is_invalid_listing_them_and_pick_chooses(tmp_path):
    root = tmp_path / "canvas"
    root.mkdir()
    nbfactory.make(root / canvas_name("Stone, Emma", "41", 1, "draft.ipynb"), A, solved=False)
    nbfactory.make(root / canvas_name("Stone, Emma", "41", 2, "final version.ipynb"), A)
    items, _, _ = collect([str(root)], A)
    assert "several notebooks and none named" in items[0].problem
    assert "draft.ipynb" in items[0].problem and "final version.ipynb" in items[0].problem
    picked, _, _ = collect([str(root)], A, picks={"41": "final version.ipynb"})
    assert picked[0].problem is None and picked[0].student == "41"
    assert picked[0].path.name.endswith("_2_final version.ipynb") and "chosen by the instructor" in picked[0].notes[-1]
    from autograder.errors import UsageError
    with pytest.raises(UsageError, match="no single notebook of that name"):
        collect([str(root)], A, picks={"41": "other.ipynb"})
    with pytest.raises(UsageError, match="no submission of 99"):
        collect([str(root)], A, picks={"99": "x.ipynb"})


def test_an_anonymously_graded_canvas_download(tmp_path):
    root = tmp_path / "anon"
    root.mkdir()
    nbfactory.make(root / canvas_name(None, "anon_Ab3xY", 11, f"{A}.ipynb"), A)
    nbfactory.make(root / canvas_name(None, "anon_q9ZzK", 12, f"{A}.ipynb", late=True), A)
    items, _, layouts = collect([str(root)], A)
    s = by_student(items)
    assert layouts == ["canvas"] and sorted(s) == ["anon_Ab3xY", "anon_q9ZzK"]
    assert s["anon_q9ZzK"][0].lms["late"] is True and s["anon_q9ZzK"][0].lms["anonymous_id"] == "q9ZzK"
    assert all(i.problem is None for i in items)


# ---------------------------------------------------------------- Moodle, by its own code
# moodle/moodle mod/assign/locallib.php download_submissions: a folder per participant,
# "<Full Name>_<participant id>_assignsubmission_file_"; lib/filestorage/zip_archive.php writes
# names in UTF-8 without the zip's UTF-8 flag and reads them back as UTF-8 when they are
# (unmangle_pathname); a zip made on Windows without the flag has CP437 names.

class _RawName(zipfile.ZipInfo):
    """A member whose name bytes are written as given, without the UTF-8 flag."""

    def __init__(self, raw: bytes):
        super().__init__(raw.decode("cp437"))
        self.raw = raw

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own name
        return self.raw, self.flag_bits & ~0x800


def test_a_moodle_zip_without_the_utf8_flag_names_its_students_right(tmp_path):
    notebook = nbfactory.make(tmp_path / "nb.ipynb", A).read_bytes()
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(_RawName(f"José Müller_1001_assignsubmission_file_/{A}.ipynb".encode()), notebook)
        z.writestr(_RawName(f"Zoë Ångström_1002_assignsubmission_file_/{A}.ipynb".encode("cp437")), notebook)
    with zipfile.ZipFile(archive) as z:
        assert not any(i.flag_bits & 0x800 for i in z.infolist())   # the fixture has no flag
    items, _, layouts = collect([str(archive)], A)
    names = {i.student: i.name for i in items}
    assert layouts == ["moodle"] and names["1001"] == "José Müller"   # not "Jos├⌐ M├╝ller"
    assert names["1002"] == "Zoë Ångström"   # CP437 bytes (not UTF-8), read as CP437


# ---------------------------------------------------------------- Blackboard, by its documented format
# Blackboard Learn's "Download assignments": <Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>
# and a receipt <Assignment>_<username>_attempt_<time>.txt that opens with "Name: <Full name>
# (<username>)" and "Assignment: <title>" (the student's own text comes later in it).

def blackboard_attempt(root: Path, title: str, user: str, full: str, when: str, files: dict[str, bool],
                       comment: str = "There are no student comments for this assignment.") -> None:
    for name, solved in files.items():
        nbfactory.make(root / f"{title}_{user}_attempt_{when}_{name}", A, solved=solved)
    listed = "".join(f"\tOriginal filename: {n}\n\tFilename: {title}_{user}_attempt_{when}_{n}\n" for n in files)
    (root / f"{title}_{user}_attempt_{when}.txt").write_text(
        f"Name: {full} ({user})\nAssignment: {title}\nDate Submitted: Monday, 2 November 2026 09:30:00 o'clock GMT\n"
        f"Current Grade: Needs Grading\n\nSubmission Field:\nThere is no student submission text data for this "
        f"assignment.\n\nComments:\n{comment}\n\nFiles:\n{listed}")


def test_blackboard_with_receipts_names_and_attempts(tmp_path):
    root = tmp_path / "bb"
    root.mkdir()
    blackboard_attempt(root, "Lab 1", "j_doe", "Jane Doe", "2026-11-01-10-00-00", {f"{A}.ipynb": False})
    blackboard_attempt(root, "Lab 1", "j_doe", "Jane Doe", "2026-11-02-09-30-00", {f"{A}.ipynb": True},
                       comment="Name: Mallory (alice)")   # the student's own text never names anyone
    items, _, layouts = collect([str(root)], A)
    s = by_student(items)
    assert layouts == ["blackboard"] and sorted(s) == ["j_doe"]   # the username has an underscore
    latest = [i for i in s["j_doe"] if i.problem is None]
    assert len(latest) == 1 and "2026-11-02" in latest[0].path.name and latest[0].name == "Jane Doe"
    assert latest[0].lms["attempt"] == "2026-11-02-09-30-00"
    assert [i.superseded for i in s["j_doe"] if i.problem] == [True]


# ---------------------------------------------------------------- one student's upload is only theirs

def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_a_blackboard_file_name_chosen_by_a_student_never_grades_a_classmate(tmp_path):
    root = tmp_path / "bb"
    root.mkdir()
    blackboard_attempt(root, "Lab 1", "alice", "Alice A", "2026-11-01-10-00-00", {f"{A}.ipynb": True})
    blackboard_attempt(root, "Lab 1", "mallory", "Mallory M", "2026-11-01-11-00-00",
                       {f"x_alice_attempt_2099-12-31-23-59-59_{A}.ipynb": False})
    s = by_student(collect([str(root)], A)[0])
    assert sorted(s) == ["alice", "mallory"] and all(len(v) == 1 and v[0].problem is None for v in s.values())
    assert s["alice"][0].path.name == f"Lab 1_alice_attempt_2026-11-01-10-00-00_{A}.ipynb"
    assert "mallory" in s["mallory"][0].path.name


def test_a_nested_zip_naming_a_classmate_belongs_to_its_uploader(tmp_path):
    solved = nbfactory.make(tmp_path / "solved.ipynb", A).read_bytes()
    blank = nbfactory.make(tmp_path / "blank.ipynb", A, solved=False).read_bytes()
    root = tmp_path / "canvas"
    root.mkdir()
    (root / canvas_name("Alice, A", "111", 500, f"{A}.ipynb")).write_bytes(solved)
    _zip(root / canvas_name("Mallory, M", "222", 600, "sub.zip"),
         {f"alice_111_99999_{A}.ipynb": blank, "Lab 1_alice_attempt_2099-12-31-23-59-59_x.ipynb": b"{}"})
    for source in (root, _folder_zip(root, tmp_path / "download.zip")):
        s = by_student(collect([str(source)], A)[0])
        assert sorted(s) == ["111", "222"] and all(len(v) == 1 for v in s.values())
        assert s["111"][0].problem is None and s["111"][0].path.read_bytes() == solved
        assert s["222"][0].problem is not None and "several notebooks" in s["222"][0].problem  # two, none named


def _folder_zip(folder: Path, target: Path) -> Path:
    return _zip(target, {p.name: p.read_bytes() for p in sorted(folder.iterdir())})


@pytest.mark.parametrize("members, words", [
    ({"../x.ipynb": b"{}"}, "points outside the archive"),
    ({"A.ipynb": b"{}", "a.ipynb": b"{}"}, "two members named"),
])
def test_a_hostile_nested_zip_makes_only_its_uploader_invalid(tmp_path, members, words):
    root = tmp_path / "canvas"
    root.mkdir()
    nbfactory.make(root / canvas_name("Alice, A", "111", 500, f"{A}.ipynb"), A)
    _zip(root / canvas_name("Mallory, M", "222", 600, "sub.zip"), members)
    archive = _folder_zip(root, tmp_path / "download.zip")
    s = by_student(collect([str(archive)], A)[0])
    assert s["111"][0].problem is None
    assert s["222"][0].status == "invalid" and "sub.zip could not be opened" in s["222"][0].problem
    assert words in s["222"][0].problem
    assert not (tmp_path / "x.ipynb").exists() and not (root.parent / "x.ipynb").exists()


def test_blackboard_names_inside_a_students_zip_never_change_the_layout(tmp_path):
    root = tmp_path / "canvas"
    root.mkdir()
    nbfactory.make(root / canvas_name("Alice, A", "111", 500, f"{A}.ipynb"), A)
    nbfactory.make(root / canvas_name("Bob, B", "112", 501, f"{A}.ipynb"), A)
    _zip(root / canvas_name("Eve, E", "204", 600, "x.zip"),
         {f"Lab_u{i}_attempt_2026-01-01-00-00-0{i}_{A}.ipynb": b"{}" for i in range(4)})
    items, ignored, layouts = collect([str(_folder_zip_tree(root, tmp_path / "d.zip"))], A)
    s = by_student(items)
    assert layouts == ["canvas"] and sorted(s) == ["111", "112", "204"]
    assert s["111"][0].problem is None and s["112"][0].problem is None and not ignored
    assert "several notebooks" in s["204"][0].problem


def _folder_zip_tree(folder: Path, target: Path) -> Path:
    return _zip(target, {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                         if p.is_file()})


def test_a_file_that_is_not_a_notebook_says_so(tmp_path):
    script = tmp_path / "lab.py"
    script.write_text("print(1)\n")
    item = collect([str(script)], A)[0][0]
    assert item.problem == "not graded: lab.py is not a Jupyter notebook (.ipynb); hand in the notebook itself"


# ---------------------------------------------------------------- the gradebook's history

def _result(student: str, status: str = "graded", score: float = 2.0, sha: str = "a" * 64, **kw) -> dict:
    return {"student": student, "assignment": "lab", "submission": f"{student}.ipynb", "sha256": sha,
            "status": status, "message": "m", "score": score, "max_score": 2.0, "checks": [], **kw}


def test_which_result_counts():
    graded = _result("ada")
    assert counts(None, _result("ada", "invalid"))
    assert counts(graded, _result("ada", score=0.0, sha="b" * 64))             # the latest graded counts
    assert not counts(graded, _result("ada", "invalid", sha="b" * 64))         # another file: kept
    assert not counts(graded, _result("ada", "invalid", sha=None))             # no file at all: kept
    assert counts(graded, _result("ada", "invalid"))                           # the same file: replaced
    assert counts(graded, _result("ada", "invalid", sha="b" * 64), replace=True)
    assert counts(_result("ada", "invalid"), _result("ada", "invalid", sha="c" * 64))


def test_every_grading_is_kept_and_undo_restores_the_batch_before(tmp_path):
    book = Gradebook(tmp_path / "g.sqlite")
    first = book.begin_batch("lab", ["one.zip"])
    book.record(_result("ada", score=2.0), first)
    book.record(_result("bob", score=1.0), first)
    second = book.begin_batch("lab", ["two.zip"])
    book.record(_result("ada", score=0.0, sha="b" * 64), second)
    book.record(_result("cy"), second)
    assert {r["student"]: r["score"] for r in book.results("lab")} == {"ada": 0.0, "bob": 1.0, "cy": 2.0}
    batch, changed = book.undo_last_batch("lab")
    assert batch["id"] == second and changed == ["ada", "cy"]
    assert {r["student"]: r["score"] for r in book.results("lab")} == {"ada": 2.0, "bob": 1.0}
    history = book.history("ada", "lab")
    assert [(h["batch"], h["counted"], bool(h["undone_at"])) for h in history] == [(first, True, False),
                                                                                    (second, False, True)]
    assert book.latest("ada", "lab")["score"] == 2.0   # an undone batch's results are never reused


def test_a_gradebook_of_one_row_per_student_is_migrated_with_nothing_lost(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE grades (student TEXT NOT NULL, assignment TEXT NOT NULL, status TEXT NOT NULL,
            score REAL NOT NULL, max_score REAL, message TEXT, checks TEXT NOT NULL, sha256 TEXT, submission TEXT,
            assignment_version TEXT, grader_version TEXT, backend TEXT, device TEXT, duration_s REAL,
            graded_at TEXT, result TEXT NOT NULL, PRIMARY KEY (student, assignment));
        CREATE TABLE overrides (student TEXT NOT NULL, assignment TEXT NOT NULL, score REAL NOT NULL,
            reason TEXT NOT NULL, set_at TEXT NOT NULL, PRIMARY KEY (student, assignment));
        INSERT INTO grades VALUES ('ada', 'lab', 'graded', 2, 2, 'ok', '[]', 'x', 'ada.ipynb', 'v', '0.2.1', 'local',
            'cpu', 1.0, 't', '{"student": "ada", "assignment": "lab", "status": "graded", "score": 2, "max_score": 2}');
        INSERT INTO overrides VALUES ('ada', 'lab', 1.5, 'by hand', 't');
    """)
    db.commit()
    db.close()
    book = Gradebook(path)
    [ada] = book.results("lab")
    assert (ada["score"], ada["final_score"], ada["override"]["reason"]) == (2, 1.5, "by hand")
    assert len(book.history("ada", "lab")) == 1 and book.undo_last_batch("lab")[1] == ["ada"]
    book.close()
    assert Gradebook(path).results("lab") == []   # undone: and opening it again migrates nothing twice


# ---------------------------------------------------------------- the grade command on the fake sandbox

@pytest.fixture
def fake(tmp_path, monkeypatch, capsys):
    """``grade``, ``override``, ``history``, ``undo``, ``report`` in-process on the fake sandbox's
    course (04_scale, 2 points): a student whose id starts with "wrong" gets the public check wrong."""
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    course = fakes.course(tmp_path / "course")
    monkeypatch.setenv("AUTOGRADER_COURSE", str(course))

    class Answers(dict):
        def get(self, label, default=None):
            return {fakes.PUBLIC: fakes.WRONG} if str(label).startswith("wrong") else {}

    sandbox = fakes.FakeSandbox()
    sandbox.answers = Answers()
    monkeypatch.setattr(cli, "make_sandbox", lambda *a, **k: sandbox)
    solution = course / "solutions" / fakes.NAME / f"{fakes.NAME}.ipynb"

    def run(*args):
        capsys.readouterr()
        code = cli.main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    def notebook(path: Path, assignment: str = fakes.NAME) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.loads(solution.read_text())
        data.setdefault("metadata", {})["autograder"] = {"assignment": assignment}
        path.write_text(json.dumps(data))
        return path

    return {"run": run, "notebook": notebook, "out": tmp_path / "out", "tmp": tmp_path}


def _canvas_download(fake, folder: str, assignment: str = fakes.NAME, display: str | None = None) -> Path:
    root = fake["tmp"] / folder
    for sortable, uid, aid in (("Lovelace, Ada", "101", 1), ("Okafor, Ben", "102", 2)):
        fake["notebook"](root / canvas_name(sortable, uid, aid, display or f"{assignment}.ipynb"), assignment)
    return root


def test_grading_another_assignments_zip_keeps_every_counted_score_and_undo_restores(fake):
    run, out = fake["run"], fake["out"]
    assert run("grade", fakes.NAME, _canvas_download(fake, "lab"), "--out", out)[0] == 0
    assert run("override", fakes.NAME, "102", "1.5", "--reason", "regrade request", "--out", out)[0] == 0
    code, _, err = run("grade", fakes.NAME, _canvas_download(fake, "other", "03_other", "03_other.ipynb"),
                       "--out", out)
    assert code == 0 and "kept lovelaceada's graded result (2/2 from" in err and "--replace counts it instead" in err
    book = Gradebook(out / "gradebook.sqlite")
    assert {r["student"]: (r["status"], r["final_score"]) for r in book.results(fakes.NAME)} == {
        "101": ("graded", 2.0), "102": ("graded", 1.5)}
    code, history, _ = run("history", "101", fakes.NAME, "--out", out)
    lines = history.splitlines()
    assert code == 0 and "2/2" in lines[0] and "[COUNTS]" in lines[0] and "INVALID" in lines[1]
    assert "notebook of assignment '03_other'" in lines[2]
    # --replace: the invalid results count; undo brings the graded ones back.
    run("grade", fakes.NAME, fake["tmp"] / "other", "--out", out, "--replace", "--force")
    assert {r["status"] for r in book.results(fakes.NAME)} == {"invalid"}
    assert json.loads((out / "results" / fakes.NAME / "101.json").read_text())["status"] == "invalid"
    code, said, _ = run("undo", fakes.NAME, "--out", out)
    assert code == 0 and "101: graded 2/2 again" in said
    assert {r["student"]: r["final_score"] for r in book.results(fakes.NAME)} == {"101": 2.0, "102": 1.5}
    assert json.loads((out / "results" / fakes.NAME / "101.json").read_text())["status"] == "graded"
    assert "Score: 2 / 2" in (out / "feedback" / fakes.NAME / "101.txt").read_text()


def test_an_invalid_student_can_be_overridden_and_picked_and_is_never_also_missing(fake):
    run, out, tmp = fake["run"], fake["out"], fake["tmp"]
    root = tmp / "dl"
    fake["notebook"](root / canvas_name("Stone, Emma", "41", 1, "draft.ipynb"))
    fake["notebook"](root / canvas_name("Stone, Emma", "41", 2, "final.ipynb"))
    roster = tmp / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Lab 4 (555)\n    Points Possible,,,,,10\n"
                      '"Stone, Emma",41,S41,emma,A,\n')
    code, _, err = run("grade", fakes.NAME, root, "--out", out, "--roster", roster, "--lms-column", "Lab 4 (555)")
    assert code == 0 and "Stone, Emma (41): not graded: several notebooks" in err and "missing (handed in nothing)" not in err
    assert run("override", fakes.NAME, "41", "1", "--reason", "graded by hand", "--out", out)[0] == 0
    rows = list(csv.reader(io.StringIO((out / "exports" / f"{fakes.NAME}-canvas.csv").read_text())))
    assert rows[1] == ["Stone, Emma", "41", "S41", "emma", "A", "5"]   # 1 of 2, scaled to the column's 10 points
    assert "set by hand: graded by hand" in (out / "feedback" / fakes.NAME / "41.html").read_text()
    code, said, _ = run("grade", fakes.NAME, root, "--out", out, "--pick", "41=final.ipynb")
    assert code == 0 and "41: 2/2" in said and "final.ipynb was chosen by the instructor" in said
    assert not (out / "results" / fakes.NAME / "final.json").exists()   # no student made from the file name


def test_exports_that_cannot_mislead(fake):
    run, out, tmp = fake["run"], fake["out"], fake["tmp"]
    lab = _canvas_download(fake, "lab")
    roster = tmp / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Lab 2: Linear classifier (123456)\n"
                      '"Lovelace, Ada",101,S1,ada,A,\n"Okafor, Ben",102,S2,ben,A,\n')
    code, _, err = run("grade", fakes.NAME, lab, "--out", out, "--roster", roster)
    assert code == 2 and "no single column named like 04_scale" in err and "Lab 2: Linear classifier (123456)" in err
    code, _, err = run("grade", fakes.NAME, lab, "--out", out, "--roster", roster, "--lms-column", "04_scale")
    assert code == 2 and "not a column of the Canvas roster" in err
    assert not (out / "gradebook.sqlite").exists()   # refused before anything was graded
    code, _, err = run("grade", fakes.NAME, lab, "--out", out)     # no roster: no Canvas file, and why
    assert code == 0 and "export the Canvas gradebook" in err
    assert not (out / "exports" / f"{fakes.NAME}-canvas.csv").exists()
    assert not (out / "exports" / f"{fakes.NAME}-moodle.csv").exists()
    code, _, _ = run("report", fakes.NAME, "--out", out, "--roster", roster,
                     "--lms-column", "Lab 2: Linear classifier (123456)")
    assert code == 0
    rows = list(csv.reader(io.StringIO((out / "exports" / f"{fakes.NAME}-canvas.csv").read_text())))
    assert rows[1:] == [["Lovelace, Ada", "101", "S1", "ada", "A", "2"], ["Okafor, Ben", "102", "S2", "ben", "A", "2"]]
    grades = list(csv.DictReader(io.StringIO((out / "exports" / f"{fakes.NAME}-grades.csv").read_text())))
    assert (grades[0]["name"], grades[0]["id"], grades[0]["sis_user_id"]) == ("Lovelace, Ada", "101", "S1")
    assert "feedback for Lovelace, Ada" in (out / "feedback" / fakes.NAME / "101.html").read_text()


def test_a_moodle_worksheet_is_scaled_to_its_maximum_grade(fake):
    run, out, tmp = fake["run"], fake["out"], fake["tmp"]
    root = tmp / "moodle"
    fake["notebook"](root / "José Müller_1001_assignsubmission_file_" / f"{fakes.NAME}.ipynb")
    fake["notebook"](root / "Ben Okafor_1002_assignsubmission_file_" / "other.ipynb")
    sheet = tmp / "worksheet.csv"
    sheet.write_text("Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
                     "Last modified (submission),Last modified (grade),Feedback comments\n"
                     "Participant 1001,José Müller,j@example.org,Submitted,,100.00,Yes,-,-,\n"
                     "Participant 1002,Ben Okafor,b@example.org,Submitted,,100.00,Yes,-,-,\n", encoding="utf-8")
    code, _, err = run("grade", fakes.NAME, root, "--out", out, "--roster", sheet)
    assert code == 0
    rows = {r["Identifier"]: r for r in csv.DictReader(io.StringIO(
        (out / "exports" / f"{fakes.NAME}-moodle.csv").read_text()))}
    assert rows["Participant 1001"]["Grade"] == "100.00" and rows["Participant 1002"]["Grade"] == "100.00"
    assert not (out / "exports" / f"{fakes.NAME}-canvas.csv").exists()


def test_a_folder_given_to_check_says_it_is_a_folder(tmp_path, capsys):
    assert cli.main(["check", A, str(tmp_path)]) == 2
    assert f"{tmp_path} is a folder: give the notebook file itself" in capsys.readouterr().err
