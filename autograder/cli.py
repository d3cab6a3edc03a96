"""Command line: ``autograder grade`` and ``autograder check`` (and instructor tools).

Exit status: 0 every submission got a result, 1 the grader failed on some (or a
public check failed, for ``check``), 2 usage errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Before numpy loads (nothing above imports it). OpenBLAS's own worker threads are shut down
# by a fork (its atfork handler) even while another thread is inside a BLAS call, which then
# waits for them for ever: the Docker backend forks (preexec_fn) from grading threads while
# others judge with numpy. One BLAS thread per process has no such threads to lose.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from autograder.errors import (CheckFileError, ReleaseError, SandboxError, SandboxUnavailable, SolutionFailsChecks,
                               UidRangeError, UsageError)
from autograder.lms.intake import LAYOUTS
from autograder.sandbox.registry import BACKENDS, make_sandbox

MAX_DEFAULT_WORKERS = 4   # serve's default grading workers: one per core, at most this many


def find_assignment(name: str):
    """The course's assignment (loaded here, so ``--help`` and usage errors stay light)."""
    from autograder.assignments.course import find_assignment as find

    return find(name)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autograder", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade submissions (public and hidden checks)")
    g.add_argument("assignment", help="assignment name (e.g. 01_tf_basics) or its folder")
    g.add_argument("submissions", nargs="+", help=".ipynb files, folders searched for them, or an LMS's .zip")
    g.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="auto: docker when an engine and the image are there, else local")
    g.add_argument("--unconfined", action="store_true",
                   help="local backend: run without the kernel's confinement (trusted notebooks only)")
    g.add_argument("--gpu", choices=["auto", "on", "off"], default="auto",
                   help="docker backend: grade on an NVIDIA GPU (auto: when Docker has one)")
    g.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel submissions")
    cluster = g.add_mutually_exclusive_group()
    cluster.add_argument("--dask", metavar="SCHEDULER_ADDRESS",
                         help="grade on a Dask cluster (e.g. tcp://10.0.0.5:8786), one task per submission")
    cluster.add_argument("--dask-local", type=int, metavar="N",
                         help="grade on a local Dask cluster of N worker processes (instead of --jobs threads)")
    g.add_argument("--out", type=Path, default=Path("autograder-out"), help="output folder")
    g.add_argument("--json", action="store_true", help="one JSON object per submission per line on stdout")
    g.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    g.add_argument("--layout", choices=LAYOUTS, default="auto",
                   help="how the submissions are named (auto: detected from the names, and said)")
    _lms_args(g)
    g.add_argument("--pick", action="append", default=[], metavar="STUDENT=FILE",
                   help="grade this notebook of a student whose submission holds several (their LMS id, and the "
                        "file's name as the invalid message lists it); repeatable")
    g.add_argument("--replace", action="store_true",
                   help="let an invalid result replace a student's graded one even from another file (by default "
                        "the graded one keeps counting, and the batch says so)")
    g.add_argument("--gradebook", type=Path, help="SQLite gradebook (default: OUT/gradebook.sqlite)")
    _due_arg(g)
    _limit_args(g)

    c = sub.add_parser("check", help="a student's self-check: public checks only")
    c.add_argument("assignment")
    c.add_argument("notebook", type=Path, nargs="+", help="one or more notebooks, each checked and reported apart")
    c.add_argument("--backend", choices=BACKENDS, default="auto")
    c.add_argument("--unconfined", action="store_true", help="local backend: without the kernel's confinement")
    c.add_argument("--gpu", choices=["auto", "on", "off"], default="off")
    c.add_argument("--runs", type=int, default=min(2, _cores()),
                   help="sandbox runs side by side, each checking some of the exercises (default: 2 where "
                        "the machine has 2 cores or more; 1 checks every exercise in one run, in order)")
    _limit_args(c)

    r = sub.add_parser("release", help="instructors: regenerate the student notebook and public reference")
    r.add_argument("assignment")
    r.add_argument("--check", action="store_true",
                   help="change nothing: exit 1 when the student notebook is stale (e.g. in an instructor's CI)")

    rep = sub.add_parser("report", help="HTML report with plots, and the exports (CSV, Gradescope JSON)")
    rep.add_argument("assignment")
    rep.add_argument("--out", type=Path, default=Path("autograder-out"))
    rep.add_argument("--gradebook", type=Path)
    _lms_args(rep)
    _due_arg(rep)

    e = sub.add_parser("extend", help="grant (or --revoke) a student a later due date for an assignment; "
                                      "the counted score and every export follow on the spot")
    e.add_argument("student", help="the student's id (as in the results: their LMS id)")
    e.add_argument("assignment")
    e.add_argument("--until", metavar="DATETIME", help="the new due date, e.g. \"2026-04-03 23:59\" (in the "
                                                       "course's time zone) or with an offset")
    e.add_argument("--reason", default="", help="why (kept in the gradebook, shown on the student's feedback)")
    e.add_argument("--revoke", action="store_true", help="revoke the extension that applies (it stays in the history)")
    e.add_argument("--out", type=Path, default=Path("autograder-out"))
    e.add_argument("--gradebook", type=Path)

    ex = sub.add_parser("extensions", help="every extension granted and revoked (of an assignment, or all)")
    ex.add_argument("assignment", nargs="?")
    ex.add_argument("--out", type=Path, default=Path("autograder-out"))
    ex.add_argument("--gradebook", type=Path)

    o = sub.add_parser("override", help="set (or --clear) a manual score; regrading never erases it")
    o.add_argument("assignment")
    o.add_argument("student")
    o.add_argument("score", type=float, nargs="?")
    o.add_argument("--reason", default="")
    o.add_argument("--clear", action="store_true")
    o.add_argument("--allow-out-of-range", action="store_true", help="accept a score below 0 or above the maximum")
    o.add_argument("--out", type=Path, default=Path("autograder-out"))
    o.add_argument("--gradebook", type=Path)

    h = sub.add_parser("history", help="every grading of a student, and which one counts")
    h.add_argument("student", help="the student's id (as in the results: their LMS id)")
    h.add_argument("assignment")
    h.add_argument("--out", type=Path, default=Path("autograder-out"))
    h.add_argument("--gradebook", type=Path)

    u = sub.add_parser("undo", help="undo the last batch of an assignment: what counted before it counts again")
    u.add_argument("assignment")
    u.add_argument("--out", type=Path, default=Path("autograder-out"))
    u.add_argument("--gradebook", type=Path)

    n = sub.add_parser("new", help="instructors: scaffold a new assignment in this course folder")
    n.add_argument("name", help="the assignment's name, e.g. 04_relu")
    n.add_argument("--from-notebook", type=Path, metavar="NB",
                   help="start from an existing notebook: each cell defining a function becomes an exercise")

    v = sub.add_parser("validate", help="instructors: check an assignment (files, points, solution, stubs, mistakes)")
    v.add_argument("assignment")
    v.add_argument("--static", action="store_true", help="only what needs no sandbox run")

    gs = sub.add_parser("gradescope", help="instructors: write a Gradescope autograder bundle (.zip) of an assignment")
    gs.add_argument("assignment")
    gs.add_argument("--out", type=Path, required=True, help="the .zip to write")
    gs.add_argument("--offline", action="store_true",
                    help="put every wheel into the zip: setup.sh then installs without PyPI")
    gs.add_argument("--wheelhouse", type=Path, help="--offline: a folder of wheels to take before PyPI's "
                                                    "(e.g. docker/wheelhouse)")
    gs.add_argument("--hidden-visibility", default="after_published",
                    choices=["after_published", "after_due_date", "hidden", "visible"],
                    help="when students see their hidden checks' results on Gradescope")

    pk = sub.add_parser("packages", help="the course's extra sandbox packages (course.toml)")
    pk.add_argument("--install", action="store_true", help="pip install them into this environment "
                                                            "(the local backend's sandbox)")
    pk.add_argument("--dry-run", action="store_true", help="print the pip command, run nothing")

    sim = sub.add_parser("similarity", help="instructors: which notebooks were copied (similarity of the code "
                                            "students wrote, across a class)")
    sim.add_argument("assignment")
    sim.add_argument("submissions", nargs="+", help=".ipynb files, folders searched for them, or an LMS's .zip")
    sim.add_argument("--against", nargs="+", default=[], metavar="PAST_FOLDER",
                     help="past terms' submissions (folders or zips): compared with this class, not with each other")
    sim.add_argument("--layout", choices=LAYOUTS, default="auto", help="how the submissions are named")
    sim.add_argument("--threshold", type=float, help="report pairs at or above this score (default: the "
                                                     "documented one, docs/similarity.md)")
    sim.add_argument("--out", type=Path, help="output folder (default: autograder-out/similarity/ASSIGNMENT)")

    i = sub.add_parser("image", help="build the Docker sandbox image")
    i.add_argument("action", choices=["build"])
    i.add_argument("--gpu", action="store_true", help="the CUDA build of TensorFlow")
    i.add_argument("--offline", action="store_true",
                   help="no registry: debootstrap base + wheels downloaded on this host (CPU image)")
    i.add_argument("--dry-run", action="store_true", help="print the build command, run nothing")

    sv = sub.add_parser("serve", help="the course's submission service (needs the 'server' extra): students "
                                      "upload, workers grade, feedback in seconds")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=None,
                    help="grading worker processes started beside the web server (default: one per core, at most "
                         f"{MAX_DEFAULT_WORKERS}; 0: only `autograder worker`s)")
    sv.add_argument("--import-roster", type=Path, metavar="FILE",
                    help="create accounts from a roster and print one-time sign-in links: a CSV with columns id, "
                         "name, email, role, or the LMS's file (a Canvas gradebook export, a Moodle grading "
                         "worksheet), kept for the exports")
    sv.add_argument("--roster-assignment", metavar="NAME",
                    help="the assignment an LMS roster is for (needed for a Moodle worksheet when the course has "
                         "several; a Canvas export is otherwise kept for every assignment it has a column for)")
    sv.add_argument("--base-url", help="the address students open (for the printed links), e.g. "
                                       "https://grader.example.edu")
    sv.add_argument("--setup-only", action="store_true",
                    help="migrate the database, add the course's assignments, import the roster, then exit")
    _service_args(sv)

    wk = sub.add_parser("worker", help="a grading worker of the submission service (DATABASE_URL: its database)")
    wk.add_argument("--interval", type=float, default=0.5, help="seconds between looks at an empty queue")
    wk.add_argument("--batch", action="store_true", help="grade what is queued, then exit")
    wk.add_argument("--max-tasks", type=int, help="exit after this many jobs")
    _service_args(wk)

    lt = sub.add_parser("lti", add_help=False, help="the submission service's LTI 1.3 side: register an LMS, print "
                                                    "the tool's Canvas JSON or Moodle fields (autograder lti --help)")
    lt.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def _service_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--course", type=Path, help="the course folder (default: as for grade)")
    p.add_argument("--backend", choices=BACKENDS, help="the sandbox backend (default: $AUTOGRADER_BACKEND, else auto)")


