"""The Docker backend: container options, GPU selection, and hostile submissions
against a real engine (marked `docker`; CI installs the engine and builds the image)."""

import json
import os
import subprocess
import sys

import pytest

from autograder.sandbox import docker, linux
from autograder.sandbox.base import SandboxUnavailable
from autograder.sandbox.registry import make_sandbox
from tests import nbfactory
from tests.conftest import ROOT, json_lines

A = "01_tf_basics"
FULL = 22.0


# ---------------------------------------------------------------- unit: options and detection


def test_container_options_lock_the_sandbox_down():
    limits = docker.ContainerLimits(memory_mb=1024, cpus=1.5, pids=128, scratch_mb=64)
    cmd = docker.run_command("img:tag", "name", "/host/job", limits, "tok", gpu=False, uid=2_000_042)
    joined = " ".join(cmd)
    for option in ("--network none", "--memory 1024m", "--memory-swap 1024m", "--pids-limit 128",
                   "--cpus 1.5", "--read-only", "--cap-drop ALL", "--security-opt no-new-privileges",
                   "--user 2000042:2000042", "--init", "--rm", "--log-driver none", "--ulimit core=0"):
        assert option in joined, option
    assert "/scratch:rw,nosuid,nodev,size=64m" in joined
    rlimits = json.loads(next(c for c in cmd if c.startswith("AUTOGRADER_RUN_RLIMITS=")).partition("=")[2])
    assert rlimits == {"nproc": 128 - docker.NPROC_RESERVE, "address_space_mb": 1024}
    assert "/host/job:/job:ro" in joined and f"{docker.PACKAGE_DIR}:/opt/grader/autograder:ro" in joined
    assert "--gpus" not in cmd
    assert cmd[cmd.index("img:tag") + 1:] == ["python", "-m", "autograder.sandbox.worker", "/job/job.json", "stdout"]
    mounts = [cmd[i + 1] for i, c in enumerate(cmd) if c == "-v"]
    assert all(m.endswith(":ro") for m in mounts), "nothing of the host is writable from the container"
    assert not any("solutions" in m or "cache" in m for m in mounts)


def test_warm_containers_run_the_server_as_pid_1_and_ignore_the_students_folder():
    serve = docker.serve_command("img", "n", docker.ContainerLimits(), "t", gpu=False, uid=2_000_000)
    assert "--init=false" in serve and "--init" not in serve
    assert serve[serve.index("img") + 1:] == ["python", "-P", "-m", "autograder.sandbox.containerserver", "serve"]
    client = docker.exec_command("n", 2_000_000)
    assert client[client.index("--workdir") + 1] == "/" and client[-4:-2] == ["-P", "-m"]
    assert client[client.index("--user") + 1] == "2000001:2000001"  # not the students' uid
    joined = " ".join(serve)
    for sysctl in ("kernel.shm_rmid_forced=1", f"kernel.shmmax={docker.SHM_BYTES}", "kernel.msgmni=16"):
        assert f"--sysctl {sysctl}" in joined


def test_gpu_option_requests_all_gpus():
    cmd = docker.run_command("img", "n", "/j", docker.ContainerLimits(), "t", gpu=True, uid=2_000_000)
    assert cmd[cmd.index("--gpus") + 1] == "all"
    rlimits = json.loads(next(c for c in cmd if c.startswith("AUTOGRADER_RUN_RLIMITS=")).partition("=")[2])
    assert "address_space_mb" not in rlimits  # CUDA reserves huge address ranges


def test_uid_pairs_come_from_the_configured_range_and_skip_host_accounts(monkeypatch):
    monkeypatch.setenv(linux.UIDS_ENV, "3000-3007")  # four pairs
    monkeypatch.setattr(linux, "_host_account", lambda uid: uid in (3002, 3005))  # 3004's pair has 3005
    assert {linux.sandbox_uid() for _ in range(50)} == {3000, 3006}
    monkeypatch.setattr(linux, "_host_account", lambda uid: True)
    with pytest.raises(docker.SandboxError, match="host account"):
        linux.sandbox_uid()
    for bad in ("3000", "5-2", "abc-def", "0-9"):
        monkeypatch.setenv(linux.UIDS_ENV, bad)
        with pytest.raises(linux.UidRangeError, match=linux.UIDS_ENV):
            docker.DockerSandbox()
    monkeypatch.delenv(linux.UIDS_ENV)
    assert linux.uid_range()[0] == linux.UID_BASE


