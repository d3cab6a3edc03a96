"""Time limits of single checks, derived from what the solution took on them.

The reference run times every check on the solution (grader-side wall clock, see
``RunRecord.timings``). A student's check may take

    slowdown x max(FLOOR_S, MULTIPLE x reference seconds, the check's allowance_s)

capped by the assignment's ``Limits.check_timeout_s`` (or the CLI's), so an infinite
loop costs seconds where the solution takes milliseconds, and a correct but slower
answer (an eager ``GradientTape`` loop, float64) stays far inside its limit. A check
whose cost the student chooses (their own training settings) declares the time the
notebook allows them (``Check.allowance_s``): the solution's choice says nothing of theirs.

``slowdown`` keeps the limits fair on a slower or busier machine than the one that
made the reference: the largest of the ratio of a short CPU calibration timed with the
grader's start to the same calibration timed with the reference, the load average per
core, and the threads runnable right now per core. The last is read at each
submission's start: a one-minute average lags behind load that has just begun (the
batch's own other jobs, or another program started with it).
Cells keep the assignment's limit: an answer cell may hold the student's own
exploration, which the solution's cells say nothing about.

One submission has one budget (:func:`submission_budget`), for its runs (the public one,
then the hidden one, which runs the cells again) and the judging together:

    cells: one cell limit per run  +  the sum of its checks' limits  +  JUDGE_S

capped by the assignment's ``total_timeout_s``. The public run may use the budget less
``JUDGE_S``; the hidden run gets what is left of it (and does not start with less than
``MIN_RUN_S`` left: its checks then time out for the whole submission). So cells that
took long in the public run take their time from the hidden run's, never a second budget.
"""

from __future__ import annotations

import os
import time

FLOOR_S = 3.0      # even a check the solution passes in a millisecond may take this long
MULTIPLE = 10.0    # the headroom over the solution's own time


def calibration_s() -> float:
    """Seconds of a fixed piece of Python and numpy work here (the fastest of three runs)."""
    import numpy as np

    best = float("inf")
    a = np.arange(40_000, dtype=np.float64).reshape(200, 200) / 40_000
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(60_000):
            total += i * i % 7
        for _ in range(8):
            a = np.tanh(a @ a.T / 200)
        best = min(best, time.perf_counter() - started)
    return best


def slowdown(reference_calibration_s: float | None, now_calibration_s: float | None = None) -> float:
    """How much slower this machine is now than when the reference was timed (at least 1)."""
    factor = 1.0
    if reference_calibration_s and reference_calibration_s > 0:
        now = now_calibration_s if now_calibration_s is not None else calibration_s()
        factor = max(factor, now / reference_calibration_s)
    cores = os.cpu_count() or 1
    try:
        factor = max(factor, os.getloadavg()[0] / cores)
    except OSError:  # no load average on this platform
        pass
    return max(factor, runnable_now() / cores)


def runnable_now() -> int:
    """Threads running or waiting for a CPU at this instant, this one included (the fourth
    field of /proc/loadavg, "running/total"); 0 where the kernel does not say."""
    try:
        with open("/proc/loadavg") as f:
            return int(f.read().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return 0


def check_limit(reference_s: float | None, upper_s: float, factor: float = 1.0, allowance_s: float = 0.0) -> float:
    """The wall-clock limit of one check; ``upper_s`` when the solution's time is unknown."""
    if reference_s is None or reference_s < 0:
        return upper_s
    return round(min(upper_s, factor * max(FLOOR_S, MULTIPLE * reference_s, allowance_s)), 1)


def check_limits(timings: dict[str, float], checks: dict[str, float], upper_s: float,
                 factor: float = 1.0) -> dict[str, float]:
    """check id -> limit, for the checks whose reference time is known (``checks``: check id ->
    its allowance_s)."""
    return {cid: check_limit(timings[cid], upper_s, factor, allowance) for cid, allowance in checks.items()
            if cid in timings}


JUDGE_S = 10.0     # of a submission's budget, kept for judging (bounded: see autograder.checks.artefacts)
MIN_RUN_S = 30.0   # the least of the budget a run of the hidden checks starts with


def submission_budget(check_limits: dict[str, float], checks: list[str], check_upper_s: float,
                      cell_s: float, upper_s: float, runs: int) -> float:
    """Wall-clock seconds one submission may take: ``runs`` runs (of ``checks``, whose limits are
    ``check_limits``, else ``check_upper_s``) and the judging. ``upper_s`` (the assignment's
    total limit) when the solution's times are unknown (a shipped public reference)."""
    if not check_limits:
        return upper_s
    derived = runs * cell_s + sum(check_limits.get(cid, check_upper_s) for cid in checks) + JUDGE_S
    return round(min(upper_s, derived), 1)
