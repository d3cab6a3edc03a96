"""The submission service under a class's burst, against `autograder grade --jobs 2`, in one run.

    .venv/bin/python benchmarks/bench_service.py [--students 50] [--notebooks 100] [--window 20]
                                                 [--backend local] [--no-postgres] [--lone 3]

Builds N notebooks of 02_linear_classifier (mostly the solution, every fifth a known mistake of
the catalogue, one an infinite loop in a training function, one crashing its worker), each with
its own bytes, and:

1. grades one of them alone with ``autograder grade`` (this also fills the reference cache every
   later grading reads), then all N with ``autograder grade --jobs 2``;
2. starts the embedded default, ``autograder serve`` (SQLite, its default grading workers:
   one per core, at most four) on the bundled course, and S simulated students sign in through their one-time
   links (the roster import's), then post the N notebooks through the real pages (the CSRF token
   of the assignment page, a multipart upload), spread over ``--window`` seconds, each poller
   following its submission's state page until it is graded;
3. the same against PostgreSQL (a throwaway cluster, tests/service/postgres.py, when Debian's
   server is installed) with ``serve --workers 0`` and two ``autograder worker`` processes.

Before each burst the workers are warmed by one submission each (a service runs for the term;
its first job pays the TensorFlow import once). After each burst, ``--lone`` submissions are
posted one at a time: the latency of a lone submission.

It prints, per setup: upload-to-feedback latency p50/p95 (as the student's page sees it, polled
as the page's script does: after 0.5 s, then after each answer the seconds it names, 1 s while
running or next in the queue; and created-to-finished from the database), a job's time (claimed
to finished) beside a notebook's in ``grade``, throughput (notebooks graded per second, first
upload to last feedback) against ``grade --jobs 2``'s (N over its wall time, process start and
TensorFlow import included), the CPU the web server and the simulated students used, the lone latency against the lone ``grade``, and
"nothing lost": every accepted upload graded exactly once (one attempt, one finished job), and
each notebook's status, score and check outcomes equal to ``grade``'s.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import nbfactory  # noqa: E402
from tests.corpus import linear_classifier as corpus  # noqa: E402

A = "02_linear_classifier"
LOOP = ("def train_gradient_descent(X, labels, learning_rate, epochs):\n"
        "    W, b, costs = np.zeros(2), 0.0, []\n    while True:\n        W = W - 0.0\n")
CRASH = "def accuracy(X, labels, W, b):\n    import os\n    os._exit(1)\n"
FIRST_POLL_S, POLL_S = 0.5, 1.0   # as the submission page's script (service/static/service/app.js) polls,
                                  # then after each answer's data-poll-after


def build(folder: Path, n: int) -> dict[str, str]:
    """N notebooks ``n000.ipynb``...; returns what each is (solution, mistake:NAME, loop, crash)."""
    mistakes = list(corpus.MISTAKES.items())
    kinds = {}
    for i in range(n):
        name = f"n{i:03d}"

        def mark(nb, i=i):   # its own bytes: no two uploads of a student are the same file (never reused)
            nb.metadata["bench"] = i

        if i == n // 2:
            kinds[name] = "loop"
            nbfactory.make(folder / f"{name}.ipynb", A, answers={"train_gradient_descent": LOOP}, edit=mark)
        elif i == n // 2 + 1 and n > 3:
            kinds[name] = "crash"
            nbfactory.make(folder / f"{name}.ipynb", A, answers={"accuracy": CRASH}, edit=mark)
        elif i % 5 == 3:
            label, (exercise, source, _) = mistakes[i % len(mistakes)]
            kinds[name] = f"mistake:{label}"
            nbfactory.make(folder / f"{name}.ipynb", A, answers={exercise: source}, edit=mark)
        else:
            kinds[name] = "solution"
            nbfactory.make(folder / f"{name}.ipynb", A, edit=mark)
    return kinds


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def outcome(result: dict) -> tuple:
    return (result["status"], result.get("score"), tuple((c["id"], c["passed"]) for c in result.get("checks", [])))


# --- autograder grade ------------------------------------------------------------------------

def grade(folder: Path, out: Path, jobs: int, backend: str, env: dict) -> tuple[float, dict[str, dict]]:
    cmd = [sys.executable, "-m", "autograder", "grade", A, str(folder), "--json", "--force", "--jobs", str(jobs),
           "--backend", backend, "--layout", "files", "--out", str(out)]
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"grade failed ({done.returncode}):\n{done.stderr[-3000:]}")
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return wall, {r["student"]: r for r in results}


# --- the service, over HTTP ------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """``autograder serve`` in its own process group; its output kept."""

    def __init__(self, env: dict, port: int, workers: int | None, roster: Path, backend: str):
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder", "serve", "--port", str(port),
             *(["--workers", str(workers)] if workers is not None else []), "--backend", backend,
             "--course", str(ROOT), "--import-roster", str(roster), "--base-url", self.base],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith("serving on"):
                break
        if self.proc.poll() is not None:
            raise SystemExit("serve did not start:\n" + "".join(self.lines))
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + 60   # "serving on" is said just before the socket is bound
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/signin/", timeout=10).read()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit("serve does not answer:\n" + "".join(self.lines)) from None
                time.sleep(0.1)

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def links(self) -> dict[str, str]:
        return dict(re.findall(r"^\s+(\S+)\t\w+\t(\S+)$", "".join(self.lines), re.MULTILINE))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)   # serve stops its workers
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def _token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _multipart(token: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="notebook"; filename="{filename}"\r\n'
            f'Content-Type: application/x-ipynb+json\r\n\r\n').encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Student:
    """A browser's worth of state: its cookies (session, CSRF) after the one-time link."""

    def __init__(self, base: str, link: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(link, timeout=60).read().decode()
        self.opener.open(urllib.request.Request(link, data=f"csrfmiddlewaretoken={_token(page)}".encode()),
                         timeout=60)
        self.token = _token(self.opener.open(f"{base}/a/{A}/", timeout=60).read().decode())

    def submit(self, data: bytes) -> str:
        body, kind = _multipart(self.token, f"{A}.ipynb", data)
        answer = self.opener.open(urllib.request.Request(f"{self.base}/a/{A}/submit/", data=body,
                                                         headers={"Content-Type": kind}), timeout=120)
        page = answer.read().decode()
        if "Submission received" not in page:
            raise RuntimeError(f"upload not received: {page[:500]}")
        return re.search(r"/s/([0-9a-f-]{36})/", answer.geturl()).group(1)

    def wait(self, pk: str, timeout: float = 900) -> str:
        deadline = time.monotonic() + timeout
        time.sleep(FIRST_POLL_S)
        while time.monotonic() < deadline:
            page = self.opener.open(f"{self.base}/s/{pk}/state/", timeout=60).read().decode()
            state = re.search(r'data-state="(\w+)"', page).group(1)
            if state in ("graded", "failed"):
                return state
            after = re.search(r'data-poll-after="([\d.]+)"', page)   # the server's answer says when to ask again
            time.sleep(float(after.group(1)) if after else POLL_S)
        return "timeout"


def upload_and_wait(student: Student, data: bytes) -> tuple[str, float, float, str]:
    """(submission id, time posted, time its feedback showed, final state)."""
    posted = time.monotonic()
    pk = student.submit(data)
    state = student.wait(pk)
    return pk, posted, time.monotonic(), state


def burst(students: list[Student], notebooks: list[Path], window: float) -> tuple[dict, list[str]]:
    """Every notebook posted by its student (notebook j by student j mod S) at j * window / N
    seconds, each followed to its feedback in its own thread. Returns {notebook: (pk, posted, seen,
    state)} and the errors."""
    done, errors, lock = {}, [], threading.Lock()
    start = time.monotonic() + 0.5

    def one(j: int, path: Path) -> None:
        time.sleep(max(0.0, start + j * window / len(notebooks) - time.monotonic()))
        try:
            got = upload_and_wait(students[j % len(students)], path.read_bytes())
            with lock:
                done[path.stem] = got
        except Exception as exc:  # noqa: BLE001 - reported, and counted as lost
            with lock:
                errors.append(f"{path.stem}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=one, args=(j, p)) for j, p in enumerate(notebooks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done, errors


def rows_of(query) -> dict[str, dict]:
    """Submission id (hex) -> its row, and one SUCCESSFUL job count per submission."""
    subs = {str(pk).replace("-", ""): {"state": state, "attempts": attempts,
                                       "result": json.loads(result) if isinstance(result, str) else result,
                                       "created": created, "started": started, "finished": finished, "jobs": 0}
            for pk, state, attempts, result, created, started, finished in
            query("SELECT id, state, attempts, result, created, started, finished FROM service_submission")}
    for (args,) in query("SELECT args_kwargs FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'"):
        args = json.loads(args) if isinstance(args, str) else args
        pk = args["args"][0].replace("-", "")
        if pk in subs:
            subs[pk]["jobs"] += 1
    return subs


def _seconds(value) -> float:
    from datetime import datetime

    return (value if isinstance(value, datetime) else datetime.fromisoformat(str(value))).timestamp()


def run_service(label: str, env: dict, args, notebooks: list[Path], batch: dict[str, dict], query,
                workers: int | None, extra_workers: int, work: Path) -> dict:
    """One setup: serve (+ workers; None: serve's default count), warm-up, the burst, the lone
    submissions, the checks."""
    from autograder.cli import MAX_DEFAULT_WORKERS, _cores

    count = min(_cores(), MAX_DEFAULT_WORKERS) if workers is None else workers   # serve's own default
    people = [f"student{i:03d}" for i in range(args.students)] + [f"warm{i}" for i in range(max(1, count,
                                                                                               extra_workers))]
    roster = work / f"roster-{label}.csv"
    roster.write_text("id,role\n" + "".join(f"{p},student\n" for p in people))
    serve = Serve(env, free_port(), workers, roster, args.backend)
    procs = [subprocess.Popen([sys.executable, "-m", "autograder", "worker", "--backend", args.backend, "--course",
                               str(ROOT)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) for _ in range(extra_workers)]
    try:
        links = serve.links()
        started = time.monotonic()
        students = [Student(serve.base, links[p]) for p in people if p.startswith("student")]
        warm = [Student(serve.base, links[p]) for p in people if p.startswith("warm")]
        signin_s = time.monotonic() - started
        warmups = []
        for i in range(len(warm)):   # one each, at once: each worker takes one and imports TensorFlow
            warmups.append(work / f"warm-{label}-{i}.ipynb")
            warmups[-1].write_bytes(variant(notebooks[0], "warm", i))
        warmed, _ = burst(warm, warmups, 0.0)
        warm_s = max((seen - posted for _, posted, seen, _ in warmed.values()), default=float("nan"))
        cpu = (_cpu_s(serve.proc.pid), time.process_time(), time.monotonic())
        done, errors = burst(students, notebooks, args.window)
        cpu = (_cpu_s(serve.proc.pid) - cpu[0], time.process_time() - cpu[1], time.monotonic() - cpu[2])
        lone = []
        for i in range(args.lone):
            _, posted, seen, _ = upload_and_wait(students[i % len(students)], variant(notebooks[0], "lone", i))
            lone.append(seen - posted)
    finally:
        serve.stop()
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
    rows = rows_of(query)
    graded = [d for d in done.values() if d[3] == "graded"]
    latencies = [seen - posted for _, posted, seen, _ in done.values()]
    server = [_seconds(rows[pk.replace("-", "")]["finished"]) - _seconds(rows[pk.replace("-", "")]["created"])
              for pk, *_ in done.values() if rows.get(pk.replace("-", ""), {}).get("finished")]
    jobs = [_seconds(rows[pk.replace("-", "")]["finished"]) - _seconds(rows[pk.replace("-", "")]["started"])
            for pk, *_ in done.values() if rows.get(pk.replace("-", ""), {}).get("started")
            and rows[pk.replace("-", "")].get("finished")]
    span = (max(d[2] for d in done.values()) - min(d[1] for d in done.values())) if done else float("nan")
    accepted = {pk.replace("-", ""): name for name, (pk, *_rest) in done.items()}
    once = [pk for pk in accepted if (rows.get(pk, {}).get("attempts"), rows.get(pk, {}).get("jobs")) == (1, 1)]
    same = [name for pk, name in accepted.items()
            if rows.get(pk, {}).get("result") and outcome(rows[pk]["result"]) == outcome(batch[name])]
    differ = sorted(set(accepted.values()) - set(same))
    return {"label": label, "n": len(notebooks), "accepted": len(accepted), "graded": len(graded),
            "errors": errors, "once": len(once), "same": len(same), "differ": differ, "p50": pct(latencies, 0.5),
            "p95": pct(latencies, 0.95), "server_p50": pct(server, 0.5), "server_p95": pct(server, 0.95), "job_p50": pct(jobs, 0.5),
            "span": span, "throughput": len(graded) / span if span else float("nan"), "lone": lone,
            "signin_s": signin_s, "warm_s": warm_s, "workers": count + extra_workers,
            "stored": len(rows), "server_errors": _server_errors(serve.lines), "cpu": cpu}


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process itself has used: its threads, not its children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_errors(lines: list[str]) -> list[str]:
    """The distinct exceptions the web server logged (the last line of each traceback), most frequent first."""
    found: dict[str, int] = {}
    for line in lines:
        if re.match(r"^[\w.]+(Error|Exception|Warning)\b", line):
            found[line.strip()[:300]] = found.get(line.strip()[:300], 0) + 1
    return [f"{count}x {text}" for text, count in sorted(found.items(), key=lambda kv: -kv[1])]


def variant(source: Path, key: str, i: int) -> bytes:
    """The notebook with a mark in its metadata: the same answers, other bytes (never a reused result)."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    nb["metadata"]["bench"] = f"{key}-{i}"
    return json.dumps(nb, indent=1).encode()


def sqlite_query(path: Path):
    def query(sql: str) -> list[tuple]:
        with sqlite3.connect(path) as db:
            return db.execute(sql).fetchall()
    return query


def postgres_query(url: str):
    def query(sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(url) as db:
            return db.execute(sql).fetchall()
    return query


def report(row: dict, batch_wall: float, n: int, lone_grade: tuple[float, float]) -> None:
    ours = n / batch_wall
    print(f"\n{row['label']} ({row['workers']} grading worker{'s' if row['workers'] != 1 else ''})")
    print(f"  {row['students']} students signed in through their one-time links in {row['signin_s']:.1f} s; "
          f"workers warmed (first job, TensorFlow import) in {row['warm_s']:.1f} s")
    print(f"  upload-to-feedback, as the page sees it: p50 {row['p50']:.2f} s, p95 {row['p95']:.2f} s; "
          f"created-to-finished in the database: p50 {row['server_p50']:.2f} s, p95 {row['server_p95']:.2f} s; "
          f"a job (claimed to finished) p50 {row['job_p50']:.2f} s, a notebook in grade --jobs 2 p50 "
          f"{lone_grade[2]:.2f} s")
    print(f"  throughput: {row['graded']} graded in {row['span']:.1f} s = {row['throughput']:.2f}/s; "
          f"grade --jobs 2: {ours:.2f}/s ({row['throughput'] / ours:.0%} of it)")
    web, client, span = row["cpu"]
    print(f"  CPU during the burst ({span:.0f} s x {_cores_here()} cores = {span * _cores_here():.0f} CPU s): the web "
          f"server {web:.1f} s, the {row['students']} simulated students (this process) {client:.1f} s, the "
          f"rest to the grading workers and the system")
    if row["lone"]:
        print(f"  a lone submission: p50 {statistics.median(row['lone']):.2f} s upload-to-feedback "
              f"({', '.join(f'{x:.2f}' for x in row['lone'])}); `autograder grade` on one notebook: "
              f"{lone_grade[0]:.2f} s wall, {lone_grade[1]:.2f} s of grading (its duration_s, the sandbox's "
              f"TensorFlow import included): {statistics.median(row['lone']) / lone_grade[0]:.2f}x its wall; "
              f"{statistics.median(row['lone']) / lone_grade[2]:.2f}x a notebook's p50 duration_s in grade --jobs 2 "
              f"({lone_grade[2]:.2f} s)")
    lost = row["n"] - row["accepted"]
    print(f"  nothing lost: {row['accepted']}/{row['n']} uploads accepted ({row['stored']} stored with the "
          f"warm-up and lone ones), "
          f"{row['once']}/{row['accepted']} graded exactly once (one attempt, one finished job), "
          f"{row['same']}/{row['accepted']} with grade's status, score and checks"
          + (" -- OK" if not lost and row["once"] == row["same"] == row["accepted"] else " -- NOT OK"))
    for e in row["errors"][:5]:
        print(f"    error: {e}")
    for e in row["server_errors"][:5]:
        print(f"    the web server logged: {e}")
    if row["differ"]:
        print(f"    differ from grade: {', '.join(row['differ'][:10])}")


def _cores_here() -> int:
    return len(os.sched_getaffinity(0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--notebooks", type=int, default=100)
    parser.add_argument("--window", type=float, default=None,
                        help="seconds over which the notebooks are posted (default: 0.2 s per notebook, 20 s "
                             "for 100: within the minute, and faster than grade --jobs 2 grades them, so the "
                             "queue backs up and the throughput is the service's, not the students' pace)")
    parser.add_argument("--backend", default="local")
    parser.add_argument("--lone", type=int, default=3, help="lone submissions after each burst")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-embedded", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    if args.window is None:
        args.window = 0.2 * args.notebooks
    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(AUTOGRADER_CACHE=str(work / "cache"), AUTOGRADER_RATE_PER_HOUR="100000", PYTHONPATH=str(ROOT),
               AUTOGRADER_LOG="WARNING")
    try:
        folder = work / "notebooks"
        kinds = build(folder, args.notebooks)
        notebooks = sorted(folder.glob("*.ipynb"))
        mix = {}
        for k in kinds.values():
            mix[k.split(":")[0]] = mix.get(k.split(":")[0], 0) + 1
        print(f"{args.notebooks} notebooks of {A} ({', '.join(f'{v} {k}' for k, v in mix.items())}) from "
              f"{args.students} students over {args.window:.0f} s; backend {args.backend}; "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        lone_folder = work / "lone"
        lone_folder.mkdir()
        shutil.copy(notebooks[0], lone_folder / "lone.ipynb")
        grade(lone_folder, work / "out-warm", 1, args.backend, env)          # the reference cache filled
        lone_wall, lone_results = grade(lone_folder, work / "out-lone", 1, args.backend, env)
        lone_grade = (lone_wall, lone_results["lone"]["duration_s"])
        batch_wall, batch = grade(folder, work / "out-batch", 2, args.backend, env)
        lone_grade = (*lone_grade, pct([r["duration_s"] for r in batch.values()], 0.5))
        print(f"\nautograder grade --jobs 2: {len(batch)} notebooks in {batch_wall:.1f} s = "
              f"{len(batch) / batch_wall:.2f}/s (process start and TensorFlow import included); "
              f"per notebook p50 {pct([r['duration_s'] for r in batch.values()], 0.5):.2f} s; "
              f"a lone notebook: {lone_wall:.2f} s wall, {lone_grade[1]:.2f} s grading")
        rows = []
        if not args.no_embedded:
            home = work / "home-sqlite"
            e = {**env, "AUTOGRADER_SERVICE_HOME": str(home)}
            rows.append(run_service("embedded default: SQLite, `autograder serve`", e, args, notebooks, batch,
                                    sqlite_query(home / "service.sqlite3"), None, 0, work))
        if not args.no_postgres:
            from tests.service.postgres import Cluster, Missing

            try:
                cluster = Cluster().start()
            except Missing as exc:
                print(f"\nPostgreSQL: not run ({exc})")
                cluster = None
            if cluster is not None:
                try:
                    import psycopg

                    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
                        conn.execute("CREATE DATABASE autograder")
                    e = {**env, "AUTOGRADER_SERVICE_HOME": str(work / "home-pg"), "DATABASE_URL": cluster.url()}
                    rows.append(run_service("PostgreSQL, `serve --workers 0` + 2 `autograder worker`s", e, args,
                                            notebooks, batch, postgres_query(cluster.url()), 0, 2, work))
                finally:
                    cluster.stop()
        for row in rows:
            row["students"] = args.students
            report(row, batch_wall, len(batch), lone_grade)
    finally:
        if args.keep:
            print(f"\nwork folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