@pytest.mark.parametrize("runtimes, expected", [
    ('{"runc":{"path":"runc"}}', False),
    ('{"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}', True),
    ("", False), ("not json", False),
])
def test_nvidia_runtime_detection(runtimes, expected):
    assert docker.nvidia_runtime_available(runtimes) is expected


def test_a_hung_or_missing_docker_engine_is_a_failed_command_never_an_exception(monkeypatch, tmp_path):
    def hung(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs.get("timeout"))

    monkeypatch.setattr(docker.subprocess, "run", hung)
    done = docker.docker_cli("image", "inspect", "x", timeout=0.5)
    assert done.returncode == 124 and "no answer in 0.5 s" in done.stderr
    assert docker.image_exists("x") is False and docker.remove_orphaned_containers() == 0
    monkeypatch.undo()
    monkeypatch.setenv("PATH", str(tmp_path))   # no docker client at all
    assert docker.docker_cli("info").returncode == 127 and not docker.docker_available()


@pytest.fixture
def fake_engine(monkeypatch):
    state = {"engine": True, "gpu": False, "images": {docker.DEFAULT_IMAGE}}
    monkeypatch.setattr(docker, "docker_available", lambda timeout=10.0: state["engine"])
    monkeypatch.setattr(docker, "nvidia_runtime_available", lambda runtimes=None: state["gpu"])
    monkeypatch.setattr(docker, "image_exists", lambda image: image in state["images"])
    return state


def test_backend_and_gpu_selection(fake_engine):
    assert make_sandbox("auto", "auto").name == "docker"
    assert make_sandbox("local", "auto").name == "local"
    with pytest.raises(SandboxUnavailable, match="--gpu on: Docker has no NVIDIA runtime"):
        make_sandbox("auto", "on")
    fake_engine["gpu"] = True
    fake_engine["images"].add(docker.GPU_IMAGE)
    sandbox = make_sandbox("auto", "auto")
    assert sandbox.gpu and sandbox.image == docker.GPU_IMAGE
    assert not make_sandbox("auto", "off").gpu
    fake_engine["images"].discard(docker.GPU_IMAGE)
    assert not make_sandbox("auto", "auto").gpu  # falls back to the CPU image, with a note
    with pytest.raises(SandboxUnavailable, match="image build --gpu"):
        make_sandbox("docker", "on")
    fake_engine["engine"] = False
    assert make_sandbox("auto", "auto").name == "local"
    with pytest.raises(SandboxUnavailable, match="no Docker engine is reachable"):
        make_sandbox("docker", "auto")
    with pytest.raises(SandboxUnavailable, match="needs the docker backend"):
        make_sandbox("local", "on")
    with pytest.raises(SandboxUnavailable, match="--unconfined applies to the local backend only"):
        make_sandbox("docker", "off", unconfined=True)


# ---------------------------------------------------------------- real engine


def answer_that(fn: str, body: str) -> str:
    """A correct ``eager_linear``-style answer for ``fn`` that returns a wrong value when
    ``body`` (which sets ``escaped``) finds a way out of the sandbox."""
    src = nbfactory.solution_answers(A)[f"answer_{fn}"]
    head, _, rest = src.partition(":\n")
    guard = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    return f"{head}:\n    escaped = []\n{guard}    if escaped:\n        return None\n{rest}"


def lost(result):
    pts = {}
    for c in result["checks"]:
        pts.setdefault(c["exercise"], [0, 0])
        pts[c["exercise"]][0] += c["points"]
        pts[c["exercise"]][1] += c["max_points"]
    return {e: m - p for e, (p, m) in pts.items() if p != m}


def nbfactory_points(exercise):
    from autograder.assignments.course import find_assignment

    return sum(c.points for c in find_assignment(A).checkset(hidden=True).checks if c.exercise == exercise)


