"""The ``docker`` backend: a fresh, locked-down container per run.

Each worker runs in its own container of the sandbox image (``docker/``) with
no network, equal memory and memory+swap limits, a pids limit, a CPU limit, a
read-only root filesystem, a size-limited tmpfs as its only writable space, a
non-root user, all capabilities dropped and no-new-privileges. Only the job
(cells, check files of this assignment) and the grader's in-sandbox code are
mounted, read-only: solutions and reference values never enter a container.
The worker's events come back on the container's stdout; everything the
student's code prints goes to its stderr, of which the grader keeps a bounded
head. Time limits and restarts come from :mod:`autograder.sandbox.process`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox.base import Job
from autograder.sandbox.process import ProcessSandbox, Started

PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
DEFAULT_IMAGE = os.environ.get("AUTOGRADER_IMAGE", "tf-autograder:cpu")
GPU_IMAGE = os.environ.get("AUTOGRADER_GPU_IMAGE", "tf-autograder:gpu")
SANDBOX_UID = "65000:65000"
GRADER_ID = f"{socket.gethostname()}:{os.getpid()}"


def remove_orphaned_containers() -> int:
    """Remove containers left by graders of this host that are no longer alive
    (a grader killed with SIGKILL cannot stop its own containers)."""
    out = subprocess.run(["docker", "ps", "-aq", "--filter", "label=autograder.grader",
                          "--format", '{{.ID}} {{.Label "autograder.grader"}}'],
                         capture_output=True, text=True, timeout=60).stdout
    stale = []
    for line in out.splitlines():
        cid, _, owner = line.partition(" ")
        host, _, pid = owner.rpartition(":")
        if host == socket.gethostname() and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            stale.append(cid)
    if stale:
        subprocess.run(["docker", "rm", "-f", *stale], capture_output=True, timeout=120)
    return len(stale)


@dataclass(frozen=True)
class ContainerLimits:
    memory_mb: int = 4096
    cpus: float = 1.0
    pids: int = 512          # TensorFlow's thread pools count as pids
    scratch_mb: int = 256


def docker_available(timeout: float = 10.0) -> bool:
    """Whether a Docker engine answers (not just whether the client is installed)."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                              timeout=timeout).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def image_exists(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def nvidia_runtime_available(runtimes_json: str | None = None) -> bool:
    """Whether Docker can hand an NVIDIA GPU to containers (its ``nvidia`` runtime)."""
    if runtimes_json is None:
        try:
            runtimes_json = subprocess.run(["docker", "info", "--format", "{{json .Runtimes}}"],
                                           capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return False
    try:
        return "nvidia" in json.loads(runtimes_json or "{}")
    except ValueError:
        return False


def run_command(image: str, name: str, jobdir: str, limits: ContainerLimits, token: str, gpu: bool) -> list[str]:
    """The ``docker run`` command line for one worker (unit-tested)."""
    cmd = [
        "docker", "run", "--rm", "--name", name, "--init",
        "--network", "none",
        "--memory", f"{limits.memory_mb}m", "--memory-swap", f"{limits.memory_mb}m",
        "--pids-limit", str(limits.pids),
        "--cpus", f"{limits.cpus:g}",
        "--read-only",
        "--tmpfs", f"/scratch:rw,nosuid,nodev,size={limits.scratch_mb}m,mode=1777",
        "--user", SANDBOX_UID,
        "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "--ulimit", "core=0",
        "--log-driver", "none",
        "--label", f"autograder.token={token}",
        "--label", f"autograder.grader={GRADER_ID}",
        "--workdir", "/scratch",
        "-v", f"{jobdir}:/job:ro",
        "-v", f"{PACKAGE_DIR}:/opt/grader/autograder:ro",
    ]
    if gpu:
        cmd += ["--gpus", "all", "-e", "NVIDIA_VISIBLE_DEVICES=all"]
    cmd += [image, "python", "-m", "autograder.sandbox.worker", "/job/job.json", "stdout"]
    return cmd


class DockerSandbox(ProcessSandbox):
    name = "docker"

    def __init__(self, image: str | None = None, gpu: bool = False):
        self.gpu = gpu
        self.image = image or (GPU_IMAGE if gpu else DEFAULT_IMAGE)
        self._cleaned = False

    def _start(self, job: Job, workdir: str, scratch: str, job_data: dict, token: str) -> Started:
        if not self._cleaned:
            self._cleaned = True
            remove_orphaned_containers()
        jobdir = os.path.join(workdir, "job")
        os.makedirs(os.path.join(jobdir, "checks"), exist_ok=True)
        modules = []
        for module_name, path in job_data["check_modules"]:
            target = os.path.join(jobdir, "checks", f"{module_name}.py")
            shutil.copyfile(path, target)
            modules.append([module_name, f"/job/checks/{module_name}.py"])
        with open(os.path.join(jobdir, "job.json"), "w") as fh:
            json.dump({**job_data, "check_modules": modules}, fh)
        for root, dirs, files in os.walk(workdir):  # readable by the sandbox user, writable by nobody
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        limits = ContainerLimits(memory_mb=job.limits.memory_mb, cpus=job.limits.cpus,
                                 pids=job.limits.pids, scratch_mb=job.limits.scratch_mb)
        name = f"autograder-{token[:20]}"
        proc = subprocess.Popen(run_command(self.image, name, jobdir, limits, token, self.gpu),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        events_fd = os.dup(proc.stdout.fileno())
        proc.stdout.close()
        return Started(proc, events_fd, proc.stderr, token)

    def _stop(self, started: Started) -> None:
        name = f"autograder-{started.token[:20]}"
        if started.proc.poll() is None:
            subprocess.run(["docker", "kill", name], capture_output=True, timeout=60)
            try:
                started.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                started.proc.kill()
                started.proc.wait()
        # Belt and braces: no container of this run may outlive it.
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=autograder.token={started.token}"],
                             capture_output=True, text=True, timeout=60).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, timeout=60)
