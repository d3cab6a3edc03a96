"""Grading speed: this project's backends against `nbgrader autograde` and `otter run`, in one run.

    .venv/bin/python benchmarks/bench_grading.py [--n 20] [--scaling 10,50,200] [--no-docker] [--no-nbgrader]
                                                 [--no-otter] [--no-mix] [--n-deep 8] [--dask 50]

Builds a batch of N submissions of 02_linear_classifier (80% correct, 10% with a
known mistake, 10% crashing), then grades the same notebooks with:

* this project, local backend, warm (fork server) and cold (a fresh Python per run);
* this project, Docker backend (when an engine and the image are there);
* nbgrader autograde (the notebooks' own test cells, hidden tests restored by nbgrader);
* Otter-Grader 7.0.0, `otter run` once per submission, with tests generated from this
  project's checks, in its own pinned environment made on first use (benchmarks/otter_peer.py).

Then the peer mix (20 of 02 with two infinite loops) against nbgrader with its default
30 s cell limit, and 03_deep_network with 02 as the yardstick: the reference computation,
the median per-submission time, and `autograder check` against one TensorFlow import.
With ``--dask N``: N of 02 on a local Dask cluster of 1 and 2 worker processes
(``--dask-local``) beside the thread executor with 1 and 2 jobs, in the same run.

It prints wall time per submission (p50, p95), the overhead beyond the student's own
code (cells + probes as timed inside the sandbox), batch throughput, the peak memory of
every process involved, and the throughput ratios. Reference values are computed
before timing: they are cached once per assignment version (Otter's expected values
and autograder zip are made before its timing too).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import nbfactory  # noqa: E402
from tests.corpus import linear_classifier as corpus  # noqa: E402

A = "02_linear_classifier"
CRASH = "def accuracy(X, labels, W, b):\n    import os\n    os._exit(1)\n"


def build_batch(folder: Path, n: int) -> None:
    mistakes = list(corpus.MISTAKES.values())
    for i in range(n):
        name = f"student{i:03d}"
        if i % 10 == 3:
            exercise, source, _ = mistakes[i % len(mistakes)]
            nbfactory.make(folder / f"{name}.ipynb", A, answers={exercise: source})
        elif i % 10 == 7:
            nbfactory.make(folder / f"{name}.ipynb", A, answers={"accuracy": CRASH})
        else:
            nbfactory.make(folder / f"{name}.ipynb", A)


LOOP = ("def train_gradient_descent(X, labels, learning_rate, epochs):\n"
        "    W, b, costs = np.zeros(2), 0.0, []\n    while True:\n        W = W - 0.0\n")
RAISE = "def predict_proba(X, W, b):\n    raise ValueError('shapes (3,) and (2,) not aligned')\n"
D = "03_deep_network"


def build_mix(folder: Path) -> None:
    """The peer benchmark's mix: 20 submissions of 02, 10 correct, 5 with a known mistake,
    3 raising, 2 looping forever inside a training function."""
    mistakes = list(corpus.MISTAKES.values())
    for i in range(20):
        path = folder / f"mix{i:03d}.ipynb"
        if i in (4, 13):
            nbfactory.make(path, A, answers={"train_gradient_descent": LOOP})
        elif i in (2, 9, 17):
            nbfactory.make(path, A, answers={"predict_proba": RAISE})
        elif i in (1, 6, 11, 15, 19):
            exercise, source, _ = mistakes[(3 * i) % len(mistakes)]
            nbfactory.make(path, A, answers={exercise: source})
        else:
            nbfactory.make(path, A)


def timed(cmd: list[str], env: dict) -> float:
    started = time.monotonic()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - started


def deep_network_rows(work: Path, env: dict, jobs: int, n: int, yardstick: dict) -> None:
    """03_deep_network against 02 in the same run: the reference computation (fresh cache),
    the median per-submission time in a batch, and a student's self-check against one
    TensorFlow import."""
    cache = {**env, "AUTOGRADER_CACHE": str(work / "cache-03")}
    subs = work / "subs-03"
    for i in range(n):
        nbfactory.make(subs / f"deep{i:03d}.ipynb", D)
    one = work / "one-03"
    one.mkdir()
    shutil.copy(subs / "deep000.ipynb", one)
    # The first grade computes the reference (the rest of it: one submission's two runs).
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", D, str(one), "--json", "--force",
                           "--backend", "local", "--out", str(work / "out-03-one")], env=cache, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    first = time.monotonic() - started
    one_s = json.loads(proc.stdout.splitlines()[0])["duration_s"]
    r = grade_ours_on(D, subs, work / "out-03", "local", jobs, cache)
    print(row("ours: 03, local warm", jobs, r), flush=True)
    importing = min(timed([sys.executable, "-c", "import tensorflow"], env) for _ in range(2))
    checking = timed([sys.executable, "-m", "autograder.cli", "check", D, str(subs / "deep000.ipynb")], cache)
    p03, p02 = pct(r["durations"], 0.5), pct(yardstick["durations"], 0.5)
    reference = first - one_s
    print(f"03 reference computation (first grade {first:.1f} s less its submission's {one_s:.1f} s): "
          f"{reference:.1f} s")
    print(f"target: 03 reference <= 30 s: {reference:.1f} s, {'met' if reference <= 30 else 'NOT met'}")
    print(f"target: 03 median per submission <= 8 s and <= 5x 02's ({p02:.2f} s): {p03:.2f} s = {p03 / p02:.1f}x, "
          f"{'met' if p03 <= 8 and p03 <= 5 * p02 else 'NOT met'}")
    print(f"target: check 03 on the solution <= 2x one TensorFlow import ({importing:.1f} s): {checking:.1f} s = "
          f"{checking / importing:.2f}x, {'met' if checking <= 2 * importing else 'NOT met'}")


class PeakMemory(threading.Thread):
    """Samples the summed RSS of every process whose command line mentions a pattern."""

    def __init__(self, patterns: tuple[str, ...]):
        super().__init__(daemon=True)
        self.patterns = [p.encode() for p in patterns]
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self.stop.is_set():
            total = 0
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if any(p in cmd for p in self.patterns):
                        total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
                except (OSError, ValueError, IndexError):
                    continue
            self.peak = max(self.peak, total)
            self.stop.wait(0.2)


def measure(cmd: list[str], env: dict, cwd: Path, patterns: tuple[str, ...],
            allow_failure: bool = False) -> tuple[float, float, str]:
    sampler = PeakMemory(patterns)
    sampler.start()
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.monotonic() - started
    sampler.stop.set()
    sampler.join()
    if proc.returncode != 0 and not allow_failure:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall, sampler.peak / 2**20, proc.stdout


def grade_ours(subs: Path, out: Path, backend: str, jobs: int, env: dict) -> dict:
    return grade_ours_on(A, subs, out, backend, jobs, env)


def grade_ours_on(assignment: str, subs: Path, out: Path, backend: str, jobs: int, env: dict,
                  extra: tuple[str, ...] = ()) -> dict:
    cmd = [sys.executable, "-m", "autograder.cli", "grade", assignment, str(subs), "--json", "--force",
           "--jobs", str(jobs), "--backend", backend, "--out", str(out), *extra]
    wall, peak, stdout = measure(cmd, env, ROOT, ("autograder",))
    results = [json.loads(line) for line in stdout.splitlines()]
    durations = [r["duration_s"] for r in results if r["status"] == "graded"]
    overheads = [r["duration_s"] - r.get("student_code_s", 0.0) for r in results if r["status"] == "graded"]
    return {"wall": wall, "peak": peak, "n": len(results), "durations": durations, "overheads": overheads,
            "mean_score": statistics.mean(r["score"] for r in results)}


def grade_nbgrader(subs: Path, course: Path, env: dict, timeout: int = 300) -> dict:
    """``timeout``: nbgrader's per-cell limit (its default is 30 s)."""
    source = course / "source" / A
    source.mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / A / f"{A}.ipynb", source / f"{A}.ipynb")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'bench'\n"
        f"c.ExecutePreprocessor.timeout = {timeout}\n")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run(nbgrader + ["generate_assignment", A, "--force"], cwd=course, env=env, check=True,
                   capture_output=True)
    for nb in sorted(subs.glob("*.ipynb")):
        target = course / "submitted" / nb.stem / A
        target.mkdir(parents=True)
        shutil.copy(nb, target / f"{A}.ipynb")
    # nbgrader exits 1 when a submission kills its kernel; it still grades the others.
    wall, peak, _ = measure(nbgrader + ["autograde", A, "--create", "--force"], env, course,
                            ("nbgrader", "ipykernel"), allow_failure=True)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = []
        for student in gb.students:
            try:
                scores.append(gb.find_submission(A, student.id).score)
            except Exception:  # noqa: BLE001 - a submission nbgrader could not grade at all
                scores.append(0.0)
    return {"wall": wall, "peak": peak, "n": len(scores), "durations": [wall / max(len(scores), 1)],
            "overheads": [], "mean_score": statistics.mean(scores) if scores else 0.0}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def row(label: str, jobs: int, r: dict) -> str:
    return (f"{label:<22}{r['n']:>5}{jobs:>6}{r['wall']:>9.1f}{r['n'] / r['wall']:>9.2f}"
            f"{pct(r['durations'], 0.5):>8.2f}{pct(r['durations'], 0.95):>8.2f}"
            f"{pct(r['overheads'], 0.5):>10.2f}{r['peak']:>10.0f}{r['mean_score']:>8.2f}")