@pytest.mark.docker
def test_docker_and_local_grade_the_example_batch_identically(engine, run_cli, tmp_path):
    folder = nbfactory.ROOT / "examples" / A
    results = {}
    for backend in ("local", "docker"):
        proc = run_cli("grade", A, folder, "--json", "--jobs", "2", "--backend", backend,
                       "--out", tmp_path / backend, "--check-timeout", "10")
        assert proc.returncode == 0, proc.stderr[-2000:]
        results[backend] = json_lines(proc.stdout)
    strip = lambda r: (r["status"], r["score"], [(c["id"], c["passed"], c["outcome"]) for c in r["checks"]])  # noqa: E731
    for student in results["local"]:
        assert strip(results["docker"][student]) == strip(results["local"][student]), student
    assert {r["backend"] for r in results["docker"].values() if r["status"] == "graded"} == {"docker"}
    assert json.dumps(results["docker"]["ada_correct"]["device"]) == '"cpu"'


# ---------------------------------------------------------------- warm containers: one per job, reused

HOST = "import os, socket\nprint('CONTAINER=' + socket.gethostname(), 'UID=' + str(os.getuid()))\n"

RUN_LIMITS = HOST + r"""
import getpass, resource
print("NPROC", resource.getrlimit(resource.RLIMIT_NPROC)[0], "AS_MB", resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)
print("USER", getpass.getuser())
"""

POLLUTE = HOST + r"""
import ctypes, os, subprocess
open("/scratch/leftover-file", "w").write("x")
os.makedirs("/scratch/leftover-dir/sub", exist_ok=True)
os.chmod("/scratch/leftover-dir", 0)
open("/dev/shm/leftover-shm", "w").write("x")
libc = ctypes.CDLL(None, use_errno=True)
print("SHMGET", libc.shmget(0, 4096, 0o1000 | 0o600))
print("MQ", libc.mq_open(b"/leftover-mq", os.O_CREAT | os.O_RDWR, 0o600, None))
subprocess.Popen(["sleep", "123456"], start_new_session=True)
"""

# Runs after a polluter in the same container: any leftover makes eager_linear wrong.
FIND_LEFTOVERS = HOST + r"""
import os
found = []
for folder in ("/scratch", "/dev/shm", "/dev/mqueue"):
    for root, dirs, files in os.walk(folder):
        found += [n for n in dirs + files if "leftover" in n]
with open("/proc/sysvipc/shm") as fh:
    found += fh.read().splitlines()[1:]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if b"123456" in fh.read():
                found.append("sleep")
    except OSError:
        pass
if os.getpriority(os.PRIO_PROCESS, os.getppid()) != 0:  # the server, whose state runs inherit
    found.append("reniced")
print("LEFTOVERS", found)
if found:
    def eager_linear(x, w, b):
        return None
"""

# The server is the worker's parent: a same-user process may renice it or lower its limits.
TAMPER = HOST + r"""
import os, resource
server = os.getppid()
os.setpriority(os.PRIO_PROCESS, server, 19)
resource.prlimit(server, resource.RLIMIT_NOFILE, (64, 64))
print("TAMPERED nice", os.getpriority(os.PRIO_PROCESS, server))
"""

# I/O priority is inherited by every later worker too: the idle class would starve them.
TAMPER_IO = HOST + r"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
number = {"x86_64": 251, "aarch64": 30}[os.uname().machine]   # ioprio_set
print("IOPRIO_SET", libc.syscall(number, 1, os.getppid(), 3 << 13))   # IOPRIO_CLASS_IDLE
"""

# Shared memory outlives its processes: a hoard would count against the next run's memory.
HOARD_SHM = HOST + r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.restype = ctypes.c_int
print("SHM_BIG", libc.shmget(0, 512 * 2**20, 0o1000 | 0o600))
print("SHM_FORCED", open("/proc/sys/kernel/shm_rmid_forced").read().strip())
"""

SIGNAL_SERVER = HOST + r"""
import os, signal
print("SERVER_" + [l for l in open("/proc/1/status") if l.startswith("SigCgt")][0].replace(":", "=").replace("\t", ""))
for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
    os.kill(os.getppid(), sig)
print("SIGNALLED", os.getppid())
"""


