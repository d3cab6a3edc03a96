"""The LMS's own roster in the service (autograder/service/lms.py): staff upload the Canvas gradebook
export or the Moodle grading worksheet, students get accounts and sign-in links, and the staff page's
download is byte for byte the file ``autograder grade --roster`` writes for the same notebooks,
scores and override, and reads as the LMS's importer reads it.

The files are built by their owners' rules and read back by them:

* Canvas (instructure/canvas-lms): the export as ``lib/gradebook_exporter.rb`` writes it (``Student,
  ID, SIS User ID, SIS Login ID, Section``, assignment columns titled ``<title> (<id>)``, the totals,
  a ``Points Possible`` row); read back by ``app/models/gradebook_importer.rb`` (:func:`canvas_import`).
* Moodle (moodle/moodle): the worksheet of ``mod/assign/feedback/offline`` (``Identifier``
  ``Participant <id>``, ``Full name``, ``Email address``, ``Status``, ``Grade``, ``Maximum Grade``...,
  ``Feedback comments``); read back by its ``importgradescsvlib.php`` (:func:`moodle_import`).

In-process, on the fake sandbox: a student whose service account starts with "wrong" gets the
public check wrong (tests/service/fakes.py); the CLI's sandbox is told the same of their LMS id."""

from __future__ import annotations

import csv
import io
import re

import pytest

from autograder.errors import UsageError
from tests import fakes
from tests.service.helpers import NAME, account, client_for, notebook_bytes, run_queue, upload

COLUMN = "Lab 4: 04_scale (555)"
CANVAS = ("Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (111),Lab 4: 04_scale (555),Current Score,"
          "Unposted Current Score,Final Score\n"
          "    Points Possible,,,,,5,10,(read only),(read only),(read only)\n"
          '"Lovelace, Ada",101,S1,ada,Sec A,5,,100,100,50\n'
          '"Okafor, Ben",102,S2,wrong-ben,Sec A,4,,80,80,40\n'
          '"Stone, Emma",103,S3,emma,Sec B,,,,,\n')
WORKSHEET = ("Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
             "Last modified (submission),Last modified (grade),Feedback comments\n"
             "Participant 1001,José Müller,jose@example.org,Submitted for grading,,100.00,Yes,-,-,\n"
             "Participant 1002,Ben Okafor,wrong-ben@example.org,Submitted for grading,,100.00,Yes,-,-,\n"
             "Participant 1003,Emma Stone,emma@example.org,No submission,,100.00,Yes,-,-,\n")


def canvas_import(text: str) -> dict:
    """What Canvas's gradebook importer (app/models/gradebook_importer.rb) takes from a file: the
    delimiter by identify_delimiter; the header must start ``Student``, ``ID`` (row_has_student_headers?)
    with SIS User ID, SIS Login ID (update_column_count) and the last student column ``Section``, else
    InvalidHeaderRow; non-assignment columns (Current/Final Score...) are stripped; an assignment is
    ``<title> (<id>)`` (Assignment.title_and_id); a ``Points Possible`` row sets its points; a student is
    found by the ID column; a grade is the cell, stripped. -> {"points": {...}, "grades": {uid: {aid: grade}}}"""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1], header
    student_columns = 3
    if re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        student_columns += 2
    assert "Section" in header[student_columns - 1], "InvalidHeaderRow"
    skip = re.compile("Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|Override")
    assignments = {}
    for index, title in enumerate(header[student_columns:], start=student_columns):
        if skip.search(title):
            continue
        match = re.fullmatch(r"(.*)\s\((\d+)\)", title)
        assert match, f"{title!r} would be a new assignment in Canvas"
        assignments[match.group(2)] = index
    out = {"points": {}, "grades": {}}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            out["points"] = {a: row[i] for a, i in assignments.items()}
        elif all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, re.I) for c in row):
            continue
        else:
            out["grades"][row[1]] = {a: row[i].strip() for a, i in assignments.items()}
    return out


def moodle_import(text: str) -> dict:
    """What Moodle's worksheet upload (mod/assign/feedback/offline/importgradescsvlib.php) takes: the
    columns ``Identifier``, ``Grade`` and ``Last modified (grade)`` must be there (init() fails
    otherwise); each row's id is the Identifier less "Participant " (get_string('hiddenuser')); its
    grade the Grade cell and its comment the ``Feedback comments`` column. -> {participant: (grade, comment)}"""
    rows = list(csv.reader(io.StringIO(text)))
    columns = rows[0]
    assert {"Identifier", "Grade", "Last modified (grade)"} <= set(columns), columns
    at = {c: columns.index(c) for c in ("Identifier", "Grade", "Feedback comments")}
    return {row[at["Identifier"]][len("Participant "):]: (row[at["Grade"]], row[at["Feedback comments"]])
            for row in rows[1:]}


