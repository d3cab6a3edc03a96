"""``autograder serve`` and ``autograder worker``: the command line's entry points into the service
(imported only when one of them runs, so ``import autograder.cli`` stays light)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from autograder.errors import UsageError


def setup(course: Path | None = None, backend: str | None = None) -> None:
    """Django configured for this course folder (the environment says the rest; see settings)."""
    if course is not None:
        os.environ["AUTOGRADER_COURSE"] = str(course.resolve())
    else:
        from autograder.assignments.course import default_course_root

        os.environ.setdefault("AUTOGRADER_COURSE", str(default_course_root().resolve()))
    if backend:
        os.environ["AUTOGRADER_BACKEND"] = backend
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autograder.service.settings")
    import django

    django.setup()


def prepare_database(say=print) -> None:
    """Migrations applied and the course folder's assignments known."""
    from django.core.management import call_command

    from autograder.service import course

    call_command("migrate", interactive=False, verbosity=0)
    for name in course.sync():
        say(f"assignment added: {name}")


def import_roster(path: Path, base_url: str, assignment: str = "", say=print) -> None:
    """Accounts and one-time sign-in links from a roster file: the service's own CSV (id, name,
    email, role), or the LMS's file that ``grade --roster`` reads (a Canvas gradebook export: kept
    for each of the course's assignments that has its column, or for ``assignment`` only; a Moodle
    grading worksheet: for ``assignment``, which may be left out when the course has one)."""
    from autograder.lms.roster import parse_roster
    from autograder.service.accounts import import_roster as load, link_lines

    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the roster ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        parse_roster(text, str(path))
    except UsageError:   # not an LMS file: the service's own roster
        done, kind = load(text), "roster"
    else:
        done, kind = _import_lms_roster(data, path.name, assignment)
    say(f"{len(done)} accounts from {path} ({kind}; {sum(d.created for d in done)} new); one-time sign-in links:")
    for line in link_lines(done, base_url):
        say("  " + line)


def _import_lms_roster(data: bytes, filename: str, assignment: str):
    """The LMS file kept for the assignments it has a column for (service/lms.py does the work)."""
    from autograder.service import lms
    from autograder.service.models import Assignment

    known = list(Assignment.objects.order_by("name"))
    if assignment:
        known = [a for a in known if a.name == assignment]
        if not known:
            raise UsageError(f"--roster-assignment {assignment!r} is not an assignment of the course")
    roster = lms.read(data, filename)
    if roster.kind == "moodle-worksheet" and len(known) != 1:
        raise UsageError(f"{filename} is a Moodle grading worksheet, which belongs to one assignment: name it "
                         f"with --roster-assignment ({', '.join(a.name for a in known) or 'the course has none'})")
    targets = known
    if roster.kind == "canvas" and not assignment:   # the assignments this export has a column for
        targets = [a for a in known if roster.assignment_column(a.name) is not None]
    done, kept = [], []
    for a in targets:
        imported = lms.import_roster(a, data, filename, links=not done)
        done, kept = done or imported.accounts, [*kept, a.name]
    if not kept:
        raise UsageError(f"{filename}: the Canvas gradebook export has no column for any of the course's "
                         f"assignments ({', '.join(a.name for a in known) or 'none'}); its columns: "
                         f"{'; '.join(roster.assignment_columns()) or 'none'}. Upload it on an assignment's staff "
                         "page to pick the column")
    return done, f"{lms.KINDS[roster.kind]}, kept for {', '.join(kept)}"


def serve(args) -> int:
    if args.base_url and not os.environ.get("AUTOGRADER_ALLOWED_HOSTS"):   # the site answers to its own address
        from urllib.parse import urlparse

        os.environ["AUTOGRADER_ALLOWED_HOSTS"] = f"localhost,127.0.0.1,[::1],{urlparse(args.base_url).hostname}"
    setup(args.course, args.backend)
    from django.conf import settings

    prepare_database()
    base = args.base_url or f"http://{'localhost' if args.host in ('127.0.0.1', '0.0.0.0') else args.host}:{args.port}"
    if args.import_roster:
        import_roster(args.import_roster, base, args.roster_assignment or "")
    if args.setup_only:
        return 0
    workers = _Pool(args.workers, args.backend)
    if args.workers:
        workers.start()
    print(f"course {settings.COURSE_ROOT} · database {settings.DATABASES['default']['NAME']} · "
          f"{args.workers} grading worker{'s' if args.workers != 1 else ''}")
    print(f"serving on {base}/ (Ctrl-C stops)", flush=True)
    from django.core.servers.basehttp import run
    from django.db import connections

    from autograder.service.webserver import PooledWSGIServer
    from autograder.service.wsgi import application

    connections.close_all()   # the start-up's: from here on, the pool's threads hold their own
    try:
        run(args.host, args.port, application, ipv6=":" in args.host, server_cls=PooledWSGIServer)
    except KeyboardInterrupt:
        pass
    finally:
        workers.stop()
    return 0


class _Pool:
    """``autograder worker`` processes beside the web server, restarted if one dies: grading never
    runs in the web process."""

    def __init__(self, n: int, backend: str | None):
        self.n, self.backend = n, backend
        self.procs: list[subprocess.Popen] = []
        self.stopping = threading.Event()

    def _spawn(self) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "autograder", "worker"] + (["--backend", self.backend] if self.backend else [])
        return subprocess.Popen(cmd, env=os.environ.copy())

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.n)]
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self.stopping.wait(2):
            for i, p in enumerate(self.procs):
                if p.poll() is not None and not self.stopping.is_set():
                    print(f"worker {p.pid} exited ({p.returncode}); starting another", file=sys.stderr)
                    self.procs[i] = self._spawn()

    def stop(self) -> None:
        self.stopping.set()
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()


def worker(args) -> int:
    setup(args.course, args.backend)
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django_tasks_db.management.commands.db_worker import Worker

    from autograder.service.grading import WORKER_ID

    for _ in range(120):   # the web side (or `serve --setup-only`) migrates; a worker waits for it
        if not MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes()):
            break
        time.sleep(1)
    else:
        print("the database is not migrated: run `autograder serve --setup-only` first", file=sys.stderr)
        return 2
    w = Worker(queue_names=["grading"], interval=args.interval, batch=args.batch, backend_name="default",
               startup_delay=not args.batch, max_tasks=args.max_tasks, worker_id=WORKER_ID[:64],
               excluded_queue_names=[])
    w.configure_signals()
    from autograder.service.grading import keep_alive

    stop = threading.Event()
    threading.Thread(target=keep_alive, args=(stop, os.environ.get("AUTOGRADER_BACKEND", "auto")),
                     daemon=True).start()
    print(f"worker {WORKER_ID} ready", flush=True)
    try:
        w.run()
    finally:
        stop.set()
    return 0