def _lms_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--roster", type=Path, help="the LMS's student list: a Canvas gradebook export or a Moodle "
                                                "grading worksheet (CSV)")
    p.add_argument("--lms-column", help="the Canvas assignment's column header, e.g. \"Lab 1 (123456)\"")
    p.add_argument("--missing-as-zero", action=argparse.BooleanOptionalAction, default=None,
                   help="export students who handed in nothing as 0 (remembered; --no-missing-as-zero: blank again)")


def _due_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--due", metavar="DATETIME",
                   help="the assignment's due date, e.g. \"2026-03-27 23:59\" (in course.toml's [policy] time_zone, "
                        "else UTC) or with an offset or a zone; over course.toml's, and remembered for this --out")


def _cores() -> int:
    """The cores this process may use (all of the machine's where the OS cannot say: macOS)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _limit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--check-timeout", type=float, help="seconds per check (default: the assignment's)")
    p.add_argument("--cell-timeout", type=float, help="seconds per notebook cell")
    p.add_argument("--memory-mb", type=int, help="memory limit of a sandbox")


def _limit_changes(args: argparse.Namespace) -> dict:
    """The command line's changes to an assignment's limits (``Limits`` field -> value)."""
    changes = {}
    if args.check_timeout:
        changes["check_timeout_s"] = args.check_timeout
    if args.cell_timeout:
        changes["cell_timeout_s"] = args.cell_timeout
    if args.memory_mb:
        changes["memory_mb"] = args.memory_mb
    return changes


def grade_settings(args: argparse.Namespace):
    """The ``grade`` command's options as the library's one settings value."""
    from autograder.lms.intake import parse_picks
    from autograder.settings import Settings

    return Settings(backend=args.backend, gpu=args.gpu, unconfined=args.unconfined,
                    limits=tuple(sorted(_limit_changes(args).items())), jobs=args.jobs, dask=args.dask,
                    dask_local=args.dask_local, force=args.force, replace=args.replace, layout=args.layout,
                    picks=tuple(parse_picks(args.pick).items()), roster=args.roster, lms_column=args.lms_column,
                    missing_as_zero=args.missing_as_zero, due=args.due)


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.api import grade_batch
    from autograder.outputs.terminal import human_line, json_line

    def emit(result) -> None:
        data = result.to_json()
        print(json_line(data) if args.json else human_line(data), flush=True)

    report = grade_batch(find_assignment(args.assignment), args.submissions, grade_settings(args), out=args.out,
                         gradebook=args.gradebook, sandbox=lambda settings: make_sandbox(
                             settings.backend, settings.gpu, settings.unconfined),
                         emit=emit, say=lambda line: print(f"autograder: {line}", file=sys.stderr))
    for line in report.lines():
        print(line, file=sys.stderr)
    print(f"gradebook: {report.gradebook}\nfeedback:  {args.out / 'feedback' / report.assignment}/\n"
          f"exports:   {args.out / 'exports'}/\nreport:    {report.written[-1]}", file=sys.stderr)
    return 1 if report.failed else 0


def _gradebook(args: argparse.Namespace):
    from autograder.gradebook import Gradebook

    path = args.gradebook or args.out / "gradebook.sqlite"
    if not path.exists():
        raise UsageError(f"{path}: no gradebook (grade a batch first)")
    return Gradebook(path)


def _policies(assignment: str, out: Path, due: str | None = None):
    from autograder.api import course_policies

    return course_policies(find_assignment(assignment), out, due)


def cmd_report(args: argparse.Namespace) -> int:
    from autograder.api import remember_due
    from autograder.lms import context
    from autograder.outputs import refresh

    book = _gradebook(args)
    assignment = find_assignment(args.assignment).name
    if not book.results(assignment):
        raise UsageError(f"no results for {assignment} in {book.path}")
    roster = context.read_roster(args.roster) if args.roster else None
    context.check_lms(roster or context.saved_roster(args.out, assignment), assignment,
                      args.lms_column or context.saved_column(args.out, assignment))
    policies = _policies(args.assignment, args.out, args.due)
    context.remember(args.out, assignment, roster, args.lms_column, args.missing_as_zero)
    if args.due is not None:
        remember_due(args.out, assignment, args.due)
    written, notes = refresh.refresh(args.out, assignment, book, policies)
    for path in written:
        print(f"wrote {path}")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_override(args: argparse.Namespace) -> int:
    from autograder.outputs import refresh

    book = _gradebook(args)
    stored = book.get(args.student, args.assignment)
    if stored is None:
        raise UsageError(f"no result for {args.student} in {args.assignment}")
    policies = _policies(args.assignment, args.out)
    before = _counted(args.out, args.assignment, args.student, book, policies)
    if args.clear:
        book.clear_override(args.student, args.assignment)
    elif args.score is None or not args.reason:
        raise UsageError("give a score and --reason (or --clear)")
    else:
        top = stored.get("max_score") or 0
        if not (0 <= args.score <= top) and not args.allow_out_of_range:
            raise UsageError(f"{args.score:g} is outside 0..{top:g} (the assignment's points); "
                             "--allow-out-of-range accepts it")
        book.set_override(args.student, args.assignment, args.score, args.reason)
    after = _counted(args.out, args.assignment, args.student, book, policies)
    written, notes = refresh.refresh(args.out, args.assignment, book, policies)
    print(f"{args.student}: {before['final_score']:g} -> {after['final_score']:g}"
          + (f" (set by hand: {args.reason})" if not args.clear else " (automatic score again)"))
    print(f"refreshed the feedback of {args.student} and {len(written)} exports")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _counted(out: Path, assignment: str, student: str, book, policies) -> dict | None:
    from autograder.outputs.refresh import stored

    return next((r for r in stored(out, assignment, book, policies) if r["student"] == student), None)


def cmd_extend(args: argparse.Namespace) -> int:
    from autograder.outputs import refresh
    from autograder.policies.model import parse_time

    book = _gradebook(args)
    assignment = find_assignment(args.assignment).name
    policies = _policies(args.assignment, args.out)
    if not args.reason.strip():
        raise UsageError("give --reason (it is kept with the extension and shown on the student's feedback)")
    if args.revoke == bool(args.until):
        raise UsageError("give --until DATETIME to grant an extension, or --revoke to revoke the one that applies")
    before = _counted(args.out, assignment, args.student, book, policies)
    if args.revoke:
        gone = book.revoke_extension(args.student, assignment, args.reason.strip())
        if gone is None:
            raise UsageError(f"{args.student} has no extension of {assignment} to revoke")
        print(f"{args.student}: extension of {assignment} until {gone.until.isoformat()} revoked ({args.reason})")
    else:
        policy = policies.of(assignment)
        until = parse_time(args.until, policy.zone, f"--until {args.until!r}")
        if policy.due is not None and until.at <= policy.due.at:
            raise UsageError(f"--until {until.local()} is not after the due date ({policy.due.local()}): an extension "
                             "moves the due date later")
        book.grant_extension(args.student, assignment, until.at, args.reason.strip())
        print(f"{args.student}: {assignment} due {until.local()} ({args.reason.strip()})")
        if policy.due is None:
            print(f"note: {assignment} has no due date (course.toml's due, or --due): the extension applies once "
                  "one is set, and sets none by itself", file=sys.stderr)
    if before is None:
        print(f"{args.student} has no result in {assignment} yet: the extension applies when they are graded")
        return 0
    after = _counted(args.out, assignment, args.student, book, policies)
    written, notes = refresh.refresh(args.out, assignment, book, policies)
    print(f"{args.student}: counted {before['final_score']:g} -> {after['final_score']:g} (automatic "
          f"{after.get('score', 0):g}, unchanged)")
    print(f"refreshed the feedback of {args.student} and {len(written)} exports")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_extensions(args: argparse.Namespace) -> int:
    book = _gradebook(args)
    assignment = find_assignment(args.assignment).name if args.assignment else None
    rows = book.extensions(assignment)
    if not rows:
        print("no extension granted" + (f" in {assignment}" if assignment else ""))
    for r in rows:
        state = "applies" if r["applies"] else (f"revoked {r['revoked_at']} ({r['revoke_reason']})"
                                                if r["revoked_at"] else "replaced by a later grant")
        print(f"{r['student']}  {r['assignment']}  until {r['until']}  granted {r['granted_at']}  {r['reason']}  "
              f"[{state}]")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from autograder.outputs.terminal import history_lines

    book = _gradebook(args)
    assignment = find_assignment(args.assignment).name
    found = book.history(args.student, assignment)
    if not found:
        raise UsageError(f"no grading of {args.student} in {assignment} in {book.path}")
    for line in history_lines(found, book.override(args.student, assignment)):
        print(line)
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    from autograder.outputs import refresh
    from autograder.outputs.feedback import render
    from autograder.outputs.result_files import ResultStore

    _gradebook(args).close()   # refuses a folder without a gradebook, creating none
    store = ResultStore(args.out, args.gradebook or args.out / "gradebook.sqlite")
    assignment = find_assignment(args.assignment).name
    undone = store.gradebook.undo_last_batch(assignment)
    if undone is None:
        raise UsageError(f"no batch of {assignment} to undo in {store.gradebook.path}")
    batch, students = undone
    for student in students:
        now = store.counted(assignment, student)
        store.restore_files(assignment, student, now, render(now) if now else {})
        print(f"{student}: " + (f"{now['status']} {now['score']:g}/{now['max_score']:g} again ({now['submission']})"
                                if now else "no result again"))
    refresh.refresh(args.out, assignment, store.gradebook, _policies(args.assignment, args.out))
    print(f"undid batch {batch['id']} of {batch['started_at']} ({' '.join(batch['sources'])}): "
          f"{len(students)} student(s) changed back; `autograder history STUDENT {assignment}` shows every grading")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from autograder.checks.wording import check_report
    from autograder.runs.grading import Grader

    if args.runs < 1:
        raise UsageError("--runs must be at least 1")
    assignment = find_assignment(args.assignment)
    for notebook in args.notebook:
        if notebook.is_dir():
            raise UsageError(f"{notebook} is a folder: give the notebook file itself (a .ipynb)")
        if not notebook.is_file():
            raise UsageError(f"{notebook}: no such file")
    # The same public reference students get, never a recomputation from the solution.
    sandbox = make_sandbox(args.backend, args.gpu, args.unconfined, trusted=True)
    # The warm worker's TensorFlow import (seconds) starts now and overlaps with reading the
    # check files, the reference and the notebook: a self-check waits for it either way.
    sandbox.prepare()
    refs = assignment.load_public_reference()
    grader = Grader(assignment, sandbox, include_hidden=False, limits=_limit_changes(args), references=refs,
                    public_runs=args.runs)
    status = 0
    for n, notebook in enumerate(args.notebook):
        result = grader.grade(notebook, "you").result
        if n:
            print()
        if result.status != "graded":
            print(f"Cannot check {notebook}: {result.message}", file=sys.stderr)
            status = max(status, 1 if result.status == "invalid" else 2)
            continue
        print(check_report(assignment.name, str(notebook), result.checks, refs.get("points")), end="")
        if not all(c.passed for c in result.checks):
            status = max(status, 1)
    return status


def cmd_release(args: argparse.Namespace) -> int:
    from autograder.assignments.release import release
    from autograder.assignments.student_files import stale

    assignment = find_assignment(args.assignment)
    if args.check:
        old = stale(assignment)
        for path in old:
            print(f"{path} is stale: run `autograder release {assignment.name}`", file=sys.stderr)
        if not old:
            print(f"{assignment.name}: the student notebook is up to date")
        return 1 if old else 0
    for path in release(assignment, make_sandbox("local", trusted=True)):
        print(f"wrote {path}")
    return 0


def _course_packages() -> list[str]:
    from autograder.assignments.course import default_course_root
    from autograder.assignments.course_toml import sandbox_packages

    return sandbox_packages(default_course_root())


def cmd_image(args: argparse.Namespace) -> int:
    import shlex
    import subprocess

    from autograder.sandbox.docker import DEFAULT_IMAGE, GPU_IMAGE, docker_available

    root = Path(__file__).resolve().parent.parent
    if not (root / "docker" / "Dockerfile").exists():
        raise UsageError(f"no docker/Dockerfile next to the package in {root} (build the image from a "
                         "source checkout of the engine)")
    extra = " ".join(_course_packages())
    if args.offline:
        if args.gpu:
            raise UsageError("--offline builds the CPU image only")
        cmd, env = ["bash", str(root / "docker" / "build-offline.sh"), DEFAULT_IMAGE], {"EXTRA_PACKAGES": extra}
    else:
        cmd, env = ["docker", "build", "-f", "docker/Dockerfile", "-t", GPU_IMAGE if args.gpu else DEFAULT_IMAGE], {}
        if args.gpu:
            cmd += ["--build-arg", "TF_DIST=tensorflow[and-cuda]"]  # at the version of the one pin
        cmd += ["--build-arg", f"EXTRA_PACKAGES={extra}", "."]
    if args.dry_run:
        print(" ".join([f"{k}={shlex.quote(v)}" for k, v in env.items()] + [shlex.quote(c) for c in cmd]))
        return 0
    if not docker_available():
        raise UsageError("no Docker engine is reachable (start dockerd first)")
    return subprocess.run(cmd, cwd=root, env={**os.environ, **env}).returncode


def cmd_packages(args: argparse.Namespace) -> int:
    import shlex
    import subprocess

    packages = _course_packages()
    if not args.install:
        print("\n".join(packages) if packages else "this course adds no sandbox packages (course.toml)")
        return 0
    if not packages:
        print("nothing to install: course.toml lists no [sandbox] packages")
        return 0
    cmd = [sys.executable, "-m", "pip", "install", *packages]
    if args.dry_run:
        print(" ".join(shlex.quote(c) for c in cmd))
        return 0
    return subprocess.run(cmd).returncode


def cmd_new(args: argparse.Namespace) -> int:
    from autograder.assignments.course import new_course_root
    from autograder.assignments.scaffold import scaffold

    root = new_course_root()
    for path in scaffold(root, args.name, args.from_notebook):
        print(f"wrote {path}")
    print(f"next: write the solution and the checks, then `autograder validate {args.name}` and "
          f"`autograder release {args.name}`")
    return 0


def cmd_gradescope(args: argparse.Namespace) -> int:
    from autograder.lms.gradescope import build

    if args.out.suffix != ".zip":
        raise UsageError(f"--out {args.out}: Gradescope takes a .zip")
    if args.wheelhouse and not args.offline:
        raise UsageError("--wheelhouse goes with --offline")
    build(find_assignment(args.assignment), args.out, make_sandbox("local", trusted=True), offline=args.offline,
          hidden_visibility=args.hidden_visibility, wheelhouse=args.wheelhouse)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from autograder.assignments.validate import static_problems, validate

    assignment = find_assignment(args.assignment)
    if assignment.solution_dir is None:
        raise UsageError(f"validating '{assignment.name}' needs its solutions folder")
    if args.static:
        problems = static_problems(assignment)
    else:
        problems = validate(assignment, make_sandbox("local", trusted=True))
    for problem in problems:
        print(f"{assignment.name}: {problem}", file=sys.stderr)
    print(f"{assignment.name}: {len(problems)} problem(s)" if problems else f"{assignment.name}: ready to release "
          "and grade")
    return 1 if problems else 0


def cmd_similarity(args: argparse.Namespace) -> int:
    from autograder.integrity import similarity

    assignment = find_assignment(args.assignment)
    threshold = similarity.THRESHOLD if args.threshold is None else args.threshold
    if not 0 < threshold <= 1:
        raise UsageError("--threshold is a share of the code: above 0, at most 1")
    out = args.out or Path("autograder-out") / "similarity" / assignment.name
    solution = assignment.solution_notebook if assignment.solution_dir is not None else None
    docs, pairs, skipped, written = similarity.run(assignment.name, assignment.student_notebook, solution,
                                                   args.submissions, args.against, out, args.layout, threshold)
    if not docs:
        raise UsageError("no notebook to compare in " + " ".join(args.submissions))
    for s in skipped:
        print(f"autograder: {s.path}: not compared: {s.why}", file=sys.stderr)
    above = [p for p in pairs if p.score >= threshold]
    for p in above:
        print(f"{p.score:.2f}  {p.a.label}  {p.b.label}  {' '.join(g for g, _ in p.exercises)}")
    print(f"{len(docs)} notebooks compared, {len(skipped)} not; {len(above)} pair(s) at or above {threshold:.2f}\n"
          f"report: {written['index']}\ncsv:    {written['csv']}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.workers is None:   # as grade's --jobs: the machine's cores (each worker holds TensorFlow: a cap)
        args.workers = min(_cores(), MAX_DEFAULT_WORKERS)
    if args.workers < 0:
        raise UsageError("--workers: 0 or more")
    return _service().serve(args)


def cmd_worker(args: argparse.Namespace) -> int:
    return _service().worker(args)


def cmd_lti(args: argparse.Namespace) -> int:
    _service()
    from autograder.service.lti_register import main as lti_main

    return lti_main(args.rest)


def _service():
    try:
        import django  # noqa: F401
        import django_tasks_db  # noqa: F401
    except ImportError:
        raise UsageError("the service needs the 'server' extra: pip install 'tf-autograder[server]'") from None
    from autograder.service import commands

    return commands


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["lti"]:   # its own parser (lti_register.main): `autograder lti --help` included
        try:
            return cmd_lti(argparse.Namespace(rest=argv[1:]))
        except UsageError as exc:
            print(f"autograder: error: {exc}", file=sys.stderr)
            return 2
    args = _parser().parse_args(argv)
    try:
        return {"grade": cmd_grade, "check": cmd_check, "release": cmd_release, "image": cmd_image,
                "history": cmd_history, "undo": cmd_undo, "extend": cmd_extend, "extensions": cmd_extensions,
                "report": cmd_report, "override": cmd_override, "new": cmd_new, "validate": cmd_validate,
                "packages": cmd_packages, "gradescope": cmd_gradescope, "similarity": cmd_similarity,
                "serve": cmd_serve, "worker": cmd_worker, "lti": cmd_lti}[args.command](args)
    except (UsageError, SandboxUnavailable, UidRangeError) as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
    except (SolutionFailsChecks, SandboxError, ReleaseError, CheckFileError) as exc:  # the course or the machine, not a submission
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("autograder: interrupted; results recorded so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
