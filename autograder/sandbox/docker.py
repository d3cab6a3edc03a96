"""The ``docker`` backend: locked-down containers of the sandbox image.

Every container of the sandbox image (``docker/``) runs with no network, equal
memory and memory+swap limits, a pids limit, a CPU limit, a read-only root
filesystem, a size-limited tmpfs as its only writable space, a non-root user,
all capabilities dropped and no-new-privileges. Solutions and reference values
never enter one.

*Warm* (the default): one long-lived container per parallel job, whose main
process has imported TensorFlow and forks a fresh worker per run, and restores
a fresh sandbox between runs (see :mod:`autograder.sandbox.containerserver`).
Each run is a ``docker exec`` of a small client, as another user, which carries
the job in and the events and output out; a run whose end the client does not
report (a daemon restart, a vanished container) is an infrastructure failure,
never the student's. A container that reports itself unfit, or misses a
report, is thrown away.

*Cold* (``AUTOGRADER_WARM=0``): a fresh container per run, the job and check
files mounted read-only; its events come on the container's stdout, the
student's output on its stderr. Slower (each run imports TensorFlow), simpler.

Time limits and restarts come from :mod:`autograder.sandbox.process`.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox import datafiles
from autograder.sandbox.base import Job, SandboxError
from autograder.sandbox.control import control_line
from autograder.sandbox.events import LineReader, Malformed, parse
from autograder.sandbox.linux import RUN_RLIMITS_ENV, die_with_parent, sandbox_uid, uid_range
from autograder.sandbox.process import STARTUP_TIMEOUT_S, ProcessSandbox, Started
from autograder.sandbox.warmserver import READY

PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
DEFAULT_IMAGE = os.environ.get("AUTOGRADER_IMAGE", "tf-autograder:cpu")
GPU_IMAGE = os.environ.get("AUTOGRADER_GPU_IMAGE", "tf-autograder:gpu")
NPROC_RESERVE = 16           # pids the client and `docker exec` need beyond the students' limit
ABORT_S = 10.0               # for a warm container to stop a run and report
NOFILE_LIMIT = 4096          # open files per sandbox process (see _locked_down)
SHM_BYTES = 64 * 2**20       # System V shared memory a container may hold in all
ENGINE_WAIT_S = 60.0         # for a restarting Docker engine before a run counts as failed
GRADER_ID = f"{socket.gethostname()}:{os.getpid()}"


def docker_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """One ``docker`` command with its output captured as text. A hung engine or a missing
    client comes back as a failed command (124 after ``timeout`` seconds, 127), never as an
    exception in a grading thread. (Runs that stream a job use ``Popen``: see below.)"""
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(["docker", *args], 124, "", f"docker {args[0]}: no answer in {timeout:g} s")
    except OSError as exc:
        return subprocess.CompletedProcess(["docker", *args], 127, "", f"docker: {exc}")


def remove_orphaned_containers() -> int:
    """Remove containers left by graders of this host that are no longer alive
    (a grader killed with SIGKILL cannot stop its own containers)."""
    out = docker_cli("ps", "-aq", "--filter", "label=autograder.grader",
                     "--format", '{{.ID}} {{.Label "autograder.grader"}}').stdout
    stale = []
    for line in out.splitlines():
        cid, _, owner = line.partition(" ")
        host, _, pid = owner.rpartition(":")
        if host == socket.gethostname() and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            stale.append(cid)
    if stale:
        docker_cli("rm", "-f", *stale, timeout=120)
    return len(stale)


@dataclass(frozen=True)
class ContainerLimits:
    memory_mb: int = 4096
    cpus: float = 1.0
    pids: int = 512          # TensorFlow's thread pools count as pids
    scratch_mb: int = 256
    data_dir: str = ""       # the assignment's staged data files, mounted at /data (read-only)


def docker_available(timeout: float = 10.0) -> bool:
    """Whether a Docker engine answers (not just whether the client is installed)."""
    if shutil.which("docker") is None:
        return False
    return docker_cli("info", "--format", "{{.ServerVersion}}", timeout=timeout).returncode == 0


def wait_for_engine(timeout: float = 60.0) -> bool:
    """Whether the engine answers within ``timeout`` seconds (a restarting daemon does)."""
    import time

    deadline = time.monotonic() + timeout
    while not docker_available():
        if time.monotonic() >= deadline:
            return False
        time.sleep(1.0)
    return True


def image_exists(image: str) -> bool:
    return docker_cli("image", "inspect", image).returncode == 0


def nvidia_runtime_available(runtimes_json: str | None = None) -> bool:
    """Whether Docker can hand an NVIDIA GPU to containers (its ``nvidia`` runtime)."""
    if runtimes_json is None:
        runtimes_json = docker_cli("info", "--format", "{{json .Runtimes}}", timeout=10).stdout
    try:
        return "nvidia" in json.loads(runtimes_json or "{}")
    except ValueError:
        return False


def _run_rlimits(limits: ContainerLimits, gpu: bool) -> str:
    """Each run's rlimits (see supervisor.apply_run_rlimits_from_env)."""
    rlimits = {"nproc": limits.pids - NPROC_RESERVE}  # applied as at least 1
    if not gpu:  # CUDA reserves far more address space than it uses: GPU runs rely on --memory
        rlimits["address_space_mb"] = limits.memory_mb
    return json.dumps(rlimits)


