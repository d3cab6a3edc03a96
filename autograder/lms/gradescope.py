"""Gradescope: an autograder bundle of one assignment, and what runs inside Gradescope.

``autograder gradescope ASSIGNMENT --out FILE.zip`` writes the zip Gradescope takes.
Gradescope unpacks it into ``/autograder/source``, runs ``setup.sh`` once when it builds
its image, then for every submission runs ``run_autograder`` in a fresh container
and reads ``/autograder/results/results.json``. The zip holds::

    setup.sh            Python 3.11 and the pinned packages (from wheels/ when --offline)
    run_autograder      python -m autograder.lms.gradescope run
    requirements.txt    the engine's pinned dependencies and TensorFlow
    wheels/             (--offline) every wheel setup.sh installs, for Python 3.11 on x86_64 Linux
    engine/autograder/  this grader, as it is here
    course/             the assignment: its release folder and its solutions folder
    reference.json      the solution's observations (public, hidden, known mistakes), computed
                        once here, so no submission runs the solution
    autograder.json     the assignment's name, its version and how hidden checks are shown

Inside Gradescope's container there is no Docker: the local backend grades, with the
kernel's confinement (its own uid, Landlock, seccomp, and namespaces where allowed), and
``results.json`` says which applied. A failure of the grader or the machine writes no
results.json (Gradescope then shows a failed run that staff can rerun): it is never a 0. Everything instructor-only stays readable by root
only: a run's uid cannot read the solutions, the hidden checks or the reference.
A submission with no notebook, a file that is not one, or several notebooks gets a
results.json that says so, never a failed autograder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

from autograder import __version__
from autograder.assignments.course import Assignment, find_assignment
from autograder.errors import SandboxUnavailable, UsageError
from autograder.files import write_text
from autograder.result import Result, Status

VISIBILITIES = ("after_published", "after_due_date", "hidden", "visible")
PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Gradescope's images are x86_64 Ubuntu (glibc 2.35); the offline base image is Debian 12.
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "any"]

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image: Python 3.11 and the
# grader's pinned packages in /autograder/venv (from wheels/ when the bundle has them).
set -euo pipefail
cd "$(dirname "$0")"
python=""
usable() {  # Python 3.11 that can make a venv with pip (Debian's venv needs ensurepip too)
    command -v "$1" >/dev/null && "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null
}
for candidate in python3.11 python3; do
    if usable "$candidate"; then python="$(command -v "$candidate")"; break; fi
done
if [ -z "$python" ]; then
    # Python itself comes from the image's package manager (Gradescope builds images online);
    # with --offline only the Python packages come from wheels/.
    command -v apt-get >/dev/null || { echo "setup.sh: no Python 3.11 and no apt-get: use an image with Python 3.11" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    if ! apt-get install -y -qq python3.11 python3.11-venv >/dev/null 2>&1; then
        apt-get install -y -qq software-properties-common >/dev/null   # Ubuntu: Python 3.11 from deadsnakes
        add-apt-repository -y ppa:deadsnakes/ppa >/dev/null
        apt-get update -qq
        apt-get install -y -qq python3.11 python3.11-venv >/dev/null
    fi
    python="$(command -v python3.11)"
    usable "$python" || { echo "setup.sh: python3.11 was installed but cannot make a venv" >&2; exit 1; }
fi
"$python" -m venv /autograder/venv
if [ -d wheels ]; then
    /autograder/venv/bin/pip install --quiet --no-index --find-links wheels -r requirements.txt
else
    /autograder/venv/bin/pip install --quiet -r requirements.txt
fi
# Instructor-only files: root's alone, so no run (under a uid of its own) can read them.
chmod -R go-rwx /autograder/source
chmod 0755 /autograder/source /autograder/source/engine
chmod -R go+rX /autograder/source/engine
echo "setup.sh: ready ($("$python" --version), $(/autograder/venv/bin/pip list 2>/dev/null | grep -ci tensorflow) TensorFlow package)"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, in a fresh container, from /autograder.
export PYTHONPATH=/autograder/source/engine
exec /autograder/venv/bin/python -m autograder.lms.gradescope run --source /autograder/source \\
    --submission /autograder/submission --results /autograder/results/results.json
"""