HEADER = (f"{'grader':<22}{'N':>5}{'jobs':>6}{'wall_s':>9}{'subs/s':>9}{'p50_s':>8}{'p95_s':>8}"
          f"{'ovh_p50':>10}{'peak_MB':>10}{'score':>8}")


def targets(rows: dict) -> None:
    """The issue's targets, as measured in this run."""
    for name, limit in (("local (warm)", 0.3), ("docker (warm)", 1.0)):
        if name in rows:
            got = pct(rows[name]["overheads"], 0.5)
            print(f"target: median overhead {name} <= {limit:g} s: {got:.2f} s, {'met' if got <= limit else 'NOT met'}")
    if "nbgrader" in rows and "local (warm)" in rows:
        ratio = (rows["local (warm)"]["n"] / rows["local (warm)"]["wall"]) / (rows["nbgrader"]["n"] / rows["nbgrader"]["wall"])
        print(f"target: throughput local (warm) >= 10x nbgrader autograde: {ratio:.1f}x, {'met' if ratio >= 10 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="submissions in the comparison batch")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scaling", default="", help="comma-separated N values for the scaling table")
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--no-nbgrader", action="store_true")
    parser.add_argument("--no-cold", action="store_true")
    parser.add_argument("--no-otter", action="store_true")
    parser.add_argument("--no-mix", action="store_true", help="skip the mix with two infinite loops")
    parser.add_argument("--n-deep", type=int, default=8, help="submissions of 03_deep_network (0: skip)")
    parser.add_argument("--dask", type=int, default=0, metavar="N",
                        help="N of 02 on a local Dask cluster of 1 and 2 workers, beside threads (0: skip)")
    parser.add_argument("--serial-max", type=int, default=10**9,
                        help="in the scaling table, skip --jobs 1 above this N (it only takes time)")
    args = parser.parse_args()

    from autograder.sandbox import docker

    work = Path(tempfile.mkdtemp(prefix="autograder-bench-"))
    # TF_CPP_MIN_LOG_LEVEL=2, as in our sandboxes: without it TensorFlow writes an INFO line to
    # stderr inside a graded cell, which nbgrader scores as a failed cell (a peer must not lose
    # points to a log line).
    env = {**os.environ, "AUTOGRADER_CACHE": str(work / "cache"), "PYTHONWARNINGS": "ignore",
           "TF_CPP_MIN_LOG_LEVEL": "2",
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}  # nbgrader runs `alembic`
    subs = work / "subs"
    build_batch(subs, args.n)
    # Reference values once per assignment version (cached), outside the timings.
    warmup = work / "warmup"
    warmup.mkdir()
    shutil.copy(subs / "student000.ipynb", warmup)
    grade_ours(warmup, work / "out-warmup", "local", 1, env)

    print(f"machine: {os.cpu_count()} cores; batch of {args.n} submissions of {A} "
          f"(80% correct, 10% a known mistake, 10% crashing)")
    print(HEADER)
    rows = {}
    rows["local (warm)"] = grade_ours(subs, work / "out-warm", "local", args.jobs, env)
    print(row("ours: local, warm", args.jobs, rows["local (warm)"]), flush=True)
    if not args.no_cold:
        rows["local (cold)"] = grade_ours(subs, work / "out-cold", "local", args.jobs,
                                          {**env, "AUTOGRADER_WARM": "0"})
        print(row("ours: local, cold", args.jobs, rows["local (cold)"]), flush=True)
    if not args.no_docker and docker.docker_available() and docker.image_exists(docker.DEFAULT_IMAGE):
        rows["docker (warm)"] = grade_ours(subs, work / "out-docker", "docker", args.jobs, env)
        print(row("ours: docker, warm", args.jobs, rows["docker (warm)"]), flush=True)
        if not args.no_cold:
            rows["docker (cold)"] = grade_ours(subs, work / "out-docker-cold", "docker", args.jobs,
                                               {**env, "AUTOGRADER_WARM": "0"})
            print(row("ours: docker, cold", args.jobs, rows["docker (cold)"]), flush=True)
    if not args.no_nbgrader:
        rows["nbgrader"] = grade_nbgrader(subs, work / "course", env)
        print(row("nbgrader autograde", 1, rows["nbgrader"]), flush=True)
    if not args.no_otter:
        import otter_peer

        try:
            rows["otter"] = otter_peer.grade_otter(subs, work, env, PeakMemory)
            print(row("otter run (serial)", 1, rows["otter"]), flush=True)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"Otter-Grader: not run ({type(exc).__name__}: {str(exc).strip()[:300]})")
    if "nbgrader" in rows:
        base = rows["nbgrader"]["n"] / rows["nbgrader"]["wall"]
        for name, r in rows.items():
            if name != "nbgrader":
                print(f"throughput {name} / nbgrader autograde: {r['n'] / r['wall'] / base:.1f}x")
    if "otter" in rows:
        otter_peer.report(rows)
    targets(rows)

    if not args.no_mix:
        mix = work / "mix"
        build_mix(mix)
        print("\nthe peer mix: 20 of 02, 10 correct, 5 wrong, 3 raising, 2 looping forever")
        print(HEADER)
        ours = grade_ours(mix, work / "out-mix", "local", args.jobs, env)
        print(row("ours: local, warm", args.jobs, ours), flush=True)
        if not args.no_nbgrader:
            peer = grade_nbgrader(mix, work / "course-mix", env, timeout=30)
            print(row("nbgrader (30 s cells)", 1, peer), flush=True)
            ratio = (ours["n"] / ours["wall"]) / (peer["n"] / peer["wall"])
            print(f"target: mix throughput >= 10x nbgrader autograde: {ratio:.1f}x, "
                  f"{'met' if ratio >= 10 else 'NOT met'}")
    if args.n_deep:
        print(f"\n03_deep_network, {args.n_deep} solved submissions, 02 as the yardstick (row 'ours: local, warm')")
        print(HEADER)
        deep_network_rows(work, env, args.jobs, args.n_deep, rows["local (warm)"])

    if args.dask:
        batch = work / f"dask{args.dask}"
        build_batch(batch, args.dask)
        print(f"\nDask: {args.dask} of {A}, local backend (warm), threads against a LocalCluster of worker processes")
        print(HEADER)
        for jobs in (1, 2):
            r = grade_ours(batch, work / f"out-threads-{jobs}", "local", jobs, env)
            print(row("ours: threads", jobs, r), flush=True)
        for workers in (1, 2):
            r = grade_ours_on(A, batch, work / f"out-dask-{workers}", "local", 1, env,
                              ("--dask-local", str(workers)))
            print(row("ours: dask-local", workers, r), flush=True)

    if args.scaling:
        print("\nscaling, local backend (warm):")
        print(HEADER)
        for n in (int(x) for x in args.scaling.split(",")):
            batch = work / f"scale{n}"
            build_batch(batch, n)
            for jobs in (1, 2):
                if jobs == 1 and n > args.serial_max:
                    continue
                r = grade_ours(batch, work / f"out-scale{n}-{jobs}", "local", jobs, env)
                print(row("ours: local, warm", jobs, r), flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
