"""Course policies, pure: counted scores over due dates, penalties, late-day budgets and
extensions (before and after the due date, on the boundary, across a daylight-saving change),
which submission counts, submission times read from each LMS's format, and bad values refused.
No gradebook, no sandbox: milliseconds."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from autograder.policies.counting import Entry, Submitted, choose, count, count_course
from autograder.policies.model import (Counts, PolicyError, Extension, HiddenResults, LateDays, LateKind, LateRule, Policy,
                                       RateLimit, parse_course, parse_time)
from autograder.policies.times import blackboard_time, moodle_time, submitted

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
UTC = timezone.utc


def due(text: str, zone: str = "Europe/Berlin"):
    return parse_time(text, zone, "test")


def at(text: str, zone=BERLIN) -> Submitted:
    return Submitted(datetime.fromisoformat(text).replace(tzinfo=zone), source="test")


PER_DAY = LateRule(LateKind.PER_DAY, 10, at_most=3)
D = due("2026-03-20 23:59")   # a Friday, no DST change near it

# (case, policy, submitted, extension, late days left) -> (counted of 20 with automatic 18, late, words in it)
CASES = [
    ("before the due date", Policy(D, PER_DAY), at("2026-03-20T12:00"), None, 0, 18, False, ""),
    ("exactly at the due time is on time", Policy(D, PER_DAY), at("2026-03-20T23:59"), None, 0, 18, False, ""),
    ("one second late is one started day", Policy(D, PER_DAY), at("2026-03-20T23:59:01"), None, 0, 16, True,
     "submitted 1 second"),
    ("exactly 24 h late is still day 1", Policy(D, PER_DAY), at("2026-03-21T23:59"), None, 0, 16, True,
     "−10% (10% per started day, at most 3 days, then 0)"),
    ("1 day 3 hours late is 2 started days", Policy(D, PER_DAY), at("2026-03-22T02:59"), None, 0, 14, True,
     "submitted 1 day 3 hours late: −20% (10% per started day, at most 3 days, then 0)"),
    ("3 days late is the last accepted", Policy(D, PER_DAY), at("2026-03-23T23:59"), None, 0, 12, True, "−30%"),
    ("past at_most counts 0", Policy(D, PER_DAY), at("2026-03-24T00:00"), None, 0, 0, True, "counts 0"),
    ("a penalty never goes below 0", Policy(D, LateRule(LateKind.PER_DAY, 60)), at("2026-03-22T12:00"), None, 0,
     0, True, "−120%"),
    ("no late work: one minute counts 0", Policy(D, LateRule(LateKind.NO_LATE_WORK)), at("2026-03-21T00:00"), None,
     0, 0, True, "no late work accepted"),
    ("rule none: late, no penalty", Policy(D), at("2026-03-25T00:00"), None, 0, 18, True, "no penalty"),
    ("grace: 4 minutes of 5 is on time", Policy(D, LateRule(LateKind.PER_DAY, 10, grace=timedelta(minutes=5))),
     at("2026-03-21T00:03"), None, 0, 18, False, "within the 5 minutes of grace"),
    ("grace over: charged from the due time", Policy(D, LateRule(LateKind.PER_DAY, 10, grace=timedelta(minutes=5))),
     at("2026-03-21T00:05"), None, 0, 16, True, "submitted 6 minutes late"),
    ("per started hour", Policy(D, LateRule(LateKind.PER_HOUR, 5, at_most=10)), at("2026-03-21T01:30"), None, 0,
     16, True, "−10% (5% per started hour"),
    ("an extension moves the due date", Policy(D, PER_DAY), at("2026-03-22T12:00"),
     Extension("s", "a", datetime(2026, 3, 23, 23, 59, tzinfo=BERLIN), "illness"), 0, 18, False,
     "extension until 2026-03-23 23:59 Europe/Berlin: illness"),
    ("late after the extension: counted from it", Policy(D, PER_DAY), at("2026-03-24T01:00"),
     Extension("s", "a", datetime(2026, 3, 23, 23, 59, tzinfo=BERLIN), "illness"), 0, 16, True,
     "extension: illness"),
    ("an extension before the due date changes nothing", Policy(D, PER_DAY), at("2026-03-21T01:00"),
     Extension("s", "a", datetime(2026, 3, 19, 0, 0, tzinfo=BERLIN), "typo"), 0, 16, True, "−10%"),
    ("late days cover whole started days", Policy(D, PER_DAY, LateDays(3)), at("2026-03-22T02:59"), None, 3, 18,
     True, "2 late days used: no penalty"),
    ("late days partly: the rest is charged", Policy(D, PER_DAY, LateDays(3)), at("2026-03-22T02:59"), None, 1, 16,
     True, "1 late day used: −10%"),
    ("the per-assignment cap", Policy(D, PER_DAY, LateDays(5, per_assignment=1)), at("2026-03-22T02:59"), None, 5,
     16, True, "1 late day used"),
    ("no late days spent where the rule takes nothing", Policy(D, LateRule(), LateDays(3)), at("2026-03-21T05:00"),
     None, 3, 18, True, "no penalty"),
    ("Canvas _LATE, no time: the rule's first step", Policy(D, PER_DAY), Submitted(None, True, "Canvas"), None, 0,
     16, True, "late by an unknown amount, charged the rule's first step: −10%"),
    ("Canvas _LATE with late days: one day used", Policy(D, PER_DAY, LateDays(2)), Submitted(None, True, "Canvas"),
     None, 2, 18, True, "1 late day used (late by an unknown amount)"),
    ("Canvas _LATE and an extension here: on time", Policy(D, PER_DAY), Submitted(None, True, "Canvas"),
     Extension("s", "a", datetime(2026, 3, 23, 23, 59, tzinfo=BERLIN), "illness"), 0, 18, False, "counted on time"),
    ("Canvas, not flagged: on time", Policy(D, PER_DAY), Submitted(None, False, "Canvas"), None, 0, 18, False,
     "no submission time"),
    ("no time at all: the due date applies to nothing", Policy(D, PER_DAY), Submitted(None, source="the files layout"),
     None, 0, 18, False, "the due date was not applied"),
    ("no due date: nothing to apply", Policy(None, PER_DAY), at("2030-01-01T00:00"), None, 0, 18, False, ""),
]


@pytest.mark.parametrize("case, policy, when, extension, left, expected, late, words", CASES, ids=[c[0] for c in CASES])
def test_counted_scores(case, policy, when, extension, left, expected, late, words):
    counted = count(18.0, 20.0, when, policy, extension, left)
    assert counted.score == pytest.approx(expected) and counted.automatic == 18.0
    assert counted.deduction == pytest.approx(18.0 - expected) and counted.late is late
    assert words in counted.explanation
    if not words:
        assert counted.explanation == ""


def test_lateness_across_a_dst_change_is_real_elapsed_time():
    # Europe/Berlin springs forward on 2026-03-29 (02:00 -> 03:00): due Saturday 23:59 CET, handed in
    # Sunday 23:30 CEST is 22 h 31 min later in real time, not 23 h 31 min: still day 1.
    policy = Policy(due("2026-03-28 23:59"), LateRule(LateKind.PER_HOUR, 1))
    counted = count(10.0, 10.0, at("2026-03-29T23:30"), policy)
    assert counted.late_by == timedelta(hours=22, minutes=31) and counted.charged == 23
    # New York falls back on 2026-11-01 (02:00 -> 01:00): 23:59 Saturday to 23:58 Sunday is 24 h 59 min.
    ny = Policy(due("2026-10-31 23:59", "America/New_York"), LateRule(LateKind.PER_DAY, 10))
    counted = count(10.0, 10.0, at("2026-11-01T23:58", NEW_YORK), ny)
    assert counted.late_by == timedelta(hours=24, minutes=59) and counted.charged == 2 and counted.score == 8
    # The same instant written in another zone is the same lateness.
    same = Submitted(datetime(2026, 11, 2, 4, 58, tzinfo=UTC))
    assert count(10.0, 10.0, same, ny).late_by == counted.late_by


def test_due_dates_that_do_not_exist_or_happen_twice_are_refused_with_the_offsets():
    with pytest.raises(PolicyError, match="does not exist in Europe/Berlin"):
        due("2026-03-29 02:30")
    with pytest.raises(PolicyError, match=r"happens twice in America/New_York.*-04:00.*-05:00"):
        due("2026-11-01 01:30", "America/New_York")
    assert due("2026-11-01T01:30-05:00").at == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert due("2026-03-27").at == datetime(2026, 3, 27, 23, 59, tzinfo=BERLIN)       # a date alone: 23:59
    assert due("2026-03-27 18:00 America/New_York").at == datetime(2026, 3, 27, 22, 0, tzinfo=UTC)


def test_late_days_are_spent_in_due_order_across_assignments():
    budget = Policy(None, PER_DAY, LateDays(3))
    a1 = Policy(due("2026-03-06 23:59"), PER_DAY, LateDays(3))
    a2 = Policy(due("2026-03-13 23:59"), PER_DAY, LateDays(3))
    a3 = Policy(due("2026-03-20 23:59"), PER_DAY, LateDays(3))
    entries = [  # given out of order: the earliest due date spends first
        Entry("a3", a3, 20, 20, at("2026-03-22T10:00")),    # 2 started days late
        Entry("a1", a1, 20, 20, at("2026-03-08T10:00")),    # 2 started days late
        Entry("a2", a2, 20, 20, at("2026-03-13T20:00")),    # on time
    ]
    counted = count_course(entries, budget.late_days.days)
    assert [counted[a].late_days_used for a in ("a1", "a2", "a3")] == [2, 0, 1]
    assert [counted[a].score for a in ("a1", "a2", "a3")] == [20, 20, 18]
    assert "1 late day used: −10%" in counted["a3"].explanation


def test_which_submission_counts():
    policy = Policy(D, PER_DAY)
    early, late_good = count(12, 20, at("2026-03-20T10:00"), policy), count(20, 20, at("2026-03-21T10:00"), policy)
    later_bad = count(5, 20, at("2026-03-22T10:00"), policy)
    tries = [("early", early), ("late_good", late_good), ("later_bad", later_bad)]
    assert choose(tries, Counts.LATEST) == 2
    assert choose(tries, Counts.BEST) == 1                      # 18 counted after its 10% beats 12
    assert choose(tries, Counts.LATEST_BEFORE_DUE) == 0
    assert choose(tries[1:], Counts.LATEST_BEFORE_DUE) == 1     # none on time: the latest


def test_course_toml_policies_and_per_assignment_overrides():
    data = tomllib.loads("""