# ---------------------------------------------------------------------------------- the bundle
def requirements() -> list[str]:
    """The engine's own pinned dependencies and the TensorFlow pin, as this install has them."""
    pins = []
    for req in metadata.requires("tf-autograder") or []:
        spec, _, marker = req.partition(";")
        if not marker.strip() or marker.replace(" ", "") == 'extra=="cpu"':
            pins.append(spec.strip())
    return pins


def build(assignment: Assignment, out: Path, sandbox, *, offline: bool = False, hidden_visibility: str =
          "after_published", wheelhouse: Path | None = None, report=print) -> Path:
    """Write the bundle of ``assignment`` to ``out`` (a .zip); ``sandbox`` computes the reference."""
    from autograder.runs.reference import references
    from autograder.assignments.validate import static_problems

    if assignment.solution_dir is None:
        raise UsageError(f"a Gradescope bundle of '{assignment.name}' needs its solutions folder")
    if hidden_visibility not in VISIBILITIES:
        raise UsageError(f"--hidden-visibility must be one of {', '.join(VISIBILITIES)}")
    problems = static_problems(assignment)
    if problems:
        raise UsageError(f"{assignment.name} is not ready to grade:\n  " + "\n  ".join(problems))
    started = time.monotonic()
    refs = references(assignment, assignment.checkset(True), sandbox, True)
    pins = requirements() + _course_packages(assignment)
    with tempfile.TemporaryDirectory(prefix="autograder-gradescope-") as tmp:
        root = Path(tmp)
        write_text(root / "setup.sh", SETUP_SH, mode=0o755)
        write_text(root / "run_autograder", RUN_AUTOGRADER, mode=0o755)
        write_text(root / "requirements.txt", "\n".join(pins) + "\n")
        shutil.copytree(PACKAGE_DIR, root / "engine" / "autograder",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        # Everything of the two folders (a DATA file may start with a dot), but caches.
        skip = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", ".git")
        shutil.copytree(assignment.release_dir, root / "course" / "assignments" / assignment.name, ignore=skip)
        shutil.copytree(assignment.solution_dir, root / "course" / "solutions" / assignment.name, ignore=skip)
        write_text(root / "reference.json", json.dumps(refs))
        write_text(root / "autograder.json", json.dumps({
            "assignment": assignment.name, "version": assignment.version, "grader_version": __version__,
            "hidden_visibility": hidden_visibility}, indent=1))
        if offline:
            _download_wheels(pins, root / "wheels", wheelhouse, report)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(partial, "w") as zf:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix(),
                                                     strict_timestamps=False)  # e.g. a Nix store's 1970
                    # Wheels are zips already; everything else compresses.
                    info.compress_type = zipfile.ZIP_STORED if path.suffix == ".whl" else zipfile.ZIP_DEFLATED
                    with open(path, "rb") as fh:
                        zf.writestr(info, fh.read())
        os.replace(partial, out)
    report(f"wrote {out}: {out.stat().st_size / 2**20:.1f} MB in {time.monotonic() - started:.0f} s "
           f"({'offline: wheels included' if offline else 'setup.sh installs from PyPI'}; hidden checks "
           f"{hidden_visibility})")
    return out


def _course_packages(assignment: Assignment) -> list[str]:
    """The course's own sandbox packages (course.toml [sandbox] packages), which its notebooks import."""
    from autograder.assignments.course_toml import sandbox_packages

    return list(sandbox_packages(assignment.release_dir.parent.parent))


