"""Command line: ``autograder grade`` and ``autograder check`` (and instructor tools).

Exit status: 0 every submission got a result, 1 the grader failed on some (or a
public check failed, for ``check``), 2 usage errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder.course import UsageError, find_assignment
from autograder.reference import SolutionFailsChecks
from autograder.sandbox.base import SandboxError, SandboxUnavailable
from autograder.sandbox.linux import UidRangeError
from autograder.sandbox.registry import BACKENDS, make_sandbox
from autograder.spec import Limits


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autograder", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade submissions (public and hidden checks)")
    g.add_argument("assignment", help="assignment name (e.g. 01_tf_basics) or its folder")
    g.add_argument("submissions", nargs="+", help=".ipynb files or folders searched for them")
    g.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="auto: docker when an engine and the image are there, else local")
    g.add_argument("--unconfined", action="store_true",
                   help="local backend: run without the kernel's confinement (trusted notebooks only)")
    g.add_argument("--gpu", choices=["auto", "on", "off"], default="auto",
                   help="docker backend: grade on an NVIDIA GPU (auto: when Docker has one)")
    g.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel submissions")
    g.add_argument("--out", type=Path, default=Path("autograder-out"), help="output folder")
    g.add_argument("--json", action="store_true", help="one JSON object per submission per line on stdout")
    g.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    g.add_argument("--gradebook", type=Path, help="SQLite gradebook (default: OUT/gradebook.sqlite)")
    _limit_args(g)

    c = sub.add_parser("check", help="a student's self-check: public checks only")
    c.add_argument("assignment")
    c.add_argument("notebook", type=Path)
    c.add_argument("--backend", choices=BACKENDS, default="auto")
    c.add_argument("--unconfined", action="store_true", help="local backend: without the kernel's confinement")
    c.add_argument("--gpu", choices=["auto", "on", "off"], default="off")
    _limit_args(c)

    r = sub.add_parser("release", help="instructors: regenerate the student notebook and public reference")
    r.add_argument("assignment")

    rep = sub.add_parser("report", help="HTML report with plots, and the exports (CSV, Gradescope JSON)")
    rep.add_argument("assignment")
    rep.add_argument("--out", type=Path, default=Path("autograder-out"))
    rep.add_argument("--gradebook", type=Path)

    o = sub.add_parser("override", help="set (or --clear) a manual score; regrading never erases it")
    o.add_argument("assignment")
    o.add_argument("student")
    o.add_argument("score", type=float, nargs="?")
    o.add_argument("--reason", default="")
    o.add_argument("--clear", action="store_true")
    o.add_argument("--out", type=Path, default=Path("autograder-out"))
    o.add_argument("--gradebook", type=Path)

    i = sub.add_parser("image", help="build the Docker sandbox image")
    i.add_argument("action", choices=["build"])
    i.add_argument("--gpu", action="store_true", help="the CUDA build of TensorFlow")
    i.add_argument("--offline", action="store_true",
                   help="no registry: debootstrap base + wheels downloaded on this host (CPU image)")
    return p


def _limit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--check-timeout", type=float, help="seconds per check (default: the assignment's)")
    p.add_argument("--cell-timeout", type=float, help="seconds per notebook cell")
    p.add_argument("--memory-mb", type=int, help="memory limit of a sandbox")


def _with_limits(limits: Limits, args: argparse.Namespace) -> Limits:
    from dataclasses import replace

    changes = {}
    if args.check_timeout:
        changes["check_timeout_s"] = args.check_timeout
    if args.cell_timeout:
        changes["cell_timeout_s"] = args.cell_timeout
    if args.memory_mb:
        changes["memory_mb"] = args.memory_mb
    return replace(limits, **changes)


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.batch import collect, human_line, json_line, run_batch
    from autograder.grading import Grader
    from autograder.record import ResultStore

    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    assignment = find_assignment(args.assignment)
    if assignment.solution_dir is None:
        raise UsageError(f"grading '{assignment.name}' needs its solutions folder")
    items, ignored = collect(args.submissions, assignment.name)
    if not items:
        raise UsageError("no .ipynb submissions found in " + " ".join(args.submissions))
    grader = Grader(assignment, make_sandbox(args.backend, args.gpu, args.unconfined))
    grader.checkset.limits = _with_limits(grader.checkset.limits, args)
    if not grader.sandbox.describe().get("confined", True):
        print("autograder: note: the local backend runs unconfined (--unconfined): every notebook has "
              "your rights; grade untrusted notebooks without this option", file=sys.stderr)

    def emit(result: dict) -> None:
        print(json_line(result) if args.json else human_line(result), flush=True)

    store = ResultStore(args.out, args.gradebook)
    results = run_batch(grader, items, store, args.jobs, args.force, emit)
    _finish(args.out, store, assignment.name, results, ignored)
    return 1 if any(r["status"] == "error" for r in results) else 0


def _finish(out: Path, store, assignment: str, results: list[dict], ignored: list[str]) -> None:
    """Exports and report from the gradebook, then the summary (on stderr)."""
    from autograder.batch import printable
    from autograder.exports import export_all, report, summary

    stored = store.gradebook.results(assignment)
    export_all(out, assignment, stored)
    page = report(out, assignment, stored)
    s = summary([{**r, "final_score": r.get("score", 0.0)} for r in results if r["status"] != "error"])
    errors = sum(r["status"] == "error" for r in results)
    print(f"{s['graded']} graded, {s['invalid']} invalid, {errors} errors, {s['timeouts']} with a timeout; "
          f"mean score {s['mean']:.2f}, median {s['median']:.2f} of {s['max_score']:g}", file=sys.stderr)
    for r in results:
        if r.get("not_graded"):
            print(f"  {printable(r['student'])}: {printable(r['message'])}", file=sys.stderr)
    for text in ignored:
        print(f"  ignored: {printable(text)}", file=sys.stderr)
    print(f"gradebook: {store.gradebook.path}\nfeedback:  {out / 'feedback' / assignment}/\n"
          f"exports:   {out / 'exports'}/\nreport:    {page}", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    from autograder.exports import export_all, report
    from autograder.gradebook import Gradebook

    path = args.gradebook or args.out / "gradebook.sqlite"
    if not path.exists():
        raise UsageError(f"{path}: no gradebook (grade a batch first)")
    assignment = find_assignment(args.assignment).name
    results = Gradebook(path).results(assignment)
    if not results:
        raise UsageError(f"no results for {assignment} in {path}")
    for written in export_all(args.out, assignment, results)[:2] + [report(args.out, assignment, results)]:
        print(f"wrote {written}")
    return 0


def cmd_override(args: argparse.Namespace) -> int:
    from autograder.gradebook import Gradebook

    path = args.gradebook or args.out / "gradebook.sqlite"
    if not path.exists():
        raise UsageError(f"{path}: no gradebook")
    book = Gradebook(path)
    if book.get(args.student, args.assignment) is None:
        raise UsageError(f"no result for {args.student} in {args.assignment}")
    if args.clear:
        book.clear_override(args.student, args.assignment)
    elif args.score is None or not args.reason:
        raise UsageError("give a score and --reason (or --clear)")
    else:
        book.set_override(args.student, args.assignment, args.score, args.reason)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from autograder.feedback import check_report
    from autograder.grading import Grader

    assignment = find_assignment(args.assignment)
    if not args.notebook.is_file():
        raise UsageError(f"{args.notebook}: no such file")
    # The same public reference students get, never a recomputation from the solution.
    grader = Grader(assignment, make_sandbox(args.backend, args.gpu, args.unconfined, trusted=True), hidden=False,
                    references=assignment.load_public_reference())
    grader.checkset.limits = _with_limits(grader.checkset.limits, args)
    result = grader.grade(args.notebook, "you")
    if result.json["status"] != "graded":
        print(f"Cannot check {args.notebook}: {result.json['message']}", file=sys.stderr)
        return 1 if result.json["status"] == "invalid" else 2
    print(check_report(assignment.name, str(args.notebook), result.checks), end="")
    return 0 if all(c.passed for c in result.checks) else 1


def cmd_release(args: argparse.Namespace) -> int:
    from autograder.release import release

    assignment = find_assignment(args.assignment)
    for path in release(assignment, make_sandbox("local", trusted=True)):
        print(f"wrote {path}")
    return 0


def cmd_image(args: argparse.Namespace) -> int:
    import subprocess

    from autograder.sandbox.docker import DEFAULT_IMAGE, GPU_IMAGE, docker_available

    root = Path(__file__).resolve().parent.parent
    if not (root / "docker" / "Dockerfile").exists():
        raise UsageError(f"no docker/Dockerfile next to the package in {root}")
    if not docker_available():
        raise UsageError("no Docker engine is reachable (start dockerd first)")
    if args.offline:
        if args.gpu:
            raise UsageError("--offline builds the CPU image only")
        return subprocess.run(["bash", str(root / "docker" / "build-offline.sh"), DEFAULT_IMAGE]).returncode
    cmd = ["docker", "build", "-f", "docker/Dockerfile", "-t", GPU_IMAGE if args.gpu else DEFAULT_IMAGE]
    if args.gpu:
        cmd += ["--build-arg", "TF_PACKAGE=tensorflow[and-cuda]==2.21.0"]
    return subprocess.run(cmd + ["."], cwd=root).returncode


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"grade": cmd_grade, "check": cmd_check, "release": cmd_release, "image": cmd_image,
                "report": cmd_report, "override": cmd_override}[args.command](args)
    except (UsageError, SandboxUnavailable, UidRangeError) as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
    except (SolutionFailsChecks, SandboxError) as exc:  # the course or the machine, not a submission
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("autograder: interrupted; results recorded so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