def _locked_down(name: str, limits: ContainerLimits, token: str, gpu: bool, uid: int) -> list[str]:
    """The ``docker run`` options every sandbox container gets (unit-tested)."""
    cmd = [
        "--rm", "--name", name,
        "--network", "none",
        "--memory", f"{limits.memory_mb}m", "--memory-swap", f"{limits.memory_mb}m",
        "--pids-limit", str(limits.pids),
        "--cpus", f"{limits.cpus:g}",
        "--read-only",
        "--tmpfs", f"/scratch:rw,nosuid,nodev,size={limits.scratch_mb}m,mode=1777",
        "--user", f"{uid}:{uid}",
        "-e", "USER=sandbox", "-e", "LOGNAME=sandbox",  # the uid has no account: getpass reads these
        "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "--ulimit", "core=0",
        # Open files per process (else the daemon's default, often 1 048 576, times pids):
        # TensorFlow holds a few hundred; NOFILE_LIMIT leaves it room and stops a hoarder.
        "--ulimit", f"nofile={NOFILE_LIMIT}:{NOFILE_LIMIT}",
        # System V IPC outlives processes, and its memory counts against the container's:
        # at most 64 MB of shared memory (removed when its last user exits), 16 message queues.
        "--sysctl", "kernel.shm_rmid_forced=1",
        "--sysctl", f"kernel.shmmax={SHM_BYTES}", "--sysctl", f"kernel.shmall={SHM_BYTES // 4096}",
        "--sysctl", "kernel.msgmni=16",
        "--log-driver", "none",
        "--label", f"autograder.token={token}",
        "--label", f"autograder.grader={GRADER_ID}",
        "--workdir", "/scratch",
        "-v", f"{PACKAGE_DIR}:/opt/grader/autograder:ro",
        "-e", f"{RUN_RLIMITS_ENV}={_run_rlimits(limits, gpu)}",
    ]
    if limits.data_dir:
        cmd += ["-v", f"{limits.data_dir}:{datafiles.MOUNT}:ro"]
    if gpu:
        cmd += ["--gpus", "all", "-e", "NVIDIA_VISIBLE_DEVICES=all"]
    return cmd


def run_command(image: str, name: str, jobdir: str, limits: ContainerLimits, token: str, gpu: bool,
                uid: int) -> list[str]:
    """``docker run`` for one cold run: the job mounted read-only, events on stdout."""
    return (["docker", "run", "--init"] + _locked_down(name, limits, token, gpu, uid)
            + ["-v", f"{jobdir}:/job:ro", image]
            + ["python", "-m", "autograder.sandbox.worker", "/job/job.json", "stdout"])


def serve_command(image: str, name: str, limits: ContainerLimits, token: str, gpu: bool, uid: int) -> list[str]:
    """``docker run`` for a warm container; its stdin is the grader's lifeline.

    No ``--init``: the server is the container's PID 1, to which the kernel delivers
    no signal from inside the container that it has no handler for, so students can
    neither kill nor stop it (it reaps orphans itself)."""
    return (["docker", "run", "-i", "--init=false"] + _locked_down(name, limits, token, gpu, uid) + [image]
            + ["python", "-P", "-m", "autograder.sandbox.containerserver", "serve"])


def exec_command(name: str, uid: int) -> list[str]:
    """``docker exec`` of one run's client in a warm container (``uid``: the students')."""
    return ["docker", "exec", "-i", "--user", f"{uid + 1}:{uid + 1}", "--workdir", "/", name,
            "python", "-P", "-m", "autograder.sandbox.containerserver", "client"]


