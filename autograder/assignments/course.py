"""Finding assignments in a course directory and describing them.

A course directory holds ``solutions/NAME/`` (the instructor notebook
``NAME.ipynb`` and ``hidden_checks.py``) and ``assignments/NAME/`` (the
generated student notebook, the public ``checks.py`` and
``public_reference.json``). Students only ever get ``assignments/NAME``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from autograder import __version__
from autograder.checks.loading import load_checkset, module_files
from autograder.errors import UsageError  # noqa: F401 - raised here, caught by callers
from autograder.checks.spec import CheckSet


@dataclass(frozen=True)
class Assignment:
    name: str
    release_dir: Path
    solution_dir: Path | None

    @property
    def student_notebook(self) -> Path:
        return self.release_dir / f"{self.name}.ipynb"

    @property
    def public_checks(self) -> Path:
        return self.release_dir / "checks.py"

    @property
    def public_reference(self) -> Path:
        return self.release_dir / "public_reference.json"

    @property
    def solution_notebook(self) -> Path:
        if self.solution_dir is None:
            raise UsageError(f"the solutions of '{self.name}' are not available here")
        return self.solution_dir / f"{self.name}.ipynb"

    def _instructor_file(self, name: str) -> Path | None:
        """An optional file of the solutions folder, when that folder is here."""
        path = self.solution_dir / name if self.solution_dir is not None else None
        return path if path is not None and path.exists() else None

    @property
    def hidden_checks(self) -> Path | None:
        return self._instructor_file("hidden_checks.py")

    def check_files(self, hidden: bool) -> list[tuple[str, str]]:
        """What a sandbox run loads. Never the mistake catalogue: it is the exercises written
        almost right, read by the grader (and the reference run) only."""
        return module_files(self.name, self.public_checks, self.hidden_checks if hidden else None)

    @property
    def mistakes_file(self) -> Path | None:
        return self._instructor_file("mistakes.py")

    def checkset(self, hidden: bool) -> CheckSet:
        return load_checkset(self.check_files(hidden), self.mistakes_file)

    @cached_property
    def version(self) -> str:
        """Changes whenever anything that decides a grade changes."""
        h = hashlib.sha256(__version__.encode())
        paths = [self.public_checks, self.solution_notebook]
        paths += [p for p in (self.hidden_checks, self.mistakes_file) if p]
        # The release folder's other files too (DATA files): not the two that release writes.
        generated = {self.student_notebook.name, self.public_reference.name, self.public_checks.name}
        paths += sorted(p for p in self.release_dir.iterdir() if p.is_file() and p.name not in generated)
        for p in paths:
            h.update(p.name.encode() + b"\0" + p.read_bytes())
        return h.hexdigest()[:16]

    def load_solution(self) -> dict:
        from autograder.notebooks.reading import read_notebook

        nb, _ = read_notebook(self.solution_notebook)
        return nb

    def load_public_reference(self) -> dict:
        with open(self.public_reference) as fh:
            return json.load(fh)


def default_course_root() -> Path:
    """$AUTOGRADER_COURSE, else the current folder when it is a course, else the reference
    course of a source checkout of the engine. An installed engine holds no course."""
    env = os.environ.get("AUTOGRADER_COURSE")
    if env:
        return Path(env)
    cwd = Path.cwd()
    if (cwd / "assignments").is_dir() or (cwd / "solutions").is_dir():
        return cwd
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "assignments").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout
    raise UsageError("no course folder here: run in a course folder (one holding assignments/ and "
                     "solutions/), set AUTOGRADER_COURSE to one, or start one with `autograder new NAME`")


def new_course_root() -> Path:
    """Where ``autograder new`` writes: $AUTOGRADER_COURSE, else the current folder."""
    env = os.environ.get("AUTOGRADER_COURSE")
    return Path(env) if env else Path.cwd()


def find_assignment(spec: str, course: Path | None = None) -> Assignment:
    """``spec`` is a name (``01_tf_basics``) or the path of an assignment folder."""
    path = Path(spec)
    if path.is_dir():
        name = path.resolve().name
        root = path.resolve().parent.parent
        release = root / "assignments" / name
        solution = root / "solutions" / name
        if not (release / "checks.py").exists():
            release = path.resolve()
        if not (release / "checks.py").exists():
            raise UsageError(f"{spec}: not an assignment folder (no checks.py found)")
        return Assignment(name, release, solution if solution.is_dir() else None)
    if "/" in spec or spec.endswith(".ipynb"):
        raise UsageError(f"{spec}: no such assignment folder")
    root = course or default_course_root()
    release = root / "assignments" / spec
    solution = root / "solutions" / spec
    if not (release / "checks.py").exists():
        known = sorted(p.name for p in (root / "assignments").glob("*") if (p / "checks.py").exists())
        raise UsageError(f"unknown assignment '{spec}' in {root} (known: {', '.join(known) or 'none'})")
    return Assignment(spec, release, solution if solution.is_dir() else None)
