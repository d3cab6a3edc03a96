# ruff: noqa: F811 - the fake fixture, imported from tests/test_policies_e2e.py, is each command test's argument
"""Course policies, the edges a review found: late days never spent where they change nothing,
LMS submission times inside a daylight-saving change (never a crash, the student's favour), an
extension on an assignment with no due date, out-of-range minutes, another assignment's
remembered ``--due`` in the late-day budget, a ``course.toml`` table naming no assignment, and
an ``extend`` whose reason is blank. Pure cases run in milliseconds; the command cases run
in-process on the fake sandbox (tests/fakes.py) with the fixtures of tests/test_policies_e2e.py.

LMS formats by their owners' rules: Blackboard's documented download name
``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>`` (the institution's local wall
time, so an autumn-fold time is one Blackboard really writes); Moodle's ``Last modified
(submission)``: ``userdate()`` in ``strftimedaydatetime``, ``%A, %d %B %Y, %I:%M %p``
(moodle/moodle ``lang/en/langconfig.php``, ``mod/assign/gradingtable.php`` ``col_timesubmitted``).
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from autograder.gradebook import Gradebook
from autograder.policies.counting import Entry, Submitted, count, count_course
from autograder.policies.model import (Extension, LateDays, LateKind, LateRule, Policy, PolicyError, parse_course,
                                       parse_time)
from autograder.policies.times import blackboard_time, moodle_time, submitted
from tests.test_policies_e2e import N, POLICY, fake, grades, grades_of, stored_scores  # noqa: F401 - the fixture

BERLIN, UTC = ZoneInfo("Europe/Berlin"), timezone.utc
D = parse_time("2026-03-20 23:59", "Europe/Berlin", "test")


def at(text: str) -> Submitted:
    return Submitted(datetime.fromisoformat(text).replace(tzinfo=BERLIN), source="test")


# (case, rule, submitted, automatic, late days left) -> (counted of 20, late days used)
UNSPENT = [
    ("no late work, days short of the lateness: 0 either way, no day spent", LateRule(LateKind.NO_LATE_WORK),
     at("2026-03-23T12:00"), 18, 1, 0, 0),
    ("no late work, days cover the lateness: spent", LateRule(LateKind.NO_LATE_WORK), at("2026-03-22T12:00"), 18, 2,
     18, 2),
    ("past at_most even after the days: 0 either way, no day spent", LateRule(LateKind.PER_DAY, 10, at_most=3),
     at("2026-03-25T12:00"), 18, 1, 0, 0),
    ("the days bring it back within at_most: spent", LateRule(LateKind.PER_DAY, 10, at_most=3),
     at("2026-03-24T12:00"), 18, 1, 12, 1),
    ("an automatic 0 has nothing to lose: no day spent", LateRule(LateKind.PER_DAY, 10), at("2026-03-21T12:00"), 0, 3,
     0, 0),
    ("Canvas _LATE on an automatic 0: no day spent", LateRule(LateKind.PER_DAY, 10), Submitted(None, True, "Canvas"),
     0, 3, 0, 0),
]


@pytest.mark.parametrize("case, rule, when, automatic, left, expected, used", UNSPENT, ids=[c[0] for c in UNSPENT])
def test_late_days_are_spent_only_where_they_raise_the_counted_score(case, rule, when, automatic, left, expected,
                                                                      used):
    counted = count(automatic, 20, when, Policy(D, rule, LateDays(5)), None, left)
    assert (counted.score, counted.late_days_used) == (expected, used)
    assert counted.late and ("late day" in counted.explanation) == bool(used)


def test_a_day_not_wasted_on_one_assignment_is_left_for_the_next():
    later = parse_time("2026-03-27 23:59", "Europe/Berlin", "test")
    entries = [Entry("a", Policy(D, LateRule(LateKind.NO_LATE_WORK), LateDays(1)), 18, 20, at("2026-03-23T12:00")),
               Entry("b", Policy(later, LateRule(LateKind.PER_DAY, 10), LateDays(1)), 18, 20, at("2026-03-28T02:00"))]
    counted = count_course(entries, budget=1)
    assert (counted["a"].score, counted["a"].late_days_used) == (0, 0)
    assert (counted["b"].score, counted["b"].late_days_used) == (18, 1)


def test_lms_times_in_the_autumn_fold_are_the_earlier_instant_and_a_gap_time_is_unknown_never_an_error():
    # 2026-10-25 02:30 happens twice in Europe/Berlin (CEST 00:30 UTC, then CET 01:30 UTC): the earlier
    # instant is the one that makes the student least late.
    assert blackboard_time("2026-10-25-02-30-00", "Europe/Berlin") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert moodle_time("Sunday, 25 October 2026, 2:30 AM", "Europe/Berlin") == datetime(2026, 10, 25, 0, 30,
                                                                                        tzinfo=UTC)
    fold = submitted({"layout": "blackboard", "attempt": "2026-10-25-02-30-00"}, "Europe/Berlin")
    assert fold.at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC) and "happens twice" in fold.source
    # 2026-03-29 02:30 does not exist there: no LMS writes it, so the time is unknown, and said so.
    gap = submitted({"layout": "blackboard", "attempt": "2026-03-29-02-30-00"}, "Europe/Berlin")
    assert gap.at is None and "does not exist in Europe/Berlin" in gap.source
    row = {"Last modified (submission)": "Sunday, 29 March 2026, 2:30 AM"}
    gap = submitted({"layout": "moodle", "participant": "1"}, "Europe/Berlin", row)
    assert gap.at is None and "does not exist in Europe/Berlin" in gap.source
    counted = count(18, 20, gap, Policy(D, LateRule(LateKind.PER_DAY, 10)))
    assert counted.score == 18 and "does not exist" in counted.explanation


def test_an_extension_on_an_assignment_without_a_due_date_sets_no_deadline():
    ext = Extension("s", "a", datetime(2026, 3, 1, tzinfo=BERLIN), "illness")
    for when in (at("2026-03-23T12:00"), Submitted(None, True, "Canvas")):
        counted = count(18, 20, when, Policy(None, LateRule(LateKind.PER_DAY, 10)), ext)
        assert counted.score == 18 and counted.due is None and counted.extension is None


def test_an_extension_that_a_later_due_date_overtook_is_not_reported_as_applied():
    ext = Extension("s", "a", datetime(2026, 3, 19, tzinfo=BERLIN), "typo")
    counted = count(18, 20, Submitted(None, True, "Canvas"), Policy(D, LateRule(LateKind.PER_DAY, 10)), ext)
    assert counted.score == 16 and counted.extension is None and counted.to_json()["extension"] is None


@pytest.mark.parametrize("text", ['[policy]\nlate = {rule = "per_day", percent = 10, grace_minutes = 10000000000000}',
                                  "[policy]\nrate_limit = {submissions = 1, per_minutes = 10000000000000}"])
def test_minutes_too_large_for_any_calendar_are_a_policy_error(text):
    with pytest.raises(PolicyError, match="at most"):
        parse_course(tomllib.loads(text), "course.toml")


def _attempt(fake, folder: str, assignment: str, when: str) -> Path:
    """One Blackboard attempt of jdoe (the documented name), the assignment's solution in it."""
    root = fake["tmp"] / folder
    path = root / f"Lab_jdoe_attempt_{when}_{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((fake["course"] / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    return root


