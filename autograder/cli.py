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
from autograder.spec import Limits


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autograder", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade submissions (public and hidden checks)")
    g.add_argument("assignment", help="assignment name (e.g. 01_tf_basics) or its folder")
    g.add_argument("submissions", nargs="+", help=".ipynb files or folders searched for them")
    g.add_argument("--backend", choices=["auto", "local", "docker"], default="auto")
    g.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel submissions")
    g.add_argument("--out", type=Path, default=Path("autograder-out"), help="output folder")
    g.add_argument("--json", action="store_true", help="one JSON object per submission per line on stdout")
    g.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    _limit_args(g)

    c = sub.add_parser("check", help="a student's self-check: public checks only")
    c.add_argument("assignment")
    c.add_argument("notebook", type=Path)
    c.add_argument("--backend", choices=["auto", "local", "docker"], default="auto")
    _limit_args(c)

    r = sub.add_parser("release", help="instructors: regenerate the student notebook and public reference")
    r.add_argument("assignment")
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


def make_sandbox(backend: str):
    from autograder.sandbox.local import LocalSandbox

    if backend == "docker":
        raise UsageError("the docker backend is not available in this version yet; use --backend local")
    return LocalSandbox()  # "auto" without a Docker backend means local


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.batch import collect, human_line, json_line, run_batch
    from autograder.grading import Grader
    from autograder.record import ResultStore

    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    assignment = find_assignment(args.assignment)
    if assignment.solution_dir is None:
        raise UsageError(f"grading '{assignment.name}' needs its solutions folder")
    items = collect(args.submissions, assignment.name)
    if not items:
        raise UsageError("no .ipynb submissions found in " + " ".join(args.submissions))
    grader = Grader(assignment, make_sandbox(args.backend))
    grader.checkset.limits = _with_limits(grader.checkset.limits, args)

    def emit(result: dict) -> None:
        print(json_line(result) if args.json else human_line(result), flush=True)

    results = run_batch(grader, items, ResultStore(args.out), args.jobs, args.force, emit)
    if not args.json:
        graded = sum(r["status"] == "graded" for r in results)
        print(f"{graded} graded, {sum(r['status'] == 'invalid' for r in results)} invalid, "
              f"{sum(r['status'] == 'error' for r in results)} errors; results in {args.out}/results/"
              f"{assignment.name}/, feedback in {args.out}/feedback/{assignment.name}/", file=sys.stderr)
    return 1 if any(r["status"] == "error" for r in results) else 0


def cmd_check(args: argparse.Namespace) -> int:
    from autograder.feedback import check_report
    from autograder.grading import Grader

    assignment = find_assignment(args.assignment)
    if not args.notebook.is_file():
        raise UsageError(f"{args.notebook}: no such file")
    grader = Grader(assignment, make_sandbox(args.backend), hidden=False)
    grader.checkset.limits = _with_limits(grader.checkset.limits, args)
    if grader.solution is not None:  # the same public reference students get, not a recomputation
        grader._references = assignment.load_public_reference()
    result = grader.grade(args.notebook, "you")
    if result.json["status"] != "graded":
        print(f"Cannot check {args.notebook}: {result.json['message']}", file=sys.stderr)
        return 1 if result.json["status"] == "invalid" else 2
    print(check_report(assignment.name, str(args.notebook), result.checks), end="")
    return 0 if all(c.passed for c in result.checks) else 1


def cmd_release(args: argparse.Namespace) -> int:
    from autograder.release import release

    assignment = find_assignment(args.assignment)
    for path in release(assignment, make_sandbox("local")):
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"grade": cmd_grade, "check": cmd_check, "release": cmd_release}[args.command](args)
    except UsageError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autograder: interrupted; results recorded so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
