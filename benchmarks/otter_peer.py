"""Otter-Grader as a peer in benchmarks/bench_grading.py: environment, autograder, timing.

Otter is not a dependency of this project. It lives in its own virtual environment,
``benchmarks/.venv-otter`` (gitignored), made on first use by :func:`ensure_otter_env`:

1. ``python -m venv benchmarks/.venv-otter`` with the project venv's base interpreter;
2. ``pip install -r benchmarks/otter-requirements.txt``: otter-grader[grading]==7.0.0 and
   its dependencies, all pinned;
3. a ``.pth`` file with one line, the project venv's site-packages, so the grading kernel
   (the peer venv's Python, which must import ``otter``) also finds TensorFlow and
   matplotlib without a second TensorFlow install (1.3 GB). A path from a ``.pth`` file comes
   after the venv's own site-packages, so Otter's pinned packages win where both have one.

Which Otter path is timed: ``otter grade`` (7.0.0) only grades in Docker containers: it
builds an image FROM ubuntu:22.04 and installs Miniforge and the requirements in it,
none of which can be fetched here (no image registry, no internet beyond the package
registries). Its documented non-container path is ``otter run``: it grades one
submission against an autograder zip, in a Jupyter kernel of the current environment,
without running the zip's setup. That is what a TA without Docker runs, once per
submission, so the Otter row is serial (one ``otter run`` after another).

The autograder zip is made with ``otter generate`` from OK-format test files written
here from this project's own checks (``assignments/A/checks.py`` and
``solutions/A/hidden_checks.py``): one test file per exercise, one test case per check,
the check's points on the case (26 points in all, as nbgrader's test cells and ours).
Each case calls the same probe function on the same inputs (the probes are copied from
the check files into a support module shipped in the zip) and compares with values
computed once from the solution notebook, with the check's tolerances, dtype and shape
rules (a standalone copy of ``Close``/``SameShape``/``Property``). Otter runs every code
cell of the submission first (errors are ignored, as ``otter run`` does by default), then
the tests against the notebook's global environment.

    .venv/bin/python benchmarks/otter_peer.py env           # only make the environment
    .venv/bin/python benchmarks/otter_peer.py tests DIR     # only write the test files
    .venv/bin/python benchmarks/otter_peer.py crosscheck    # Otter's points == ours, per exercise,
                                                            # on every corpus mistake and variation
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
A = "02_linear_classifier"
OTTER_VERSION = "7.0.0"
VENV = HERE / ".venv-otter"
LOCK = HERE / "otter-requirements.txt"
SUPPORT = "otter_lc_checks"  # the support module's name inside the autograder zip
TIMEOUT_S = 900  # per submission, as LIMITS.total_timeout_s in the assignment's checks.py


# ---------------------------------------------------------------- the environment


def _venv_bin(name: str) -> Path:
    return VENV / "bin" / name


def _lock_digest(project_site: str) -> str:
    return hashlib.sha256(LOCK.read_bytes() + project_site.encode()).hexdigest()[:16]


def ensure_otter_env(log=print) -> Path:
    """The peer venv's ``otter`` executable, making the venv first when it is missing or stale.

    Needs PyPI (or a pip cache) the first time: about 40 s and 570 MB (165 MB of it
    playwright, which otter's nbconvert[webpdf] requirement pulls in), no TensorFlow of its own.
    """
    project_site = sysconfig.get_paths()["purelib"]  # the project venv's, when run from it
    marker = VENV / ".otter-peer-ready"
    digest = _lock_digest(project_site)
    if marker.exists() and marker.read_text().strip() == digest and _venv_bin("otter").exists():
        return _venv_bin("otter")
    shutil.rmtree(VENV, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    log(f"making the Otter-Grader {OTTER_VERSION} environment in {VENV} (first use) ...")
    subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    pip = subprocess.run([str(_venv_bin("python")), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                          "-r", str(LOCK)], capture_output=True, text=True, check=False)
    if pip.returncode != 0:
        raise RuntimeError(f"pip could not install {LOCK.name} into {VENV}:\n{pip.stderr[-3000:]}")
    python = str(_venv_bin("python"))
    peer_site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip()
    # One path line: appended to sys.path after the venv's own site-packages (and .pth files
    # inside the project's site-packages, e.g. the editable install of this project, are not read).
    Path(peer_site, "_project_venv_tensorflow.pth").write_text(project_site + "\n")
    probe = "import otter, tensorflow, matplotlib, ipykernel; print(otter.__version__, tensorflow.__version__)"
    check = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False)
    if check.returncode != 0 or not check.stdout.startswith(OTTER_VERSION):
        raise RuntimeError(f"the Otter environment does not work:\n{check.stdout}{check.stderr[-2000:]}")
    marker.write_text(digest + "\n")
    return _venv_bin("otter")


def peer_env(base_env: dict) -> dict:
    """Environment for Otter's processes: the peer venv first on PATH, no Jupyter path overrides."""
    env = {k: v for k, v in base_env.items() if not k.startswith(("JUPYTER_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env["PATH"] = f"{VENV / 'bin'}:{base_env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    return env


# ---------------------------------------------------------------- the tests

# Standalone copies of the project's judging rules (autograder/checks/rules.py: Close, SameShape,
# Property, number) and of autograder.checks.probe_tools.unpack, so the Otter tests import nothing
# from this project. The probe functions (and the helpers they call) are appended below
# this text, copied verbatim from the check files.
SUPPORT_HEADER = '''\
"""Support module for the Otter tests of {assignment} (generated by benchmarks/otter_peer.py).

The probes are copied from the project's check files; the comparisons mirror its rules.
"""

import contextlib
import io
import types

import numpy as np


class WrongAnswerType(Exception):
    pass


def unpack(value, n, what):
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise WrongAnswerType(f"{{what}} should return a tuple of {{n}} values, got {{type(value).__name__}}")
    return tuple(value)


def plain(value):
    """A returned value as plain data: tensors and NumPy scalars become arrays."""
    if isinstance(value, dict):
        return {{k: plain(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, (np.ndarray, bool, int, float, str)) or value is None:
        return value
    if isinstance(value, np.generic):
        return np.asarray(value)
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return value


def numbers(value):
    if isinstance(value, (bool, int, float)):
        return np.array(float(value))
    if isinstance(value, np.ndarray):
        return None if value.dtype.kind == "c" else value.astype(np.float64)
    if isinstance(value, (list, tuple)):
        def walk(v):
            if isinstance(v, (list, tuple)):
                return all(walk(x) for x in v)
            if isinstance(v, (bool, int, float)):
                return True
            return isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "biuf"
        if not walk(value):
            return None
        try:
            return np.array(value, dtype=np.float64)
        except (ValueError, TypeError):
            return None
    return None


def number(value):
    arr = numbers(value)
    if arr is None or arr.size != 1:
        return None
    return float(arr.reshape(()))


def probe(student_globals, name, *args):
    """Run one probe on the student's functions (their prints swallowed); plain values back."""
    student = types.SimpleNamespace(**student_globals)
    with contextlib.redirect_stdout(io.StringIO()):
        return plain(globals()[name](student, *args))


def close(actual, key, expected, rtol, atol, dtype=None, scalar=False):
    """True, or why not: |actual - expected| <= atol + rtol*|expected|, shapes exactly equal."""
    raw = actual.get(key)
    exp = np.array(expected, dtype=np.float64)
    act = numbers(raw)
    if act is None:
        return f"{{key}}: expected numbers, got {{type(raw).__name__}}"
    if dtype is not None:
        got = raw.dtype.name if isinstance(raw, np.ndarray) else type(raw).__name__
        if got != dtype:
            return f"{{key}}: expected dtype {{dtype}}, got {{got}}"
    if scalar:
        if act.size != 1:
            return f"{{key}}: expected a single number"
        act = act.reshape(exp.shape)
    elif act.shape != exp.shape:
        return f"{{key}}: expected shape {{exp.shape}}, got {{act.shape}}"
    if np.any(np.isnan(act) != np.isnan(exp)):
        return f"{{key}}: NaN where a number is expected, or the other way round"
    exp_inf, act_inf = np.isinf(exp), np.isinf(act)
    if np.any(exp_inf != act_inf) or np.any(exp[exp_inf] != act[exp_inf]):
        return f"{{key}}: infinities do not match"
    finite = np.isfinite(exp)
    if np.all(np.abs(act[finite] - exp[finite]) <= atol + rtol * np.abs(exp[finite])):
        return True
    return f"{{key}}: values outside tolerance (rtol={{rtol}}, atol={{atol}})"


def same_shape(actual, key, shape):
    act = numbers(actual.get(key))
    if act is None:
        return f"{{key}}: expected numbers"
    return True if act.shape == tuple(shape) else f"{{key}}: expected shape {{tuple(shape)}}, got {{act.shape}}"


def holds(actual, prop):
    message = globals()[prop](actual, None)
    return True if message is None else message


# ---------------------------------------------------------------- copied from the check files
'''


def _load_checks():
    sys.path.insert(0, str(ROOT))
    from autograder.checks.loading import load_checkset, module_files

    files = module_files(A, ROOT / "assignments" / A / "checks.py", ROOT / "solutions" / A / "hidden_checks.py")
    return load_checkset(files).checks


def _solution_namespace() -> dict:
    """The solution's functions, defined from its answer cells (markers stripped)."""
    import tensorflow as tf

    sys.path.insert(0, str(ROOT))
    from tests import nbfactory

    ns = {"np": np, "tf": tf}
    for source in nbfactory.solution_answers(A).values():
        exec(compile(source, f"<solution {A}>", "exec"), ns)  # noqa: S102 - our own solution
    return ns


def _literal(value) -> str:
    """Python source for a float64 array's values (exact round trip)."""
    arr = np.asarray(value, dtype=np.float64)

    def one(x: float) -> str:
        if math.isnan(x):
            return "float('nan')"
        if math.isinf(x):
            return "float('inf')" if x > 0 else "float('-inf')"
        return repr(float(x))

    def walk(a):
        if a.ndim == 0:
            return one(float(a))
        return "[" + ", ".join(walk(x) for x in a) + "]"

    return walk(arr)


def _support_source(checks) -> str:
    from autograder.checks.rules import Property

    parts, seen = [SUPPORT_HEADER.format(assignment=A)], set()

    def add(fn):
        if fn.__name__ not in seen:
            seen.add(fn.__name__)
            parts.append(inspect.getsource(fn))

    for c in checks:
        mod = sys.modules[c.probe.__module__]
        for helper in ("data", "number_like", "_training"):
            if hasattr(mod, helper):
                add(getattr(mod, helper))
        add(c.probe)
        for rule in c.rules:
            if isinstance(rule, Property):
                add(rule.test)
    return "\n\n".join(parts)


def _ok_test_source(name: str, cases: list[dict]) -> str:
    """An OK-format test file, laid out as ``otter assign`` writes them."""
    out = [f"# Generated by benchmarks/otter_peer.py from the project's checks of {A}.",
           "OK_FORMAT = True", "", "test = {", f"    'name': {name!r},", "    'points': None,",
           "    'suites': [", "        {", "            'cases': ["]
    for case in cases:
        assert '"""' not in case["code"] and "\\" not in case["code"]
        out += ["                {",
                f"                    'name': {case['name']!r},",
                f"                    'code': r\"\"\"\n{case['code']}\"\"\",",
                f"                    'hidden': {case['hidden']!r},",
                f"                    'locked': {case['locked']!r},",
                f"                    'points': {case['points']!r},",
                "                },"]
    out += ["            ],", "            'scored': True,", "            'setup': '',", "            'teardown': '',",
            "            'type': 'doctest',", "        },", "    ],", "}", ""]
    return "\n".join(out)


def write_tests(folder: Path) -> dict:
    """Write ``tests/*.py`` (OK format) and the support module into ``folder``; returns a summary.

    Expected values come from running the support module's own probes (the exact code
    the Otter tests run) on the solution's functions, once.
    """
    from autograder.checks.rules import Close, Property, SameShape

    checks = _load_checks()
    folder.mkdir(parents=True, exist_ok=True)
    support = _support_source(checks)
    (folder / f"{SUPPORT}.py").write_text(support)
    support_ns: dict = {"__name__": SUPPORT}
    exec(compile(support, f"{SUPPORT}.py", "exec"), support_ns)  # noqa: S102 - generated above
    solution = _solution_namespace()

    tests = folder / "tests"
    shutil.rmtree(tests, ignore_errors=True)
    tests.mkdir()
    exercises: list[str] = []
    for c in checks:
        if c.exercise not in exercises:
            exercises.append(c.exercise)
    summary = {}
    for q, exercise in enumerate(exercises, 1):
        cases = []
        for c in (c for c in checks if c.exercise == exercise):
            expected = support_ns["probe"](solution, c.probe.__name__, *c.args)
            args = ", ".join(repr(a) for a in c.args)
            lines = [f">>> import {SUPPORT} as _lc",
                     f">>> _r = _lc.probe(globals(), {c.probe.__name__!r}{', ' if args else ''}{args})"]
            for rule in c.rules:
                if isinstance(rule, Close):
                    call = (f"_lc.close(_r, {rule.key!r}, {_literal(support_ns['numbers'](expected[rule.key]))}, "
                            f"rtol={rule.rtol!r}, atol={rule.atol!r}")
                    call += f", dtype={rule.dtype!r}" if rule.dtype else ""
                    call += ", scalar=True" if rule.scalar else ""
                    lines.append(f">>> {call})")
                elif isinstance(rule, SameShape):
                    shape = tuple(support_ns["numbers"](expected[rule.key]).shape)
                    lines.append(f">>> _lc.same_shape(_r, {rule.key!r}, {shape!r})")
                elif isinstance(rule, Property):
                    lines.append(f">>> _lc.holds(_r, {rule.test.__name__!r})")
                else:
                    raise TypeError(f"no Otter translation for rule {type(rule).__name__} of {c.id}")
                lines.append("True")
            # The solution itself must pass every generated case.
            for rule in c.rules:
                assert rule.judge(expected, expected, True) is None, (c.id, rule)
            cases.append({"name": c.id, "code": "\n".join(lines) + "\n", "hidden": c.hidden,
                          "points": float(c.points), "locked": False})
        (tests / f"q{q:02d}_{exercise}.py").write_text(_ok_test_source(exercise, cases))
        summary[exercise] = sum(case["points"] for case in cases)
    return summary


# ---------------------------------------------------------------- grading


def build_autograder(work: Path, env: dict) -> Path:
    """tests + support module (made by the project venv's Python) -> ``otter generate`` -> zip."""
    src = work / "otter-src"
    made = subprocess.run([sys.executable, str(Path(__file__).resolve()), "tests", str(src)], env=env,
                          capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise RuntimeError(f"writing the Otter tests failed ({made.returncode}):\n{made.stderr[-2000:]}")
    (src / "otter_config.json").write_text(json.dumps({"pdf": False, "print_summary": False}) + "\n")
    (src / "requirements.txt").write_text("")  # nothing to install: otter run does not run setup anyway
    zip_path = work / "otter-autograder.zip"
    proc = subprocess.run([str(_venv_bin("otter")), "generate", "-t", "tests", "-o", str(zip_path),
                           "-c", "otter_config.json", "-r", "requirements.txt", f"{SUPPORT}.py"],
                          cwd=src, env=peer_env(env), capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not zip_path.exists():
        raise RuntimeError(f"otter generate failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return zip_path


def otter_score(results_json: Path) -> float | None:
    """Total points of one ``otter run`` results.json (Gradescope format), None when absent."""
    try:
        data = json.loads(results_json.read_text())
    except (OSError, ValueError):
        return None
    if "score" in data:
        return float(data["score"])
    return float(sum(t.get("score") or 0.0 for t in data.get("tests", [])))


def grade_otter(subs: Path, work: Path, env: dict, sampler_cls) -> dict:
    """Serial ``otter run`` per submission: wall per run, batch wall, peak RSS, mean score.

    A submission whose ``otter run`` fails (no results.json: the kernel died) scores 0,
    like a submission nbgrader could not grade; ``failed`` counts them.
    """
    otter = ensure_otter_env()
    zip_path = build_autograder(work, env)
    penv = peer_env(env)
    notebooks = sorted(subs.glob("*.ipynb"))
    sampler = sampler_cls((str(VENV),))  # otter itself and its kernels run the peer venv's Python
    sampler.start()
    durations, scores, failed, errors = [], [], [], {}
    started = time.monotonic()
    for nb in notebooks:
        out = work / "otter-out" / nb.stem
        out.mkdir(parents=True)
        t0 = time.monotonic()
        try:  # otter run has no time limit of its own; ours is the check files' total_timeout_s
            proc = subprocess.run([str(otter), "run", "-a", str(zip_path), "-o", str(out), "--no-logo", str(nb)],
                                  cwd=out, env=penv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
            rc, output = proc.returncode, (proc.stderr or proc.stdout)
        except subprocess.TimeoutExpired:
            rc, output = None, f"killed by the benchmark after {TIMEOUT_S} s"
        durations.append(time.monotonic() - t0)
        score = otter_score(out / "results.json") if rc == 0 else None
        if score is None:
            failed.append(nb.stem)
            errors[nb.stem] = output.strip().splitlines()[-1:] or ["(no output)"]
            score = 0.0
        scores.append(score)
    wall = time.monotonic() - started
    sampler.stop.set()
    sampler.join()
    return {"wall": wall, "peak": sampler.peak / 2**20, "n": len(notebooks), "durations": durations,
            "overheads": [], "mean_score": sum(scores) / max(len(scores), 1), "failed": failed,
            "errors": errors, "scores": dict(zip((nb.stem for nb in notebooks), scores))}


def report(rows: dict) -> None:
    """The ratios against Otter, and what Otter did with the submissions it could not grade."""
    otter = rows["otter"]
    base = otter["n"] / otter["wall"]
    for name, r in rows.items():
        if name not in ("otter", "nbgrader"):
            print(f"throughput {name} / otter run: {r['n'] / r['wall'] / base:.1f}x")
    for stem in otter["failed"]:
        print(f"otter run gave no result for {stem} (scored 0): {' '.join(otter['errors'][stem])[:200]}")


def crosscheck(work: Path) -> bool:
    """Grade the test corpus (every known mistake, every valid variation, the solution) with
    this project and with Otter; True when both give the same points on every exercise."""
    import tempfile

    sys.path.insert(0, str(ROOT))
    from tests import nbfactory
    from tests.corpus import linear_classifier as corpus

    work = Path(tempfile.mkdtemp(prefix="otter-crosscheck-", dir=work))
    try:
        return _crosscheck(work, nbfactory, corpus)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _crosscheck(work: Path, nbfactory, corpus) -> bool:
    subs = work / "subs"
    nbfactory.make(subs / "solution.ipynb", A)
    for name, (exercise, source, _) in corpus.MISTAKES.items():
        nbfactory.make(subs / f"mistake_{name}.ipynb", A, answers={exercise: source})
    for name, answers in corpus.VARIATIONS.items():
        nbfactory.make(subs / f"valid_{name}.ipynb", A, answers=answers)
    env = {**os.environ, "AUTOGRADER_CACHE": str(work / "cache")}
    proc = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", A, str(subs), "--json", "--force",
                           "--backend", "local", "--out", str(work / "ours")], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    ours = {}
    for line in proc.stdout.splitlines():
        r = json.loads(line)
        per: dict = {}
        for c in r.get("checks", []):
            per[c["exercise"]] = per.get(c["exercise"], 0.0) + c["points"]
        ours[r["student"]] = per
    otter = ensure_otter_env()
    zip_path = build_autograder(work, env)
    same = True
    for nb in sorted(subs.glob("*.ipynb")):
        out = work / "otter-out" / nb.stem
        out.mkdir(parents=True)
        subprocess.run([str(otter), "run", "-a", str(zip_path), "-o", str(out), "--no-logo", str(nb)],
                       cwd=out, env=peer_env(env), capture_output=True, check=False)
        try:
            tests = json.loads((out / "results.json").read_text())["tests"]
            theirs = {t["name"]: float(t["score"]) for t in tests if t.get("max_score")}
        except (OSError, ValueError, KeyError):
            theirs = {}
        diff = {e: (ours[nb.stem].get(e), theirs.get(e)) for e in set(ours[nb.stem]) | set(theirs)
                if ours[nb.stem].get(e) != theirs.get(e)}
        same &= not diff
        print(f"{nb.stem:<36} ours {sum(ours[nb.stem].values()):>5.1f}  otter {sum(theirs.values()):>5.1f}  "
              + ("same points on every exercise" if not diff else f"DIFFERENT (ours, otter): {diff}"), flush=True)
    return same


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "tests":
        summary = write_tests(Path(sys.argv[2]))
        print(json.dumps(summary))
    elif len(sys.argv) == 2 and sys.argv[1] == "env":
        print(ensure_otter_env())
    elif len(sys.argv) == 2 and sys.argv[1] == "crosscheck":
        import tempfile

        raise SystemExit(0 if crosscheck(Path(tempfile.gettempdir())) else 1)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