@pytest.fixture(scope="module")
def warm_sequence(engine, tmp_path_factory, run_cli):
    """Submissions graded one after another (--jobs 1) by the warm Docker backend."""
    subs = tmp_path_factory.mktemp("warm")
    out = tmp_path_factory.mktemp("warm_out")
    make = lambda name, **kw: nbfactory.make(subs / f"{name}.ipynb", A, **kw)  # noqa: E731
    make("a_polluter", extra=[("setup", POLLUTE)])
    make("b_victim", extra=[("answer_eager_linear", FIND_LEFTOVERS)])
    make("c_tamperer", extra=[("setup", TAMPER)])
    make("d_after_tamper", extra=[("answer_eager_linear", FIND_LEFTOVERS)])
    make("e_signals_server", extra=[("setup", SIGNAL_SERVER)])
    make("f_after_signals", extra=[("answer_eager_linear", FIND_LEFTOVERS)])
    make("g_kills_in_a_check", answers={"describe_tensor": answer_that(
        "describe_tensor", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")})
    make("h_after_crash", extra=[("answer_eager_linear", FIND_LEFTOVERS)])
    make("i_io_tamperer", extra=[("setup", TAMPER_IO)])
    make("j_after_io_tamper", extra=[("answer_eager_linear", FIND_LEFTOVERS)])
    make("k_hoards_shm", extra=[("setup", HOARD_SHM)])
    make("l_limits", extra=[("setup", RUN_LIMITS)])
    proc = run_cli("grade", A, subs, "--json", "--jobs", "1", "--out", out, "--backend", "docker",
                   "--check-timeout", "15")
    assert proc.returncode == 0, proc.stderr[-3000:]
    logs = {p.stem: p.read_text() for p in (out / "logs" / A).glob("*.log")}
    hosts = {s: log.split("CONTAINER=")[1].split()[0] for s, log in logs.items() if "CONTAINER=" in log}
    return {"results": json_lines(proc.stdout), "logs": logs, "hosts": hosts}


@pytest.mark.docker
def test_a_warm_container_is_reused_and_nothing_of_one_run_reaches_the_next(warm_sequence):
    results, hosts, logs = warm_sequence["results"], warm_sequence["hosts"], warm_sequence["logs"]
    assert "SHMGET -1" not in logs["a_polluter"] and "MQ -1" not in logs["a_polluter"]  # the pollution happened
    assert hosts["a_polluter"] == hosts["b_victim"], "the victim ran in the polluter's container"
    assert "LEFTOVERS []" in logs["b_victim"]
    assert results["a_polluter"]["score"] == results["b_victim"]["score"] == FULL


@pytest.mark.docker
def test_a_tampered_warm_server_is_replaced(warm_sequence):
    results, hosts, logs = warm_sequence["results"], warm_sequence["hosts"], warm_sequence["logs"]
    assert "TAMPERED nice 19" in logs["c_tamperer"]  # the renice really happened
    assert hosts["c_tamperer"] != hosts["d_after_tamper"], "a tampered container must not be reused"
    assert "LEFTOVERS []" in logs["d_after_tamper"]
    assert results["c_tamperer"]["score"] == results["d_after_tamper"]["score"] == FULL
    assert "IOPRIO_SET 0" in logs["i_io_tamperer"]  # the idle I/O class was really set
    assert hosts["i_io_tamperer"] != hosts["j_after_io_tamper"]
    assert results["i_io_tamperer"]["score"] == results["j_after_io_tamper"]["score"] == FULL


@pytest.mark.docker
def test_each_container_has_uids_of_its_own_and_each_run_its_rlimits(warm_sequence):
    logs, hosts = warm_sequence["logs"], warm_sequence["hosts"]
    uids = {s: int(log.split("UID=")[1].split()[0]) for s, log in logs.items() if "UID=" in log}
    assert all(uid >= linux.UID_BASE and uid % 2 == 0 for uid in uids.values()), uids
    assert uids["a_polluter"] == uids["b_victim"]  # the same container
    assert hosts["c_tamperer"] != hosts["d_after_tamper"] and uids["c_tamperer"] != uids["d_after_tamper"]
    # NPROC: a fork bomb's forks fail before TensorFlow's address space is copied.
    assert f"NPROC {512 - docker.NPROC_RESERVE} AS_MB 4096" in logs["l_limits"], logs["l_limits"][-2000:]
    assert "USER sandbox" in logs["l_limits"]


@pytest.mark.docker
def test_a_cold_run_gets_a_uid_of_its_own_and_the_same_rlimits(engine, tmp_path, cache_dir):
    nbfactory.make(tmp_path / "subs" / "cold.ipynb", A, extra=[("setup", RUN_LIMITS)])
    env = {**os.environ, "AUTOGRADER_CACHE": str(cache_dir), "AUTOGRADER_WARM": "0"}
    proc = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", A, str(tmp_path / "subs"), "--json",
                           "--out", str(tmp_path / "out"), "--backend", "docker"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json_lines(proc.stdout)["cold"]["score"] == FULL
    log = (tmp_path / "out" / "logs" / A / "cold.log").read_text()
    assert int(log.split("UID=")[1].split()[0]) >= linux.UID_BASE
    assert f"NPROC {512 - docker.NPROC_RESERVE} AS_MB 4096" in log and "USER sandbox" in log, log[-2000:]


@pytest.mark.docker
def test_system_v_shared_memory_is_capped_and_dies_with_its_users(warm_sequence):
    log = warm_sequence["logs"]["k_hoards_shm"]
    assert "SHM_BIG -1" in log and "SHM_FORCED 1" in log, log[-2000:]
    assert warm_sequence["results"]["k_hoards_shm"]["score"] == FULL


@pytest.mark.docker
def test_students_cannot_signal_the_warm_server(warm_sequence):
    results, hosts, logs = warm_sequence["results"], warm_sequence["hosts"], warm_sequence["logs"]
    assert "SIGNALLED 1" in logs["e_signals_server"]  # the server is PID 1 of its container
    # It catches SIGCHLD (17) and nothing else but glibc's own thread signals (32, 33), whose
    # handlers ignore anything not sent by the process to itself.
    caught = int(logs["e_signals_server"].split("SERVER_SigCgt=")[1].split()[0], 16)
    assert caught & ~((1 << 16) | (1 << 31) | (1 << 32)) == 0 and caught & (1 << 16), hex(caught)
    assert results["e_signals_server"]["score"] == results["f_after_signals"]["score"] == FULL
    assert hosts["e_signals_server"] == hosts["f_after_signals"], "signals are ignored: the container lives on"


@pytest.mark.docker
def test_a_crashing_check_costs_only_its_exercise_in_a_warm_container(warm_sequence):
    r = warm_sequence["results"]["g_kills_in_a_check"]
    assert lost(r) == {"describe_tensor": nbfactory_points("describe_tensor")}, lost(r)
    assert next(c for c in r["checks"] if c["exercise"] == "describe_tensor")["outcome"] == "crashed"
    assert warm_sequence["results"]["h_after_crash"]["score"] == FULL
    assert "LEFTOVERS []" in warm_sequence["logs"]["h_after_crash"]


@pytest.mark.docker
def test_a_killed_grader_takes_its_warm_containers_along(engine, tmp_path, cache_dir):
    import os
    import signal
    import sys
    import time

    from tests.conftest import ROOT

    subs = tmp_path / "subs"
    for i in range(4):
        nbfactory.make(subs / f"s{i}.ipynb", A)
    env = {**os.environ, "AUTOGRADER_CACHE": str(cache_dir)}
    grader = subprocess.Popen([sys.executable, "-m", "autograder.cli", "grade", A, str(subs), "--backend", "docker",
                               "--jobs", "2", "--out", str(tmp_path / "out")], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mine = ["docker", "ps", "-q", "--filter", f"label=autograder.grader={docker.socket.gethostname()}:{grader.pid}"]
    deadline = time.monotonic() + 120
    while not subprocess.run(mine, capture_output=True, text=True).stdout.split():
        assert grader.poll() is None and time.monotonic() < deadline, "no container started"
        time.sleep(0.2)
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 90   # each container's watchdog sees its grader gone (slower on a busy machine)
    while subprocess.run(mine, capture_output=True, text=True).stdout.split() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not subprocess.run(mine, capture_output=True, text=True).stdout.split(), "containers outlived the grader"