def test_another_assignments_remembered_due_spends_its_late_day_first(fake):
    from autograder.assignments.scaffold import scaffold

    run, out, course = fake["run"], fake["out"], fake["course"]
    scaffold(course, "05_more")
    (course / "course.toml").write_text(POLICY.replace("[policy]\n", "[policy]\nlate_days = 1\n"))
    # No due dates in course.toml: each is given with --due, and remembered for this --out.
    code, _, err = run("grade", N, _attempt(fake, "b04", N, "2026-03-14-02-00-00"), "--out", out,
                       "--due", "2026-03-13 23:59")
    assert code == 0, err
    assert grades_of(out, N)["jdoe"][:2] == ("2", "submitted 2 hours 1 minute late; 1 late day used: no penalty")
    code, _, err = run("grade", "05_more", _attempt(fake, "b05", "05_more", "2026-03-21-05-00-00"), "--out", out,
                       "--due", "2026-03-20 23:59")
    assert code == 0, err
    # 04 (due a week earlier) already spent the one day: 05 pays.
    assert grades_of(out, "05_more")["jdoe"][:2] == ("1.5", "submitted 5 hours 1 minute late: −25% (25% per "
                                                            "started day, at most 3 days, then 0)")


def test_a_blackboard_attempt_in_the_autumn_fold_is_graded_and_exported(fake):
    (fake["course"] / "course.toml").write_text(POLICY)
    code, _, err = fake["run"]("grade", N, _attempt(fake, "bb", N, "2026-10-25-02-30-00"), "--out", fake["out"],
                               "--due", "2026-10-25 02:00+01:00")   # 01:00 UTC: the earlier 02:30 (00:30 UTC) is on time
    assert code == 0, err
    row = grades(fake["out"])["jdoe"]
    assert (row["score"], row["late"]) == ("2", "")


def test_a_course_toml_table_for_an_assignment_the_course_does_not_have_is_refused(fake):
    (fake["course"] / "course.toml").write_text(POLICY + '\n[assignments.04_scal.policy]\ndue = "2026-03-20 23:59"\n')
    code, _, err = fake["run"]("grade", N, _attempt(fake, "bb", N, "2026-03-21-05-00-00"), "--out", fake["out"])
    assert code == 2 and "[assignments.04_scal]" in err and "04_scale" in err
    assert not fake["out"].exists()