class _Drain(threading.Thread):
    """Reads a stream to its end, keeping the last few KB (diagnostics only)."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.tail = stream, b""

    def run(self) -> None:
        while chunk := self.stream.read1(65536):
            self.tail = (self.tail + chunk)[-4096:]


class WarmContainer:
    """A running warm container; used by one run at a time."""

    def __init__(self, image: str, limits: ContainerLimits, gpu: bool):
        self.token = secrets.token_hex(16)
        self.name = f"autograder-warm-{self.token[:16]}"
        self.uid = sandbox_uid()
        self.proc = subprocess.Popen(serve_command(image, self.name, limits, self.token, gpu, self.uid),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=die_with_parent)
        self.errors = _Drain(self.proc.stderr)
        self.errors.start()
        ready = _readline(self.proc.stdout, STARTUP_TIMEOUT_S)
        if ready.strip() != READY:
            self.close()
            raise SandboxError(f"the warm container did not start: {self.errors.tail.decode(errors='replace')[-300:]}")
        _Drain(self.proc.stdout).start()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            docker_cli("rm", "-f", self.name)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _readline(stream, timeout: float) -> bytes:
    """One line from a pipe, or b"" after ``timeout`` seconds."""
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return line[0] if line else b""


class DockerSandbox(ProcessSandbox):
    name = "docker"

    def __init__(self, image: str | None = None, gpu: bool = False, warm: bool | None = None):
        self.gpu = gpu
        self.image = image or (GPU_IMAGE if gpu else DEFAULT_IMAGE)
        self.warm = os.environ.get("AUTOGRADER_WARM", "1") != "0" if warm is None else warm
        uid_range()  # a misconfigured range fails the command, not every run
        self._cleaned = False
        self._idle: dict[ContainerLimits, list[WarmContainer]] = {}
        self._all: set[WarmContainer] = set()
        self._lock = threading.Lock()
        self._data: dict[str, str] = {}   # digest of an assignment's data files -> staged folder
        atexit.register(self.close)

    def describe(self) -> dict:
        return {"backend": "docker", "image": self.image, "warm": self.warm, "gpu": self.gpu}

    def _start(self, job: Job, workdir: str, scratch: str, job_data: dict, token: str) -> Started:
        with self._lock:
            if not self._cleaned:
                self._cleaned = True
                remove_orphaned_containers()
        limits = ContainerLimits(memory_mb=job.limits.memory_mb, cpus=job.limits.cpus,
                                 pids=job.limits.pids, scratch_mb=job.limits.scratch_mb,
                                 data_dir=self._staged(job.data))
        if job.data:
            job_data = {**job_data, "data": [[name, f"{datafiles.MOUNT}/{name}"] for name, _ in job.data]}
        if self.warm:
            return self._start_warm(limits, job_data, token)
        jobdir = os.path.join(workdir, "job")
        os.makedirs(os.path.join(jobdir, "checks"), exist_ok=True)
        modules = []
        for module_name, _, source in job_data["check_modules"]:
            target = os.path.join(jobdir, "checks", f"{module_name}.py")
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(source)
            modules.append([module_name, f"/job/checks/{module_name}.py"])
        with open(os.path.join(jobdir, "job.json"), "w") as fh:
            json.dump({**job_data, "check_modules": modules}, fh)
        for root, dirs, files in os.walk(workdir):  # readable by the sandbox user, writable by nobody
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        name = f"autograder-{token[:20]}"
        proc = subprocess.Popen(run_command(self.image, name, jobdir, limits, token, self.gpu, sandbox_uid()),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        events_fd = os.dup(proc.stdout.fileno())
        proc.stdout.close()
        return Started(proc, events_fd, proc.stderr, token)

    def _staged(self, files: list[tuple[str, str]]) -> str:
        """One staged folder per set of data files for the sandbox's life: warm containers
        mount it when they start, so containers are pooled by it as by their limits."""
        if not files:
            return ""
        key = datafiles.digest(files)
        with self._lock:
            if key not in self._data:
                import tempfile

                parent = tempfile.mkdtemp(prefix="autograder-data-")
                try:
                    self._data[key] = datafiles.stage(files, os.path.join(parent, "data"))
                except SandboxError:
                    shutil.rmtree(parent, ignore_errors=True)
                    raise
            return self._data[key]

    # ---------------------------------------------------------------- warm containers

    def _acquire(self, limits: ContainerLimits) -> WarmContainer:
        with self._lock:
            idle = self._idle.setdefault(limits, [])
            while idle:
                container = idle.pop()
                if container.alive():
                    return container
                self._all.discard(container)
        try:  # seconds: outside the lock
            container = WarmContainer(self.image, limits, self.gpu)
        except SandboxError:
            if docker_available() or not wait_for_engine(ENGINE_WAIT_S):
                raise
            container = WarmContainer(self.image, limits, self.gpu)  # the engine is back
        with self._lock:
            self._all.add(container)
        return container

    def _release(self, limits: ContainerLimits, container: WarmContainer, fit: bool) -> None:
        if fit and container.alive():
            with self._lock:
                self._idle.setdefault(limits, []).append(container)
            return
        with self._lock:
            self._all.discard(container)
        container.close()

    def _start_warm(self, limits: ContainerLimits, job_data: dict, token: str) -> Started:
        container = self._acquire(limits)
        modules = [[name, f"/job/checks/{name}.py", source]  # sent inline: nothing is mounted per run
                   for name, _, source in job_data["check_modules"]]
        job = json.dumps({**job_data, "check_modules": modules}).encode()
        nonce = secrets.token_hex(16)
        proc = subprocess.Popen(exec_command(container.name, container.uid), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=die_with_parent)
        events_fd = os.dup(proc.stdout.fileno())
        proc.stdout.close()
        started = Started(proc, events_fd, proc.stderr, token, nonce=nonce, context=(limits, container))
        try:
            proc.stdin.write(control_line({"nonce": nonce, "job_bytes": len(job)}) + job)
            proc.stdin.flush()
        except OSError:  # the exec failed at once; the missing end report makes it an infrastructure failure
            pass
        return started

    def _stop_warm(self, started: Started) -> None:
        proc = started.proc
        limits, container = started.context
        if started.end is None:
            try:  # the client asks the server to stop the run, then reports its end
                proc.stdin.write(b"abort\n")
                proc.stdin.flush()
            except OSError:
                pass
            self._await_end(started)
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=ABORT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        end = started.end or {}
        if isinstance(end.get("status"), int):
            started.status = end["status"]
        self._release(limits, container, fit=end.get("fit") is True)

    def _await_end(self, started: Started) -> None:
        """Reads the event channel up to the client's end report (ABORT_S at most)."""
        import select
        import time

        reader, deadline = LineReader(max_line=4096), time.monotonic() + ABORT_S
        nonce = started.nonce.encode()
        while started.end is None and (left := deadline - time.monotonic()) > 0:
            if not select.select([started.events_fd], [], [], left)[0]:
                break
            chunk = os.read(started.events_fd, 1 << 20)
            if not chunk:
                break
            lines = reader.feed(chunk)
            del reader.partial[:-4096]  # the end report is short and starts a line: the rest is noise
            for line in lines:
                if nonce in line:
                    try:
                        event = parse(line)
                    except Malformed:
                        continue
                    if event.get("ev") == "end" and event.get("nonce") == started.nonce:
                        started.end = event

    def _infrastructure_failure(self, started: Started) -> str | None:
        """Asked only when a run ended early. Warm: a run whose client reported its end
        is the submission's doing (students cannot stop the server or the client);
        no report means the container or the engine went away. Cold: the engine."""
        if self.warm and started.end is not None:
            if started.end.get("server") == "unreachable":
                return "the warm sandbox container did not answer"
            return None
        if not docker_available():
            wait_for_engine(ENGINE_WAIT_S)  # so that the retry has a chance
            return "the Docker engine stopped answering during the run"
        if self.warm:
            return "the sandbox container ended without reporting its run (was it removed or restarted?)"
        return None

    def _stop(self, started: Started) -> None:
        if self.warm:
            self._stop_warm(started)
            return
        name = f"autograder-{started.token[:20]}"
        if started.proc.poll() is None:
            docker_cli("kill", name)
            try:
                started.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                started.proc.kill()
                started.proc.wait()
        # Belt and braces: no container of this run may outlive it.
        ids = docker_cli("ps", "-aq", "--filter", f"label=autograder.token={started.token}").stdout.split()
        if ids:
            docker_cli("rm", "-f", *ids)

    def close(self) -> None:
        """Stop every warm container (also at exit)."""
        with self._lock:
            containers, self._all, self._idle = list(self._all), set(), {}
            staged, self._data = list(self._data.values()), {}
        for container in containers:
            container.close()
        for folder in staged:
            datafiles.unstage(folder)
            shutil.rmtree(os.path.dirname(folder), ignore_errors=True)
