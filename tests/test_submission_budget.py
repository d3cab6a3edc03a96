"""One budget per submission, for both runs and the judging (issue 28).

In-process with the fake sandbox and a fake clock: a public run that takes long leaves the
hidden run only what remains of the budget, so a submission of slow cells costs at most
its budget, never twice the total limit. The end-to-end test with sleeping cells on the
local backend is ``slow``.
"""

from __future__ import annotations

import pytest

from autograder.runs import grading
from autograder.assignments.course import find_assignment
from autograder.runs.grading import Grader
from autograder.result import Outcome
from autograder.sandbox.base import RunRecord
from autograder.checks.timelimits import JUDGE_S, submission_budget
from tests import fakes, nbfactory
from tests.conftest import json_lines


def test_the_budget_is_one_cell_limit_per_run_the_checks_limits_and_the_judge():
    limits = {"a.x": 3.0, "a.y": 4.5}
    assert submission_budget(limits, ["a.x", "a.y", "b.z"], 30.0, 60.0, 600.0, runs=2) == 2 * 60 + 3 + 4.5 + 30 + JUDGE_S
    assert submission_budget(limits, ["a.x"], 30.0, 60.0, 600.0, runs=1) == 60 + 3 + JUDGE_S
    assert submission_budget(limits, ["a.x", "a.y"], 30.0, 300.0, 600.0, runs=2) == 600.0     # the assignment's cap
    assert submission_budget({}, ["a.x"], 30.0, 60.0, 600.0, runs=2) == 600.0                # no reference times


class Clock:
    """grading's ``time``, whose ``monotonic`` moves only when a run says so."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class SlowSandbox(fakes.FakeSandbox):
    """Each run takes ``took[hidden?]`` seconds of the fake clock."""

    def __init__(self, clock: Clock, took: dict[bool, float]):
        super().__init__()
        self.clock, self.took = clock, took

    def run(self, job):
        record = super().run(job)
        self.clock.now += self.took[fakes.HIDDEN in job.checks]
        return record


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    fakes.course(tmp_path / "course")
    assignment = find_assignment(fakes.NAME, tmp_path / "course")
    return {"assignment": assignment, "notebook": assignment.solution_notebook}


def _graded(course, monkeypatch, public_s: float, hidden_s: float = 1.0):
    monkeypatch.setattr(grading, "slowdown", lambda *args: 1.0)  # the same limits at each call
    clock = Clock()
    sandbox = SlowSandbox(clock, {False: public_s, True: hidden_s})
    g = Grader(course["assignment"], sandbox)
    g.prepare()  # the reference run, before the clock is watched
    sandbox.jobs.clear()
    monkeypatch.setattr(grading, "time", clock)
    limits = g.checkset.limits
    timed = g._check_limits()
    budget = submission_budget(timed, [c.id for c in g.checkset.checks], limits.check_timeout_s,
                               limits.cell_timeout_s, limits.total_timeout_s, runs=2)
    result = g.grade(course["notebook"], "ada").result
    return result, sandbox.jobs, budget


def test_the_hidden_run_gets_what_the_public_run_left_of_the_budget(course, monkeypatch):
    result, jobs, budget = _graded(course, monkeypatch, public_s=50.0)
    public, hidden = jobs
    assert budget < course["assignment"].checkset(True).limits.total_timeout_s
    assert public.limits.total_timeout_s == budget - JUDGE_S
    assert hidden.limits.total_timeout_s == pytest.approx(budget - JUDGE_S - 50.0)
    assert result.score == result.max_score


def test_a_public_run_that_used_the_budget_leaves_no_hidden_run(course, monkeypatch):
    result, jobs, budget = _graded(course, monkeypatch, public_s=0.0)
    _, _, budget = result, jobs, budget
    result, jobs, budget = _graded(course, monkeypatch, public_s=budget - JUDGE_S - 5.0)
    assert len(jobs) == 1  # the hidden run never started: less than MIN_RUN_S was left
    hidden = [c for c in result.checks if c.hidden]
    assert hidden and all(c.outcome == Outcome.TIMEOUT and not c.passed for c in hidden)
    assert [c.passed for c in result.checks if not c.hidden] == [True]


def test_a_run_stopped_by_the_budget_says_so_with_the_budget(course, monkeypatch):
    clock = Clock()

    class Stopped(SlowSandbox):
        def run(self, job):
            self.jobs.append(job)
            self.clock.now += job.limits.total_timeout_s
            return RunRecord(observations={cid: {"status": "timeout", "scope": "submission",
                                                 "limit_s": job.limits.total_timeout_s} for cid in job.checks},
                             cells={i: {"status": "ok"} for i, _ in job.cells}, backend="fake")

    monkeypatch.setattr(grading, "slowdown", lambda *args: 1.0)
    g = Grader(course["assignment"], fakes.FakeSandbox())
    g.prepare()
    g.sandbox = Stopped(clock, {})
    monkeypatch.setattr(grading, "time", clock)
    result = g.grade(course["notebook"], "ada").result
    public = [c for c in result.checks if not c.hidden][0]
    assert public.outcome == Outcome.TIMEOUT and "the whole submission" in public.message
    assert len(g.sandbox.jobs) == 1
    assert f"({g.sandbox.jobs[0].limits.total_timeout_s + JUDGE_S:g} s" in public.message  # the budget, not the run's


@pytest.mark.slow
@pytest.mark.serial   # measures its own duration against the budget
def test_a_submission_of_sleeping_cells_costs_at_most_its_budget(tmp_path, run_cli):
    """01 with eight cells that sleep 12 s each, under a cell limit of 14 s and checks of at most
    3 s: each run took the cells' 96 s before (over 192 s in all); now both runs and the judging
    share one budget (two cell limits, the checks' limits, the judge's share: about 140 s)."""
    a, sleeps, each, cell = "01_tf_basics", 8, 12, 14
    nbfactory.make(tmp_path / "subs" / "sleepy.ipynb", a, extra=[(None, f"import time\ntime.sleep({each})\n")] * sleeps)
    proc = run_cli("grade", a, tmp_path / "subs", "--json", "--jobs", "1", "--cell-timeout", str(cell),
                   "--check-timeout", "3", "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json_lines(proc.stdout)["sleepy"]
    # Every check counts, those never listed (a public check's unpublished sibling) too.
    checks = find_assignment(a).checkset(True)
    longest = max(c["limit_s"] for c in result["checks"])
    budget = submission_budget({c.id: longest for c in checks.checks}, [c.id for c in checks.checks], 0.0, cell,
                               checks.limits.total_timeout_s, runs=2)
    print(f"budget at most {budget} s, duration {result['duration_s']} s")
    assert result["duration_s"] <= budget + 5, (result["duration_s"], budget)
    # Out of budget, a check times out (and the rest of its exercise is skipped); nothing else fails.
    assert all(c["passed"] or c["outcome"] in ("timeout", "skipped") for c in result["checks"]), \
        [(c["id"], c["outcome"], c["message"][:80]) for c in result["checks"] if not c["passed"]]
    if budget < 2 * sleeps * each:  # not so busy a machine that the limits allow both runs in full
        assert result["duration_s"] < 2 * sleeps * each
        assert any(c["outcome"] == "timeout" for c in result["checks"] if c["hidden"]), result["checks"]
