"""The vocabulary of an assignment's check files (``checks.py``, ``hidden_checks.py``).

A check file defines *probes* (code that runs inside the sandbox, calls the
student's function and returns plain values) and a list ``CHECKS`` of
:class:`Check` objects saying which probe to call with which inputs, how many
points it is worth and which :mod:`autograder.checks.rules` judge the recorded values.

The same file is imported in two places: inside the sandbox (only the probes
are used) and in the grading process (only the check metadata and the rules are
used). It must therefore hold no solution code and no expected values: those
always come from running the same probe on the reference solution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:  # the rules (and numpy) load with the check files, not with this module
    from autograder.checks.rules import Rule


@dataclass(frozen=True)
class Limits:
    """Per-assignment sandbox limits; the CLI can override them."""

    check_timeout_s: float = 30.0   # one probe (one call of the student's function)
    cell_timeout_s: float = 60.0    # one notebook cell at the top level
    total_timeout_s: float = 600.0  # the whole submission
    memory_mb: int = 4096           # address space (local) / memory = memory+swap (docker)
    output_kb: int = 256            # stdout/stderr kept for the instructor's log
    cpus: float = 1.0               # docker: CPU share of one container
    pids: int = 512                 # docker: processes + threads (TensorFlow uses many threads)
    scratch_mb: int = 256           # docker: size of the writable tmpfs


@dataclass(frozen=True)
class Check:
    """One graded observation of one exercise.

    ``exercise`` is the name of the function the student writes; ``name`` is unique
    within the exercise. ``probe`` is called in the sandbox as
    ``probe(student, *args)`` and returns a dict of named values that ``rules``
    compare with the same probe's values on the reference solution.
    ``explain`` is shown to students for public checks (what the check does).

    ``derive(values, *args)`` (optional) runs in the judge, on the decoded values of the
    student and of the reference alike, and returns values computed there from the
    recorded artefacts (see :mod:`autograder.checks.artefacts`); they replace any recorded value
    of the same name before the rules look. Facts that decide a grade come from here,
    never from what the probe concluded in the student's process.

    A hidden check is shown to students as "hidden 1", "hidden 2"... of its exercise,
    unless ``name_shown`` says its name tells nothing of its inputs.

    ``allowance_s``: where the student chooses how much work the check's call does (their
    own training settings), the seconds the notebook allows it; the check's time limit,
    otherwise derived from the solution's time, is never below this (scaled for load).

    ``sibling_of`` (hidden checks only): the name of the public check of the same exercise this
    check is the unpublished sibling of: the same probe and rules on another input of the same
    kind, which no student sees. The public check earns its points only when its siblings pass
    too, so an answer that returns the published values without computing them earns nothing
    ("matches the published example only"). A sibling may be worth points of its own, or none
    (then it is judged but never listed in a result); see :func:`sibling`.

    ``swappable`` (public checks only): two of the probe's parameters a student may plausibly
    pass or use the other way round (``("labels", "p")``). The reference run then also runs the
    probe on the *solution* with those two inputs swapped (:meth:`swapped`), and a failing answer
    that gives exactly that value is told so. An explicit opt-in of the check's author: never
    inferred, never computed by student code.
    """

    exercise: str
    name: str
    probe: Callable[..., dict]
    args: tuple = ()
    rules: Sequence[Rule] = ()
    points: float = 1.0
    hidden: bool = False
    explain: str = ""
    derive: Callable[..., dict] | None = None
    name_shown: bool = False
    allowance_s: float = 0.0
    sibling_of: str = ""
    swappable: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.exercise}.{self.name}"

    def parameters(self) -> list[str]:
        """The names of the probe's parameters after the student (``*values`` for a variadic one)."""
        import inspect

        names = []
        for p in list(inspect.signature(self.probe).parameters.values())[1:]:
            if p.kind is p.VAR_POSITIONAL:
                names.append(f"*{p.name}")
            elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                names.append(p.name)
        return names

    def swapped(self) -> "Check":
        """This check with the two ``swappable`` inputs exchanged (a reference run's extra probe)."""
        from dataclasses import replace

        first, second = (self.parameters().index(n) for n in self.swappable)
        args = list(self.args)
        args[first], args[second] = args[second], args[first]
        return replace(self, args=tuple(args))

    @property
    def probe_name(self) -> str:
        return self.probe.__name__


SWAPPED = "~swapped"  # suffix of a reference observation of a check on its swapped inputs


def swapped_id(check_id: str) -> str:
    return f"{check_id}{SWAPPED}"


def sibling(check: Check, args: tuple, name: str = "") -> Check:
    """The unpublished sibling of the public ``check``: the same probe and rules on ``args``
    (inputs of the same kind, not an edge case), hidden, worth no points of its own. Put it in
    ``hidden_checks.py``."""
    from dataclasses import replace

    return replace(check, name=name or f"{check.name}_sibling", args=tuple(args), points=0.0, hidden=True,
                   explain="", name_shown=False, sibling_of=check.name, swappable=())


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer, so feedback can name it.

    ``source`` redefines the exercise's function the wrong way. The grader runs
    the exercise's probes on it (with the reference, once) and, when a student's
    failing answer matches its values, adds ``message`` to the feedback. At release each
    mistake must fail a public check of its exercise (so a student learns of it before
    submitting), unless ``hidden_only`` gives the reason it cannot.
    """

    exercise: str
    name: str
    message: str
    source: str
    # Why no public check can catch it (release requires every other mistake to fail one).
    hidden_only: str = ""


@dataclass
class CheckSet:
    """All checks of an assignment, public first, in a stable order."""

    checks: list[Check] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    mistakes: list[Mistake] = field(default_factory=list)
    # Data files every run gets in its working folder, read-only: (name, path here).
    data: list[tuple[str, str]] = field(default_factory=list)

    def exercises(self) -> list[str]:
        seen: list[str] = []
        for c in self.checks:
            if c.exercise not in seen:
                seen.append(c.exercise)
        return seen

    def max_score(self) -> float:
        return float(sum(c.points for c in self.checks))
