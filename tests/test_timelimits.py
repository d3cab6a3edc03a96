"""Time limits derived from the reference run (autograder.checks.timelimits and its users). Fast: no sandbox."""

import os
import time

from autograder.checks import timelimits
from autograder.checks.judge import _failure
from autograder.sandbox.base import Job, RunRecord
from autograder.sandbox.events import Observation, Schedule
from autograder.sandbox.process import ProcessSandbox, Started
from autograder.checks.spec import Check, Limits
from tests.test_events import line


def test_a_limit_is_a_multiple_of_the_solutions_time_between_a_floor_and_the_assignments_limit():
    assert timelimits.check_limit(0.001, 60) == timelimits.FLOOR_S
    assert timelimits.check_limit(1.0, 60) == 10 * 1.0
    assert timelimits.check_limit(1.0, 60, factor=2.5) == 25.0   # a slower or busier machine
    assert timelimits.check_limit(0.001, 60, factor=2) == 2 * timelimits.FLOOR_S   # the floor too
    assert timelimits.check_limit(30.0, 60) == 60                # never above the assignment's limit
    assert timelimits.check_limit(None, 60) == 60                # no reference time: the assignment's
    assert timelimits.check_limits({"a": 0.5, "other": 1}, {"a": 0, "b": 0}, 60) == {"a": 5.0}
    # A check whose work the student chooses: never below its allowance, scaled, capped.
    assert timelimits.check_limit(0.5, 120, allowance_s=60) == 60
    assert timelimits.check_limit(0.5, 120, factor=1.5, allowance_s=60) == 90
    assert timelimits.check_limit(0.5, 120, factor=3, allowance_s=60) == 120
    assert timelimits.check_limit(20.0, 300, allowance_s=60) == 200             # the solution's own time rules
    assert timelimits.check_limits({"a": 0.5}, {"a": 60}, 120) == {"a": 60}


def test_the_slowdown_is_at_least_one_and_follows_the_calibration():
    assert timelimits.slowdown(None) >= 1.0
    assert timelimits.slowdown(0.1, now_calibration_s=0.05) >= 1.0   # a faster machine keeps the limits
    assert timelimits.slowdown(0.1, now_calibration_s=0.3) >= 3.0 - 1e-9
    assert 0 < timelimits.calibration_s() < 5


def test_the_slowdown_follows_threads_runnable_now_which_a_load_average_only_shows_a_minute_later(monkeypatch):
    assert timelimits.runnable_now() >= 1                   # this thread, at least (Linux)
    monkeypatch.setattr(timelimits.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(timelimits.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(timelimits, "runnable_now", lambda: 6)
    assert timelimits.slowdown(0.1, now_calibration_s=0.1) == 3.0
    monkeypatch.setattr(timelimits, "runnable_now", lambda: 1)
    assert timelimits.slowdown(0.1, now_calibration_s=0.1) == 1.0


def test_a_check_that_trains_with_the_students_own_settings_gets_the_minute_the_notebook_allows():
    """03's linear_vs_deep: the student picks the epochs ("keep it under a minute")."""
    import json

    from autograder.assignments.course import find_assignment

    a = find_assignment("03_deep_network")
    checks = a.checkset(hidden=True).checks
    allowed = {c.id: c.allowance_s for c in checks if c.exercise == "linear_vs_deep"}
    assert allowed and set(allowed.values()) == {60.0}, allowed
    assert all(c.allowance_s == 0 for c in checks if c.exercise != "linear_vs_deep")
    text = " ".join("".join(c["source"]) for c in json.loads(a.student_notebook.read_text())["cells"])
    assert "keep it under a minute" in " ".join(text.split())


def test_a_timeout_message_says_the_limit_and_what_the_solution_took():
    check = Check("train", "c", lambda s: {}, (), [])
    _, message = _failure(check, Observation.of({"status": "timeout", "limit_s": 3.0, "reference_s": 0.042}))
    assert "(3 s; the reference solution takes 0.042 s)" in message
    _, message = _failure(check, Observation.of({"status": "timeout", "limit_s": 3.0}))
    assert "(3 s)" in message and "reference" not in message


class _Reader(ProcessSandbox):
    name = "test"


def test_a_check_is_cut_at_its_own_limit_not_the_assignments():
    """The worker starts check f.slow and says nothing more: cut after its 0.5 s, not Limits' 30 s."""
    job = Job("t", [], [], ["f.fast", "f.slow"], {"f.fast": "f", "f.slow": "f"},
              limits=Limits(check_timeout_s=30, cell_timeout_s=30), check_limits={"f.slow": 0.5})
    events = [{"ev": "ready"}, {"ev": "check_start", "id": "f.fast"},
              {"ev": "check_end", "id": "f.fast", "status": "ok", "values": {}},
              {"ev": "check_start", "id": "f.slow"}]
    r, w = os.pipe()
    os.write(w, b"".join(map(line, events)))
    record = RunRecord()
    started = time.monotonic()
    try:
        outcome = _Reader()._read_events(job, Started(None, r, None, "token"), record, time.monotonic() + 60,
                                         Schedule([("check", "f.fast"), ("check", "f.slow")]))
    finally:
        os.close(w)
        os.close(r)
    waited = time.monotonic() - started
    assert outcome.reason == "timeout" and outcome.where == ("check", "f.slow")
    assert 0.5 <= waited < 5, waited
    assert "f.fast" in record.timings and record.timings["f.fast"] < 1   # measured by the grader
    assert job.limit_of("check", "f.slow") == 0.5 and job.limit_of("check", "f.fast") == 30
    assert job.limit_of("cell", 0) == 30
