"""A throwaway PostgreSQL cluster for the service's tests: Debian's ``postgresql`` server, a fresh
``initdb`` in a temporary folder, listening on a unix socket only, run by an unprivileged user
(PostgreSQL refuses root: as root the cluster runs as ``nobody``), removed at the end."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Missing(RuntimeError):
    pass


class Cluster:
    def __init__(self):
        self.bin = binaries()
        if self.bin is None:
            raise Missing("PostgreSQL's server is not installed (bash tests/ensure-postgres.sh installs it)")
        self.root = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
        self.data, self.socket = self.root / "data", self.root / "socket"
        self.socket.mkdir()
        self.as_user = {}
        if os.geteuid() == 0:
            os.chown(self.root, 65534, 65534)
            os.chown(self.socket, 65534, 65534)
            self.as_user = {"user": 65534, "group": 65534, "extra_groups": []}

    def _run(self, *args: str) -> None:
        done = subprocess.run([str(self.bin / args[0]), *args[1:]], capture_output=True, text=True, cwd=self.root,
                              env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}, timeout=120, **self.as_user)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")

    def start(self) -> "Cluster":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60", "-o",
                  f"-k {self.socket} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                  "-c full_page_writes=off -c max_connections=50", "start")
        return self

    def restart(self) -> None:
        # -l: the new server's output goes to the log, never to the pipes this test reads to their end
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60", "-m", "fast",
                  "restart")

    def url(self, name: str = "autograder") -> str:
        return f"postgresql://postgres@/{name}?host={self.socket}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