def _download_wheels(pins: list[str], dest: Path, wheelhouse: Path | None, report) -> None:
    """Every wheel the pins need, for CPython 3.11 on x86_64 Linux (Gradescope's machines)."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(dest), "--only-binary=:all:",
           "--python-version", "3.11", "--implementation", "cp"]
    for platform in PLATFORMS:
        cmd += ["--platform", platform]
    if wheelhouse is not None:  # wheels already here (e.g. docker/wheelhouse) are not fetched again
        cmd += ["--find-links", str(wheelhouse)]
    report(f"downloading the wheels of {len(pins)} pins (and what they need) into the bundle ...")
    proc = subprocess.run(cmd + ["pip"] + pins, capture_output=True, text=True)
    if proc.returncode != 0:
        raise UsageError(f"--offline: pip could not download the wheels: {proc.stderr.strip()[-800:]}")


# ---------------------------------------------------------------------------------- inside Gradescope
def results_json(result: Result, feedback: str, confinement: str, hidden_visibility: str,
                 execution_s: float, note: str = "") -> dict:
    """Gradescope's results.json for one graded submission: each check a test, the student's
    feedback (and ``note``, e.g. which of several notebooks was graded) as the output."""
    from autograder.outputs.tables import gradescope_results

    out = gradescope_results(result.to_json(), hidden_visibility)
    if hidden_visibility != "visible" and any(c.hidden for c in result.checks):
        # The total includes the hidden checks' points, and so tells their results: it shows
        # when they do. Public checks keep their own "visible" tests.
        out["visibility"] = hidden_visibility
    out["execution_time"] = max(1, int(round(execution_s)))
    out["output"] = (f"Note: {note}\n\n" if note else "") + f"{feedback.rstrip()}\n\n{confinement}\n"
    return out


def refused(message: str, confinement: str, execution_s: float) -> dict:
    """A submission that cannot be graded: score 0, the reason, no test."""
    return {"score": 0.0, "execution_time": max(1, int(round(execution_s))),
            "output": f"Your submission could not be graded: {message}\n\n{confinement}\n",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def choose(submission: Path, name: str) -> tuple[Path | None, str]:
    """The notebook to grade and a note, or None and why there is none."""
    from autograder.lms.intake import notebooks as find_notebooks

    notebooks = find_notebooks(submission)  # as a batch finds them: no checkpoints, no links followed
    if not notebooks:
        others = sorted(p.name for p in submission.rglob("*") if p.is_file())[:5]
        seen = f" (found: {', '.join(others)})" if others else ""
        return None, f"no Jupyter notebook (.ipynb) in your submission{seen}: upload {name}.ipynb"
    if len(notebooks) == 1:
        return notebooks[0], ""
    named = [p for p in notebooks if p.name == f"{name}.ipynb"]
    listed = ", ".join(str(p.relative_to(submission)) for p in notebooks[:6])
    if len(named) == 1:
        return named[0], f"{len(notebooks)} notebooks handed in ({listed}); graded {name}.ipynb"
    return None, f"{len(notebooks)} notebooks handed in ({listed}): upload only one, named {name}.ipynb"


def run(source: Path, submission: Path, results: Path) -> int:
    """Grade the one submission of a Gradescope run and write its results.json."""
    from autograder.runs.batch import grade_one
    from autograder.outputs.feedback import feedback_text
    from autograder.runs.grading import Grader
    from autograder.lms.intake import Item
    from autograder.sandbox.registry import make_sandbox

    started = time.monotonic()
    settings = json.loads((source / "autograder.json").read_text())
    assignment = find_assignment(settings["assignment"], source / "course")
    try:
        sandbox = make_sandbox("local")
    except SandboxUnavailable as exc:
        # The machine's fault, never a grade: no results.json, so Gradescope reports a failed
        # autograder run that staff can rerun elsewhere; the reason goes to its (staff-only) log.
        print(f"autograder: cannot grade here: the local sandbox cannot confine notebooks: {exc}")
        return 1
    sandbox.prepare()  # the warm worker starts now: its import overlaps with reading the submission
    confinement = describe_confinement(sandbox.describe())
    notebook, note = choose(submission, assignment.name)
    if notebook is None:
        write_text(results, json.dumps(refused(note, confinement, time.monotonic() - started), indent=1))
        return 0
    refs = json.loads((source / "reference.json").read_text())
    grader = Grader(assignment, sandbox, references=refs)
    try:
        graded = grade_one(grader, Item(notebook, _submitter(submission.parent), notes=[note] if note else [],
                                        shown=str(notebook.relative_to(submission))))
    finally:
        sandbox.close()
    result = graded.result
    if result.status is Status.ERROR:  # as in a batch: a grader failure is never a grade (see above)
        print(f"autograder: grading failed, not the student's fault: {result.message}\n{graded.log[-4000:]}")
        return 1
    if result.status is not Status.GRADED:
        payload = refused(result.message, confinement, time.monotonic() - started)
        status = 0
    else:
        visibility = settings.get("hidden_visibility", "after_published")
        payload = results_json(result, shown_feedback(result, visibility, feedback_text), confinement, visibility,
                               time.monotonic() - started, note)
        status = 0
    write_text(results, json.dumps(payload, indent=1))
    print(f"graded {notebook}: {result.status} {result.score:g}/{result.max_score:g} in "
          f"{time.monotonic() - started:.1f} s; {confinement}")
    if graded.log:
        print(graded.log[-4000:])  # run_autograder's stdout: the instructor's, hidden from students
    return status


def shown_feedback(result: Result, hidden_visibility: str, feedback_text) -> str:
    """The feedback text of the output, which students see at once: the public checks only,
    unless hidden checks are ``visible`` (their results wait for their own tests' visibility)."""
    data = result.to_json()
    if hidden_visibility == "visible" or not any(c["hidden"] for c in data["checks"]):
        return feedback_text(data)
    public = [c for c in data["checks"] if not c["hidden"]]
    hidden_points = sum(c["max_points"] for c in data["checks"] if c["hidden"])
    text = feedback_text({**data, "checks": public, "score": sum(c["points"] for c in public),
                          "max_score": sum(c["max_points"] for c in public)})
    text = text.replace("Score: ", "Public checks: ", 1)
    when = {"after_published": "once grades are published", "after_due_date": "after the due date",
            "hidden": "to the course staff only"}[hidden_visibility]
    return (f"{text.rstrip()}\n\nHidden checks ({hidden_points:g} points): their results, and your total score, "
            f"show {when}.\n")


def _submitter(autograder_dir: Path) -> str:
    """Who handed in, from Gradescope's submission_metadata.json (their names), else "you"."""
    try:
        users = json.loads((autograder_dir / "submission_metadata.json").read_text()).get("users") or []
        names = [str(u.get("name") or u.get("email") or "") for u in users if isinstance(u, dict)]
        return ", ".join(n for n in names if n)[:200] or "you"
    except (OSError, ValueError, AttributeError):
        return "you"


def describe_confinement(sandbox: dict) -> str:
    if not sandbox.get("confined"):
        return "Graded without confinement."
    parts = [f"Landlock ABI {sandbox['landlock_abi']}" if sandbox.get("landlock_abi") else "",
             "seccomp" if sandbox.get("seccomp") else "", "its own uid" if sandbox.get("own_uid") else "",
             f"namespaces: {', '.join(sandbox['namespaces'])}" if sandbox.get("namespaces") else "no namespaces"]
    return f"Graded in the {sandbox.get('backend', 'local')} sandbox: " + ", ".join(p for p in parts if p) + "."


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m autograder.lms.gradescope")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="inside Gradescope: grade /autograder/submission")
    r.add_argument("--source", type=Path, default=Path("/autograder/source"))
    r.add_argument("--submission", type=Path, default=Path("/autograder/submission"))
    r.add_argument("--results", type=Path, default=Path("/autograder/results/results.json"))
    args = p.parse_args(argv)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    return run(args.source, args.submission, args.results)


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