[policy]
time_zone = "America/New_York"
late_days = 4
counts = "best"
hidden_results = "after_due"
rate_limit = {submissions = 5, per_minutes = 60}
[policy.late]
rule = "per_day"
percent = 10
at_most = 3
[assignments.01_tf_basics.policy]
due = "2026-02-06 17:00"
[assignments.02_linear.policy]
due = 2026-02-13T17:00:00
late_days_per_assignment = 1
[assignments.02_linear.policy.late]
rule = "no_late_work"
""")
    course = parse_course(data, "course.toml")
    one, two = course.of("01_tf_basics"), course.of("02_linear")
    assert one.due.at == datetime(2026, 2, 6, 22, 0, tzinfo=UTC) and one.late == PER_DAY and one.zone == "America/New_York"
    assert one.counts is Counts.BEST and one.hidden_results is HiddenResults.AFTER_DUE
    assert one.rate_limit == RateLimit(5, timedelta(hours=1)) and one.late_days == LateDays(4)
    assert two.late == LateRule(LateKind.NO_LATE_WORK) and two.late_days == LateDays(4, 1)
    assert course.of("03_other").due is None and course.of("03_other").late == PER_DAY
    assert [name for name, _ in course.in_due_order()] == ["01_tf_basics", "02_linear"]


BAD = [
    ('[policy]\ntime_zone = "Mars/Olympus"', "unknown time zone 'Mars/Olympus'"),
    ('[policy]\nlate = {rule = "per_week", percent = 1}', "'per_week' is not one of 'none', 'no_late_work'"),
    ('[policy]\nlate = {rule = "per_day"}', "needs percent"),
    ('[policy]\nlate = {rule = "per_day", percent = 0}', "above 0 and at most 100"),
    ('[policy]\nlate = {rule = "per_day", percent = 150}', "above 0 and at most 100"),
    ('[policy]\nlate = {rule = "no_late_work", percent = 10}', "go with rule \"per_day\""),
    ('[policy]\nlate = {rule = "per_day", percent = 10, at_most = -1}', "whole number, 0 or more"),
    ('[policy]\nlate_days = 1.5', "late_days must be a whole number"),
    ('[policy]\ncounts = "first"', "'first' is not one of 'latest', 'best', 'latest_before_due'"),
    ('[policy]\ndue = "next friday"', "not a date and time"),
    ('[policy]\ndeadline = "2026-01-01"', "unknown key(s) deadline"),
    ('[policy]\nrate_limit = {submissions = 5}', "give submissions and per_minutes"),
    ('[assignments.a.policy]\ntime_zone = "UTC"', "[assignments.a.policy]: unknown key(s) time_zone"),
    ('[assignments.a]\ndue = "2026-01-01"', "[assignments.a]: unknown key(s) due"),
    ('[assignments.a.policy]\ndue = "2026-03-29 02:30"\n[policy]\ntime_zone = "Europe/Berlin"', "does not exist"),
]


@pytest.mark.parametrize("text, words", BAD, ids=[w for _, w in BAD])
def test_bad_policy_values_are_refused_with_clear_words(text, words):
    with pytest.raises(PolicyError) as caught:
        parse_course(tomllib.loads(text), "course.toml")
    assert words in str(caught.value) and str(caught.value).startswith("course.toml: [")


def test_submission_times_from_each_lms():
    # Blackboard: the attempt's time in the name, read in the course's zone.
    assert blackboard_time("2026-11-02-09-30-00", "Europe/Berlin") == datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert submitted({"layout": "blackboard", "attempt": "2026-11-02-09-30-00"}, "UTC").at == \
        datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    # Moodle: userdate() in strftimedaydatetime, '%A, %d %B %Y, %I:%M %p' (lang/en/langconfig.php), the
    # leading zeros of day and hour dropped (mod/assign/gradingtable.php col_timesubmitted).
    assert moodle_time("Friday, 5 December 2025, 2:30 PM", "Europe/Berlin") == datetime(2025, 12, 5, 13, 30,
                                                                                         tzinfo=UTC)
    assert moodle_time("Friday, 5 December 2025, 12:05 AM", "UTC") == datetime(2025, 12, 5, 0, 5, tzinfo=UTC)
    assert moodle_time("-", "UTC") is None and moodle_time("vendredi 5 décembre 2025, 14:30", "UTC") is None
    row = {"Last modified (submission)": "Friday, 5 December 2025, 2:30 PM"}
    assert submitted({"layout": "moodle", "participant": "1"}, "UTC", row).at == datetime(2025, 12, 5, 14, 30,
                                                                                          tzinfo=UTC)
    assert "give its grading worksheet" in submitted({"layout": "moodle"}, "UTC").source
    # Canvas: only the flag; a folder of files: nothing.
    assert submitted({"layout": "canvas", "late": True}, "UTC") == Submitted(None, True, "Canvas")
    assert submitted({"layout": "files"}, "UTC").at is None
