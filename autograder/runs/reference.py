"""Reference observations: the same probes, run once on the solution, cached.

The cache key covers the solution notebook, the check files, the grader
version and the TensorFlow version, so editing any of them recomputes it.
The cache lives with the grader (never inside a sandbox).
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from autograder.assignments.course import Assignment
from autograder.errors import SolutionFailsChecks  # noqa: F401 - raised here, caught by callers
from autograder.files import write_json
from autograder.runs.job_builder import build_job
from autograder.notebooks.reading import assemble
from autograder.sandbox.base import Sandbox, SandboxError
from autograder.sandbox.events import StepStatus
from autograder.checks.spec import CheckSet, swapped_id
from autograder.checks.timelimits import calibration_s

FORMAT = 4  # of the cached data; bump when it changes


def tensorflow_version() -> str:
    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "none"


def cache_dir() -> Path:
    base = os.environ.get("AUTOGRADER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "autograder")
    return Path(base) / "references"


def compute_references(assignment: Assignment, checkset: CheckSet, sandbox: Sandbox,
                       hidden: bool = True) -> dict:
    """A plain document (observations in their plain form, as the cache and a release store them):
    {"checks": {id: observation}, "mistakes": {name: {"exercise", "message", "checks": {id: obs}}},
    "swapped": {id: {"names": [a, b], "observation": obs}} (the solution on a public check's two
    ``swappable`` inputs exchanged: public checks only, so a hidden input is never swapped or stored),
    "timings": {id: seconds the solution took}, "calibration_s": see autograder.checks.timelimits}."""
    solution = assignment.load_solution()
    plan, _ = assemble(solution, solution, assignment.name)
    calibration = calibration_s()  # beside the run's timings: see autograder.checks.timelimits
    record = sandbox.run(build_job(f"{assignment.name} (solution)", assignment, plan, checkset.checks,
                                   checkset.limits, hidden, mistakes=checkset.mistakes, data=checkset.data,
                                   swapped=True))
    if record.infrastructure_error:
        raise SandboxError(record.infrastructure_error)
    broken = {cid: obs for cid, obs in ((c.id, record.observations.get(c.id)) for c in checkset.checks)
              if obs is None or obs.status is not StepStatus.OK}
    if broken:
        first_id, first = next(iter(broken.items()))
        raise SolutionFailsChecks(f"the solution of {assignment.name} fails its own check {first_id}: "
                              f"{json.dumps(first and first.plain())[:400]}")
    from autograder.checks.judge import judge_check

    for check in checkset.checks:  # the solution must pass its own rules (properties too)
        verdict = judge_check(check, record.observations[check.id], record.observations[check.id])
        if not verdict.passed:
            raise SolutionFailsChecks(f"the solution of {assignment.name} fails {check.id}: {verdict.message}")
    swapped = swapped_references(assignment.name, checkset, record.observations)
    mistakes: dict = {}
    for m in checkset.mistakes:
        observed = {cid: obs for cid, obs in record.observations.items() if cid.startswith(f"{m.name}::")}
        if not any(obs.status is StepStatus.OK for obs in observed.values()):
            first = next(iter(observed.values()), None)
            raise SolutionFailsChecks(f"known mistake {m.name} of {assignment.name} records no value: "
                                      f"{json.dumps(first and first.plain())[:300]}")
        mistakes[m.name] = {"exercise": m.exercise, "message": m.message,
                            "checks": {cid.split("::", 1)[1]: obs.plain() for cid, obs in observed.items()}}
    return {"checks": {c.id: record.observations[c.id].plain() for c in checkset.checks}, "mistakes": mistakes,
            "swapped": swapped,
            "timings": {c.id: record.timings[c.id] for c in checkset.checks if c.id in record.timings},
            "calibration_s": round(calibration, 4)}


def swapped_references(name: str, checkset: CheckSet, observations: dict) -> dict:
    """The solution's observations on the swapped inputs of the public checks that declare them."""
    out = {}
    for check in checkset.checks:
        if check.hidden or not check.swappable:
            continue
        obs = observations.get(swapped_id(check.id))
        if obs is None or obs.status is not StepStatus.OK:
            raise SolutionFailsChecks(f"check {check.id} of {name} declares swappable={check.swappable!r}, but the "
                                      "solution records no value on those inputs swapped (drop the declaration, "
                                      f"or make the swapped inputs valid): {json.dumps(obs and obs.plain())[:300]}")
        out[check.id] = {"names": list(check.swappable), "observation": obs.plain()}
    return out


def references(assignment: Assignment, checkset: CheckSet, sandbox: Sandbox, hidden: bool = True) -> dict:
    key = hashlib.sha256(f"{FORMAT}|{assignment.version}|{tensorflow_version()}|{int(hidden)}".encode()
                         ).hexdigest()[:16]
    path = cache_dir() / f"{assignment.name}-{key}.json"
    if path.exists():
        try:
            with open(path) as fh:
                cached = json.load(fh)
            if set(cached.get("checks", {})) == {c.id for c in checkset.checks}:
                return cached
        except (OSError, ValueError):
            pass  # a damaged cache is recomputed
    computed = compute_references(assignment, checkset, sandbox, hidden)
    write_json(path, computed)
    return computed