def _post_roster(client, text: str, filename: str = "roster.csv", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = text.encode() if isinstance(text, str) else text
    return client.post(f"/staff/a/{NAME}/lms-roster/", {"roster": SimpleUploadedFile(filename, data), **fields})


def _cli(svc, tmp_path, monkeypatch, capsys, wrong: set[str]):
    """``autograder`` in-process on the fake sandbox, the students ``wrong`` getting the public check wrong."""
    from autograder import cli

    monkeypatch.setenv("AUTOGRADER_COURSE", str(svc["course"]))

    class Answers(dict):
        def get(self, label, default=None):
            return {fakes.PUBLIC: fakes.WRONG} if label in wrong else {}

    sandbox = fakes.FakeSandbox()
    sandbox.answers = Answers()
    monkeypatch.setattr(cli, "make_sandbox", lambda *a, **k: sandbox)

    def run(*args):
        capsys.readouterr()
        code = cli.main([str(a) for a in args])
        assert code == 0, capsys.readouterr()
    return run


def _notebook(svc, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(notebook_bytes(svc["course"]))
    return path


def _grade_in_service(svc, who: list[str]) -> None:
    for username in who:
        assert upload(client_for(account(username)), notebook_bytes(svc["course"])).status_code == 302
    run_queue()


def test_a_canvas_export_gives_accounts_and_the_cli_s_import_file(svc, tmp_path, monkeypatch, capsys):
    from django.contrib.auth import get_user_model

    prof, ta = account("prof", "instructor"), account("tara", "ta")
    account("ada")                                       # from an earlier CSV roster: kept, linked by SIS Login ID
    staff = client_for(prof)
    assert _post_roster(client_for(ta), CANVAS).status_code == 403            # TAs change no course setting
    assert _post_roster(client_for(account("ada")), CANVAS).status_code == 403
    page = _post_roster(staff, CANVAS, filename="Grades-Course.csv")
    assert page.status_code == 200, page.content.decode()
    text = page.content.decode()
    links = dict(re.findall(r"<td>([^<]+)</td><td>[^<]*</td><td>(?:new)?</td><td><code>(http://testserver/signin/"
                            r"[^<]+/)</code>", text))
    assert set(links) == {"ada", "wrong-ben", "emma"} and "Lab 4: 04_scale (555)" in text
    users = get_user_model().objects
    assert users.get(username="emma").profile.display_name == "Stone, Emma"
    assert users.get(username="ada").profile.role == "student" and users.filter(username="101").count() == 0
    assert client_for().get(links["emma"]).status_code == 200                   # a working sign-in link

    # the same notebooks graded by the service and by `autograder grade --roster`; one override in each
    _grade_in_service(svc, ["ada", "wrong-ben", "zed"])                      # zed: not on the LMS's roster
    assert staff.post(f"/staff/a/{NAME}/override/", {"student": "wrong-ben", "score": "1.5",
                                                     "reason": "appeal"}).status_code == 302
    download = client_for(ta).get(f"/staff/a/{NAME}/lms/canvas.csv")      # TAs download
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert download["Content-Disposition"] == f'attachment; filename="{NAME}-canvas.csv"'
    assert client_for(ta).get(f"/staff/a/{NAME}/lms/moodle.csv").status_code == 404
    assert client_for(account("ada")).get(f"/staff/a/{NAME}/lms/canvas.csv").status_code == 403

    run = _cli(svc, tmp_path, monkeypatch, capsys, wrong={"102"})
    folder, out = tmp_path / "handed-in", tmp_path / "out"
    for uid in ("101", "102", "zed"):
        _notebook(svc, folder / f"{uid}.ipynb")
    (tmp_path / "canvas.csv").write_text(CANVAS)
    run("grade", NAME, folder, "--out", out, "--roster", tmp_path / "canvas.csv")
    run("override", NAME, "102", "1.5", "--reason", "appeal", "--out", out)
    assert download.content == (out / "exports" / f"{NAME}-canvas.csv").read_bytes()   # byte for byte

    canvas = canvas_import(download.content.decode())
    assert canvas["grades"] == {"101": {"555": "10"}, "102": {"555": "7.5"}, "103": {"555": ""}}
    staff_page = staff.get(f"/staff/a/{NAME}/").content.decode()
    assert f"{NAME}-canvas.csv" in staff_page and "leaves out 1 submission(s)" in staff_page and "Zed" in staff_page


def test_a_moodle_worksheet_gives_accounts_and_the_cli_s_filled_in_worksheet(svc, tmp_path, monkeypatch, capsys):
    from django.contrib.auth import get_user_model

    from autograder.service.accounts import ensure_account

    prof = account("prof", "instructor")
    ensure_account("jose", "José", "JOSE@example.org")   # an existing account, found by its email
    staff = client_for(prof)
    page = _post_roster(staff, "\ufeff" + WORKSHEET, filename="Grades-04.csv", links="new")
    assert page.status_code == 200, page.content.decode()
    text = page.content.decode()
    assert text.count("/signin/") == 2 and "(kept)" in text                # jose kept his earlier link
    users = get_user_model().objects
    assert {u.username for u in users.filter(profile__role="student")} == {
        "jose", "wrong-ben@example.org", "emma@example.org"}

    _grade_in_service(svc, ["jose", "wrong-ben@example.org"])
    download = staff.get(f"/staff/a/{NAME}/lms/moodle.csv")
    assert download.status_code == 200 and staff.get(f"/staff/a/{NAME}/lms/canvas.csv").status_code == 404

    run = _cli(svc, tmp_path, monkeypatch, capsys, wrong={"1002"})
    folder, out = tmp_path / "moodle", tmp_path / "out"
    _notebook(svc, folder / "José Müller_1001_assignsubmission_file_" / f"{NAME}.ipynb")
    _notebook(svc, folder / "Ben Okafor_1002_assignsubmission_file_" / f"{NAME}.ipynb")
    (tmp_path / "worksheet.csv").write_text("\ufeff" + WORKSHEET, encoding="utf-8")
    run("grade", NAME, folder, "--out", out, "--roster", tmp_path / "worksheet.csv")
    assert download.content == (out / "exports" / f"{NAME}-moodle.csv").read_bytes()

    moodle = moodle_import(download.content.decode())
    assert moodle["1001"] == ("100.00", "2/2; every check passed")
    assert moodle["1002"][0] == "50.00" and moodle["1002"][1].startswith("1/2; to look at again: scale")
    assert moodle["1003"] == ("", "handed in nothing")   # blank, never 0: no --missing-as-zero


@pytest.mark.parametrize("text, words", [
    ("First name,Last name,Email address\nAda,Lovelace,a@example.org\n", "participants table"),
    ("Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (111)\n\"Lovelace, Ada\",101,S1,ada,A,\n",
     "no single column named like 04_scale"),
    ("name;mark\nAda;3\n", "not a roster this grader reads"),
    (b"Student,ID\n\xff\xfe\n", "not UTF-8 text"),
    (WORKSHEET.replace("wrong-ben@example.org", "jose@example.org"), "are the same account here, jose@example.org"),
])
def test_a_file_that_is_not_a_usable_lms_roster_is_refused_and_changes_nothing(svc, text, words):
    from django.contrib.auth import get_user_model

    from autograder.service.models import LmsRoster

    staff = client_for(account("prof", "instructor"))
    page = _post_roster(staff, text)
    assert page.status_code == 400 and words in page.content.decode() and "Nothing was changed" in page.content.decode()
    assert not LmsRoster.objects.exists() and get_user_model().objects.count() == 1
    column = _post_roster(staff, CANVAS, column="Quiz 9 (999)")
    assert column.status_code == 400 and "not a column of the Canvas roster" in column.content.decode()


def test_serve_imports_the_lms_s_own_roster_file_as_the_staff_page_does(svc, tmp_path, capsys):
    """``serve --import-roster`` takes the LMS's file too: the accounts, the printed one-time links,
    and the file kept for the exports, as the staff page's upload keeps it."""
    from autograder import cli
    from autograder.service.commands import import_roster
    from autograder.service.models import LmsRoster

    (tmp_path / "Grades-Course.csv").write_text(CANVAS)
    code = cli.main(["serve", "--setup-only", "--course", str(svc["course"]), "--base-url", "https://grader.example.edu",
                     "--import-roster", str(tmp_path / "Grades-Course.csv")])
    said = capsys.readouterr().out
    assert code == 0, said
    assert f"3 accounts from {tmp_path / 'Grades-Course.csv'} (Canvas gradebook export, kept for {NAME}; 3 new)" in said
    assert re.search(r"wrong-ben\tstudent\thttps://grader\.example\.edu/signin/\S+/", said), said
    kept = LmsRoster.objects.get(assignment__name=NAME)
    assert (kept.kind, kept.column, kept.members.count()) == ("canvas", COLUMN, 3)
    assert client_for(account("prof", "instructor")).get(f"/staff/a/{NAME}/lms/canvas.csv").status_code == 200

    (tmp_path / "worksheet.csv").write_text("\ufeff" + WORKSHEET, encoding="utf-8")
    lines = []
    import_roster(tmp_path / "worksheet.csv", "http://localhost:8000", say=lines.append)   # the course's one assignment
    assert lines[0].endswith(f"(Moodle grading worksheet, kept for {NAME}; 3 new); one-time sign-in links:")
    assert LmsRoster.objects.get(assignment__name=NAME).kind == "moodle-worksheet" and len(lines) == 4

    with pytest.raises(UsageError, match="'99_none' is not an assignment of the course"):
        import_roster(tmp_path / "worksheet.csv", "http://localhost:8000", "99_none")
    (tmp_path / "quiz.csv").write_text("Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (111)\n"
                                       '"Lovelace, Ada",101,S1,ada,A,\n')
    with pytest.raises(UsageError, match=r"no column for any of the course's assignments \(04_scale\); its columns: "
                                         r"Quiz 1 \(111\)"):
        import_roster(tmp_path / "quiz.csv", "http://localhost:8000")
    assert LmsRoster.objects.get(assignment__name=NAME).kind == "moodle-worksheet"   # a refusal changes nothing
    (tmp_path / "bad.csv").write_bytes(b"id,name\n\xff\n")
    code = cli.main(["serve", "--setup-only", "--course", str(svc["course"]), "--import-roster", str(tmp_path / "bad.csv")])
    assert code == 2 and "not UTF-8 text" in capsys.readouterr().err


def test_the_report_s_plots_are_drawn_for_staff_only(svc):
    _grade_in_service(svc, ["ada", "wrong-bob"])
    staff = client_for(account("tara", "ta"))
    page = staff.get(f"/staff/a/{NAME}/").content.decode()
    assert f'src="/staff/a/{NAME}/plot/scores.png"' in page and f'src="/staff/a/{NAME}/plot/exercises.png"' in page
    for which in ("scores.png", "exercises.png"):
        image = staff.get(f"/staff/a/{NAME}/plot/{which}")
        assert image.status_code == 200 and image["Content-Type"] == "image/png"
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n") and len(image.content) > 2000
        assert "no-store" in image["Cache-Control"]
        assert client_for(account("ada")).get(f"/staff/a/{NAME}/plot/{which}").status_code == 403
    assert staff.get(f"/staff/a/{NAME}/plot/other.png").status_code == 404
    assert "plot/" not in client_for(account("ada")).get(f"/a/{NAME}/").content.decode()


def test_the_submission_page_says_its_state_and_the_feedback_links_back(svc):
    ada = client_for(account("ada"))
    sid = re.search(r"/s/([0-9a-f-]{36})/", upload(ada, notebook_bytes(svc["course"]))["Location"]).group(1)
    queued = ada.get(f"/s/{sid}/").content.decode()
    assert "<h1 id=\"sub-title\">Submission received: queued</h1>" in queued
    assert 'data-title="Submission received: queued"' in ada.get(f"/s/{sid}/state/").content.decode()
    run_queue()
    graded = ada.get(f"/s/{sid}/").content.decode()
    assert "<h1 id=\"sub-title\">Submission graded</h1>" in graded and "<title>Submission graded" in graded
    feedback = ada.get(f"/s/{sid}/feedback/").content.decode()
    assert re.search(f'<nav class="back"><a href="/a/{NAME}/">← [^<]+: your submissions</a>', feedback)
    assert f'<a href="/s/{sid}/">This submission</a>' in feedback
    staff = client_for(account("prof", "instructor")).get(f"/s/{sid}/feedback/").content.decode()
    assert re.search(f'<a href="/staff/a/{NAME}/">← [^<]+ \\(staff\\)</a>', staff)
    boom = client_for(account("boom-carl"))
    failed = re.search(r"/s/([0-9a-f-]{36})/", upload(boom, notebook_bytes(svc["course"]))["Location"]).group(1)
    run_queue()
    assert "<h1 id=\"sub-title\">Grading failed</h1>" in boom.get(f"/s/{failed}/").content.decode()


def test_the_assignment_page_shows_what_the_student_may_see_and_says_when_uploads_have_ended(svc):
    from datetime import timedelta

    from django.utils import timezone

    from autograder.service.models import Assignment

    ada = client_for(account("ada"))
    upload(ada, notebook_bytes(svc["course"]))
    run_queue()
    page = ada.get(f"/a/{NAME}/").content.decode()   # hidden results not shown yet: the public checks' score
    assert "1 / 1 <span class=\"muted\">(public checks)</span>" in page and "2 / 2" not in page
    Assignment.objects.filter(name=NAME).update(published=True)
    assert "2 / 2" in ada.get(f"/a/{NAME}/").content.decode()
    Assignment.objects.filter(name=NAME).update(published=False, hidden_results=Assignment.Hidden.AFTER_DUE,
                                                due=timezone.now() - timedelta(minutes=1))
    page = ada.get(f"/a/{NAME}/").content.decode()
    assert 'id="upload-form"' not in page and "The due date has passed" in page and "2 / 2" in page
