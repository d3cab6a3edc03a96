"""A course folder's optional ``course.toml``: what the course adds to the sandbox, and its policies.

    [sandbox]
    packages = ["pandas==2.2.3", "scikit-learn==1.5.2"]   # pip requirements, pinned

    [policy]                          # the course's (autograder.policies.model reads it)
    time_zone = "Europe/Berlin"
    [assignments.01_tf_basics.policy] # one assignment's own keys over the course's
    due = "2026-03-27 23:59"

``packages`` go into the Docker image (``autograder image build`` passes them to the
build) and into the local environment (``autograder packages --install``), which is the
local backend's sandbox. A requirement is one pip requirement string; pip options
(anything starting with ``-``) are refused, so the file cannot redirect pip elsewhere.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from autograder.errors import UsageError

FILE = "course.toml"
REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.-]+\])?\s*([<>=!~]=?[^\s;]+(\s*,\s*[<>=!~]=?[^\s,;]+)*)?$")


def load(root: Path) -> dict:
    path = root / FILE
    if not path.exists():
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"sandbox", "policy", "assignments"}) + sorted(set(data.get("sandbox", {})) - {"packages"})
    if unknown:
        raise UsageError(f"{path}: unknown setting(s) {', '.join(unknown)} (known: [sandbox] packages, [policy], "
                         "[assignments.NAME.policy])")
    return data


def course_policies(root: Path):
    """The course's policies (:class:`autograder.policies.model.CoursePolicies`); none when the
    file has no ``[policy]`` or ``[assignments]`` table. An ``[assignments.NAME]`` table for a
    name the course has no folder of (``assignments/NAME`` or ``solutions/NAME``) is refused: a
    misspelt name would leave the real assignment without its due date, unsaid."""
    from autograder.policies.model import PolicyError, parse_course

    data = load(root)
    listed = data.get("assignments", {})
    known = {p.name for sub in ("assignments", "solutions") if (root / sub).is_dir()
             for p in (root / sub).iterdir() if p.is_dir()}
    unknown = sorted(set(listed) - known) if isinstance(listed, dict) and known else []
    if unknown:
        raise PolicyError(f"{root / FILE}: [assignments.{unknown[0]}]: the course has no assignment "
                          f"{unknown[0]!r} (its assignments: {', '.join(sorted(known))})")
    return parse_course(data, str(root / FILE))


def sandbox_packages(root: Path) -> list[str]:
    """The course's extra sandbox packages (pip requirement strings)."""
    packages = load(root).get("sandbox", {}).get("packages", [])
    if not isinstance(packages, list) or not all(isinstance(p, str) for p in packages):
        raise UsageError(f"{root / FILE}: [sandbox] packages must be a list of strings")
    for p in packages:
        if not REQUIREMENT.match(p.strip()):
            raise UsageError(f"{root / FILE}: {p!r} is not a pip requirement such as \"pandas==2.2.3\"")
    return [p.strip() for p in packages]