def test_an_extension_with_a_blank_reason_is_refused_and_nothing_stored(fake):
    (fake["course"] / "course.toml").write_text(POLICY)
    out = fake["out"]
    assert fake["run"]("grade", N, _attempt(fake, "bb", N, "2026-03-21-05-00-00"), "--out", out, "--due",
                       "2026-03-20 23:59")[0] == 0
    before = stored_scores(out)
    code, _, err = fake["run"]("extend", "jdoe", N, "--until", "2026-03-22 12:00", "--reason", "   ", "--out", out)
    assert code == 2 and "give --reason" in err
    assert Gradebook(out / "gradebook.sqlite").extensions() == [] and stored_scores(out) == before
    assert grades(out)["jdoe"]["score"] == "1.5"


def test_an_extension_on_an_assignment_without_a_due_date_says_so(fake):
    (fake["course"] / "course.toml").write_text(POLICY)
    out = fake["out"]
    assert fake["run"]("grade", N, _attempt(fake, "bb", N, "2026-03-21-05-00-00"), "--out", out)[0] == 0
    code, said, err = fake["run"]("extend", "jdoe", N, "--until", "2026-03-01 12:00", "--reason", "illness",
                                  "--out", out)
    assert code == 0, err
    assert "has no due date" in err and grades(out)["jdoe"]["score"] == "2"   # no deadline made for one student



def test_every_output_of_one_student_agrees_on_the_counted_score_and_lateness_before_and_after_an_extension(fake):
    import json

    (fake["course"] / "course.toml").write_text(POLICY)
    run, out = fake["run"], fake["out"]
    assert run("grade", N, _attempt(fake, "bb", N, "2026-03-21-05-00-00"), "--out", out, "--due",
               "2026-03-20 23:59")[0] == 0

    def outputs() -> dict:
        feedback = out / "feedback" / N
        return {"csv": grades(out)["jdoe"]["score"],
                "json": json.loads((feedback / "jdoe.json").read_text())["counted_score"],
                "txt": (feedback / "jdoe.txt").read_text(), "html": (feedback / "jdoe.html").read_text(),
                "gradescope": json.loads((out / "exports" / "gradescope" / N / "jdoe" / "results.json").read_text()
                                         )["score"],
                "report": (out / "report" / N / "index.html").read_text()}

    late = outputs()
    assert (late["csv"], late["json"], late["gradescope"]) == ("1.5", 1.5, 1.5)
    assert "Score: 1.5 / 2" in late["txt"] and "Score: 1.5 / 2" in late["html"]
    assert "late (−0.5): submitted 5 hours 1 minute late: −25%" in late["report"]
    assert run("extend", "jdoe", N, "--until", "2026-03-21 12:00", "--reason", "illness", "--out", out)[0] == 0
    extended = outputs()
    assert (extended["csv"], extended["json"], extended["gradescope"]) == ("2", 2, 2)
    assert "Score: 2 / 2" in extended["txt"] and "Score: 2 / 2" in extended["html"]
    assert "late (" not in extended["report"] and "extension until 2026-03-21 12:00 Europe/Berlin: illness" in \
        extended["report"]
    code, said, _ = run("history", "jdoe", N, "--out", out)
    assert code == 0 and "2/2" in said   # the stored automatic score, as graded


def test_a_download_s_older_attempts_are_said_to_be_no_candidates_when_counts_chooses(fake):
    (fake["course"] / "course.toml").write_text(POLICY.replace("[policy]\n", '[policy]\ncounts = "latest_before_due"\n'))
    _attempt(fake, "bb", N, "2026-03-19-10-00-00")   # on time, and older: superseded in this download
    code, _, err = fake["run"]("grade", N, _attempt(fake, "bb", N, "2026-03-21-05-00-00"), "--out", fake["out"],
                               "--due", "2026-03-20 23:59")
    assert code == 0, err
    assert 'counts = "latest_before_due" chooses among the gradings the gradebook holds, and 1 older' in err
    assert grades(fake["out"])["jdoe"]["score"] == "1.5"   # the late attempt: the only grading held


@pytest.mark.parametrize("text", ["20260327", "2026-W13-5", "2026-03-27T23", "2026-03-27 23"])
def test_iso_forms_other_than_the_documented_ones_are_refused_not_read_as_midnight(text):
    # A date alone means 23:59 that day; Python reads these as midnight (or 23:00), a day's work early.
    with pytest.raises(PolicyError, match="is not a date and time such as"):
        parse_time(text, "Europe/Berlin", "--due")


def test_the_documented_forms_still_read():
    assert parse_time("2026-03-27", "UTC", "t").at == datetime(2026, 3, 27, 23, 59, tzinfo=UTC)
    assert parse_time("2026-03-27T23:59:30.5Z", "UTC", "t").at == datetime(2026, 3, 27, 23, 59, 30, 500000, tzinfo=UTC)
    assert parse_time("2026-03-27 23:59+0100", "UTC", "t").at == datetime(2026, 3, 27, 22, 59, tzinfo=UTC)
    assert parse_time("2026-03-27 18:00 America/New_York", "UTC", "t").at == datetime(2026, 3, 27, 22, 0, tzinfo=UTC)
