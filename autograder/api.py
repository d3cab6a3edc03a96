"""The library API: grade a batch, and get the gradebook, every output and a typed report.

Every front end calls this instead of wiring the engine's parts itself::

    from autograder.api import grade_batch
    from autograder.assignments.course import find_assignment
    from autograder.settings import Settings

    report = grade_batch(find_assignment("02_linear_classifier"), ["submissions.zip"],
                         Settings(backend="local", jobs=2), out=Path("autograder-out"))
    report.results      # one Result per submission, in the order they were done
    report.lines()      # the summary a person reads

One batch flows one way: intake (sources -> items, the roster's names) -> a Grader on a
sandbox -> run_batch on a runner (threads, or Dask) storing each result as it comes ->
every output refreshed from the gradebook -> :class:`BatchReport`. The sandbox factory and
the runner are arguments, so a test grades in-process on the fake sandbox and a service
on its own workers. Bad input raises :class:`autograder.errors.UsageError` before
anything is graded.

A caller that grades many small batches (the submission service's workers: one notebook per
job) keeps its graders warm in a :class:`GraderPool` (one ``Grader`` per assignment version and
sandbox settings: its reference, its machine calibration and its sandbox built once) and passes
``grader=pool.grader(assignment, settings)``; ``refresh=False`` leaves out the outputs made from
the whole gradebook (the exports, the report and its plots, every student's feedback rendered
again), which such a caller does not read: each result's own files (result, log, feedback) and
its gradebook row are still written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
import threading
from typing import TYPE_CHECKING, Callable

from autograder.assignments.course import Assignment
from autograder.errors import UsageError
from autograder.result import Result, Status
from autograder.sandbox.base import Sandbox
from autograder.settings import Settings

if TYPE_CHECKING:
    from autograder.runs.grading import Grader


def default_sandbox(settings: Settings) -> Sandbox:
    """The sandbox ``grade --backend`` makes on this machine."""
    from autograder.sandbox.registry import make_sandbox

    return make_sandbox(settings.backend, settings.gpu, settings.unconfined)


@dataclass
class BatchReport:
    """What one batch did: its results, what intake ignored, what the gradebook kept, who is
    missing, what was written, and what to tell the instructor."""

    assignment: str
    results: list[Result]
    layouts: list[tuple[str, str]]        # (source, layout)
    ignored: list[str]
    kept: list[tuple[Result, dict]]       # results that did not replace a graded one, and that one
    missing: list[dict]
    written: list[Path]
    notes: list[str]
    out: Path
    gradebook: Path
    said: list[str] = field(default_factory=list)   # what was said while it ran (layouts, notes)

    @property
    def failed(self) -> bool:
        """Whether the grader itself failed on some submission (the command exits 1)."""
        return any(r.status is Status.ERROR for r in self.results)

    def lines(self) -> list[str]:
        """The summary, then what the gradebook kept and what to know about the LMS files."""
        from autograder.outputs import terminal

        results = [r.to_json() for r in self.results]
        return (terminal.summary_lines(results, self.ignored, self.missing) + terminal.kept_lines(self.kept)
                + [f"note: {n}" for n in self.notes])


class GraderPool:
    """Warm graders kept across batches: one :class:`autograder.runs.grading.Grader` per
    assignment version and sandbox settings (:meth:`Settings.sandbox_key`), on one sandbox per
    sandbox settings (made by ``sandbox``, as :func:`grade_batch`'s argument). A newer version of
    an assignment replaces its grader (the sandbox stays). Thread-safe; :meth:`close` closes the
    sandboxes (a batch given one of these graders never does)."""

    def __init__(self, sandbox: Callable[[Settings], Sandbox] = default_sandbox):
        self._make_sandbox = sandbox
        self._sandboxes: dict[tuple, Sandbox] = {}
        self._graders: dict[tuple, tuple[str, Grader]] = {}
        self._lock = threading.Lock()
        self.built = 0   # graders built so far (a warm pool builds one per assignment version)

    def grader(self, assignment: Assignment, settings: Settings = Settings()) -> Grader:
        """The warm grader of this version of ``assignment`` under ``settings``, built (and its
        sandbox prepared) on first use."""
        from autograder.runs.grading import Grader

        _check(assignment, settings)
        box_key = settings.sandbox_key()
        key = (assignment.name, str(assignment.release_dir), str(assignment.solution_dir), *box_key)
        version = assignment.version
        with self._lock:
            kept = self._graders.get(key)
            if kept is not None and kept[0] == version:
                return kept[1]
            box = self._sandboxes.get(box_key)
            if box is None:
                box = self._sandboxes[box_key] = self._make_sandbox(settings)
                box.prepare()
            grader = Grader(assignment, box, limits=settings.limit_changes())
            self._graders[key] = (version, grader)
            self.built += 1
            return grader

    def close(self) -> None:
        with self._lock:
            boxes, self._sandboxes, self._graders = list(self._sandboxes.values()), {}, {}
        for box in boxes:
            box.close()


def grade_batch(assignment: Assignment, sources: list[str], settings: Settings = Settings(), *,
                out: Path = Path("autograder-out"), gradebook: Path | None = None,
                sandbox: Callable[[Settings], Sandbox] = default_sandbox, runner=None,
                emit: Callable[[Result], None] | None = None,
                say: Callable[[str], None] | None = None,
                grader: Grader | None = None, refresh: bool = True) -> BatchReport:
    """Grade ``sources`` (notebooks, folders, LMS zips) for ``assignment``: each result stored
    as it comes (``emit`` sees it), then every output refreshed. ``runner``: an
    :class:`autograder.runs.batch.Runner` (default: ``settings.jobs`` threads, or Dask when the
    settings say so). ``say`` hears what the command line prints as it goes.

    ``grader``: a warm grader to use (from a :class:`GraderPool`) instead of building one on a
    new sandbox; it must be this version of this assignment's, and it is left open.
    ``refresh=False``: no exports, no report and no other student's feedback rendered again
    (``written`` is empty); each result's own files and the gradebook are written as always."""
    from autograder.lms import context
    from autograder.lms.intake import collect, remove
    from autograder.outputs import refresh as outputs
    from autograder.outputs.result_files import ResultStore

    said: list[str] = []

    def tell(line: str) -> None:
        said.append(line)
        if say is not None:
            say(line)

    _check(assignment, settings)
    policies = course_policies(assignment, out, settings.due)   # a bad policy or --due: before anything runs
    if grader is not None and (grader.assignment.name, grader.assignment.version) != (assignment.name,
                                                                                       assignment.version):
        raise UsageError(f"the grader given is {grader.assignment.name}'s (version {grader.assignment.version}), "
                         f"not this version of {assignment.name}'s")
    roster = context.read_roster(settings.roster) if settings.roster else None
    # Before anything is graded: the LMS column the exports will write (a new roster forgets the old column).
    context.check_lms(roster or context.saved_roster(out, assignment.name), assignment.name,
                      settings.lms_column or (None if roster else context.saved_column(out, assignment.name)))
    scratch: list[Path] = []   # where zips are unpacked: removed once graded
    try:
        items, ignored, layouts = collect(list(sources), assignment.name, settings.layout, dict(settings.picks),
                                          context.canvas_people(roster or context.saved_roster(out, assignment.name)),
                                          scratch)
        context.name_from_roster(items, roster or context.saved_roster(out, assignment.name))
        for source, layout in zip(sources, layouts):
            if settings.layout == "auto" and not Path(source).is_file() or str(source).lower().endswith(".zip"):
                tell(f"{source}: layout {layout}{' (detected)' if settings.layout == 'auto' else ''}")
        if not items:
            raise UsageError("no .ipynb submissions found in " + " ".join(map(str, sources)))
        # before the gradebook: a backend that cannot run leaves no output behind
        box = sandbox(settings) if grader is None else None
        store = ResultStore(out, gradebook)
        done = _run(assignment, items, store, settings, box, runner, emit or _quiet, tell,
                    dict(replace=settings.replace, sources=[os.path.abspath(s) for s in sources]), grader)
    finally:
        remove(scratch)
    results = [r.to_json() for r in done]
    context.remember(out, assignment.name, roster, settings.lms_column, settings.missing_as_zero, results)
    if settings.due is not None:
        remember_due(out, assignment.name, settings.due)
    written, notes = outputs.refresh(out, assignment.name, store.gradebook, policies) if refresh else ([], [])
    notes = notes + _untimed(policies.of(assignment.name), list(zip(map(str, sources), layouts)), out, assignment.name)
    notes = notes + _not_candidates(policies.of(assignment.name), results)
    return BatchReport(assignment.name, done, list(zip(map(str, sources), layouts)), ignored, store.kept,
                       outputs.missing(out, assignment.name, store.gradebook), written, notes, out,
                       store.gradebook.path, said)


DUE_FILE = "due.json"   # in OUT/exports/<assignment>-lms/: the --due a command was given


def course_policies(assignment: Assignment, out: Path, due: str | None = None):
    """The course's policies for this assignment (:class:`autograder.policies.model.CoursePolicies`):
    ``course.toml`` of the assignment's course, with the due date ``due`` (``grade --due``) or the
    one an earlier command was given for this output folder over the course's; every other
    assignment's remembered ``--due`` over the course's too (the late-day budget is spent in
    their due order). A bad value is a :class:`autograder.errors.PolicyError` (a usage error)."""
    import json

    from autograder.assignments.course_toml import course_policies as read
    from autograder.lms.exports import settings_folder
    from autograder.policies.model import parse_time

    policies = read(assignment.release_dir.resolve().parent.parent)
    given = {} if due is None else {assignment.name: due}
    for saved in sorted((out / "exports").glob(f"*-lms/{DUE_FILE}")):
        name = saved.parent.name.removesuffix("-lms")
        if saved.parent == settings_folder(out, name) and name not in given:
            given[name] = json.loads(saved.read_text())["due"]
    for name, text in sorted(given.items()):
        policies = policies.with_due(name, parse_time(text, policies.of(name).zone, f"--due {text!r}"))
    return policies


def _untimed(policy, layouts: list[tuple[str, str]], out: Path, assignment: str) -> list[str]:
    """What to say when the due date cannot apply to a source: its layout holds no submission times."""
    from autograder.lms.context import saved_roster

    if policy.due is None:
        return []
    notes = []
    for source, layout in layouts:
        if layout in ("files", "nbgrader"):
            notes.append(f"the due date ({policy.due.local()}) applies to nothing in {source}: the {layout} layout "
                         "holds no submission times (a file's modification time says when it was copied, not "
                         "handed in), so those submissions count as on time")
        elif layout == "canvas":
            notes.append(f"the due date ({policy.due.local()}) applies to {source} through Canvas's _LATE marks only: "
                         "its download holds no submission times, so a late submission is late by an unknown amount "
                         "(charged the late rule's first step, or one late day)")
        elif layout == "moodle" and getattr(saved_roster(out, assignment), "kind", None) != "moodle-worksheet":
            notes.append(f"the due date ({policy.due.local()}) applies to nothing in {source}: Moodle's download "
                         "holds no submission times; give its grading worksheet as --roster (its Last modified "
                         "(submission) column)")
    return notes


def _not_candidates(policy, results: list[dict]) -> list[str]:
    """What to say when ``counts`` chooses among gradings and a download's older attempts were
    not graded (only each student's latest is): they are no candidates."""
    from autograder.policies.model import Counts

    older = [r for r in results if (r.get("message") or "").startswith("not graded: superseded by")]
    if policy.counts is Counts.LATEST or not older:
        return []
    return [f"counts = \"{policy.counts.value}\" chooses among the gradings the gradebook holds, and "
            f"{len(older)} older submission(s) in this batch were not graded (only each student's latest is): "
            "they are not candidates; to make one a candidate, grade it on its own, then the later one again"]


def remember_due(out: Path, assignment: str, due: str) -> None:
    from autograder.files import write_json
    from autograder.lms.exports import settings_folder

    write_json(settings_folder(out, assignment) / DUE_FILE, {"due": due})


def _run(assignment: Assignment, items: list, store, settings: Settings, sandbox: Sandbox | None, runner, emit,
         tell, options: dict, kept: Grader | None = None) -> list[Result]:
    """The items graded and stored, on this machine's threads, or the runner given, or Dask;
    with the ``kept`` grader when one is given (then left open), else a new one on ``sandbox``."""
    from autograder.runs.batch import run_batch
    from autograder.runs.grading import Grader

    grader = kept if kept is not None else Grader(assignment, sandbox, limits=settings.limit_changes())
    if not grader.sandbox.describe().get("confined", True):
        tell("note: the local backend runs unconfined (--unconfined): every notebook has your rights; grade "
             "untrusted notebooks without this option")
    try:
        if runner is None and (settings.dask or settings.dask_local):
            return _on_dask(grader, items, store, settings, emit, options)
        return run_batch(grader, items, store, settings.jobs, settings.force, emit, runner, **options)
    finally:
        if kept is None:
            grader.sandbox.close()


def _check(assignment: Assignment, settings: Settings) -> None:
    if assignment.solution_dir is None:
        raise UsageError(f"grading '{assignment.name}' needs its solutions folder")
    if settings.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if settings.dask_local is not None and settings.dask_local < 1:
        raise UsageError("--dask-local must be at least 1")


def _on_dask(grader, items, store, settings: Settings, emit, options) -> list[Result]:
    from autograder.runs.batch import run_batch
    from autograder.runs.cluster import DaskRunner, GraderSpec, dask_client

    assignment = grader.assignment
    resolved = type(assignment)(assignment.name, assignment.release_dir.resolve(), assignment.solution_dir.resolve())
    # The backend this machine resolved ("auto" -> local or docker): every worker uses the same.
    spec = GraderSpec(resolved, assignment.version, replace(settings, backend=grader.sandbox.name))
    with dask_client(settings.dask, settings.dask_local) as client:
        return run_batch(grader, items, store, settings.jobs, settings.force, emit, DaskRunner(client, spec),
                         **options)


def _quiet(result: Result) -> None:
    pass
