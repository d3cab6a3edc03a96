"""The Docker backend: container options, GPU selection, and hostile submissions
against a real engine (marked `docker`; CI installs the engine and builds the image)."""

import json
import subprocess

import pytest

from autograder import cli
from autograder.course import UsageError
from autograder.sandbox import docker
from tests import nbfactory
from tests.conftest import json_lines, processes_with

A = "01_tf_basics"
FULL = 22.0


# ---------------------------------------------------------------- unit: options and detection


def test_container_options_lock_the_sandbox_down():
    limits = docker.ContainerLimits(memory_mb=1024, cpus=1.5, pids=128, scratch_mb=64)
    cmd = docker.run_command("img:tag", "name", "/host/job", limits, "tok", gpu=False)
    joined = " ".join(cmd)
    for option in ("--network none", "--memory 1024m", "--memory-swap 1024m", "--pids-limit 128",
                   "--cpus 1.5", "--read-only", "--cap-drop ALL", "--security-opt no-new-privileges",
                   "--user 65000:65000", "--init", "--rm", "--log-driver none", "--ulimit core=0"):
        assert option in joined, option
    assert "/scratch:rw,nosuid,nodev,size=64m" in joined
    assert "/host/job:/job:ro" in joined and f"{docker.PACKAGE_DIR}:/opt/grader/autograder:ro" in joined
    assert "--gpus" not in cmd
    assert cmd[cmd.index("img:tag") + 1:] == ["python", "-m", "autograder.sandbox.worker", "/job/job.json", "stdout"]
    mounts = [cmd[i + 1] for i, c in enumerate(cmd) if c == "-v"]
    assert all(m.endswith(":ro") for m in mounts), "nothing of the host is writable from the container"
    assert not any("solutions" in m or "cache" in m for m in mounts)


def test_gpu_option_requests_all_gpus():
    cmd = docker.run_command("img", "n", "/j", docker.ContainerLimits(), "t", gpu=True)
    assert cmd[cmd.index("--gpus") + 1] == "all"


@pytest.mark.parametrize("runtimes, expected", [
    ('{"runc":{"path":"runc"}}', False),
    ('{"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}', True),
    ("", False), ("not json", False),
])
def test_nvidia_runtime_detection(runtimes, expected):
    assert docker.nvidia_runtime_available(runtimes) is expected


@pytest.fixture
def fake_engine(monkeypatch):
    state = {"engine": True, "gpu": False, "images": {docker.DEFAULT_IMAGE}}
    monkeypatch.setattr(docker, "docker_available", lambda timeout=10.0: state["engine"])
    monkeypatch.setattr(docker, "nvidia_runtime_available", lambda runtimes=None: state["gpu"])
    monkeypatch.setattr(docker, "image_exists", lambda image: image in state["images"])
    return state


def test_backend_and_gpu_selection(fake_engine):
    assert cli.make_sandbox("auto", "auto").name == "docker"
    assert cli.make_sandbox("local", "auto").name == "local"
    with pytest.raises(UsageError, match="--gpu on: Docker has no NVIDIA runtime"):
        cli.make_sandbox("auto", "on")
    fake_engine["gpu"] = True
    fake_engine["images"].add(docker.GPU_IMAGE)
    sandbox = cli.make_sandbox("auto", "auto")
    assert sandbox.gpu and sandbox.image == docker.GPU_IMAGE
    assert not cli.make_sandbox("auto", "off").gpu
    fake_engine["images"].discard(docker.GPU_IMAGE)
    assert not cli.make_sandbox("auto", "auto").gpu  # falls back to the CPU image, with a note
    with pytest.raises(UsageError, match="image build --gpu"):
        cli.make_sandbox("docker", "on")
    fake_engine["engine"] = False
    assert cli.make_sandbox("auto", "auto").name == "local"
    with pytest.raises(UsageError, match="no Docker engine is reachable"):
        cli.make_sandbox("docker", "auto")
    with pytest.raises(UsageError, match="needs the docker backend"):
        cli.make_sandbox("local", "on")


# ---------------------------------------------------------------- real engine


def answer_that(fn: str, body: str) -> str:
    """A correct ``eager_linear``-style answer for ``fn`` that returns a wrong value when
    ``body`` (which sets ``escaped``) finds a way out of the sandbox."""
    src = nbfactory.solution_answers(A)[f"answer_{fn}"]
    head, _, rest = src.partition(":\n")
    guard = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    return f"{head}:\n    escaped = []\n{guard}    if escaped:\n        return None\n{rest}"


NETWORK = r"""
import socket
for host, port in (("1.1.1.1", 53), ("127.0.0.1", 2375), ("172.17.0.1", 22), ("169.254.169.254", 80),
                   ("pypi.org", 443)):
    try:
        socket.create_connection((host, port), timeout=2).close()
        escaped.append(host)
    except OSError:
        pass
"""

SECRETS = r"""
import os
for top in ("/",):
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not (root == "/" and d in ("proc", "sys", "dev"))]
        for f in files:
            if f.endswith(".ipynb") or f == "public_reference.json" or (f.endswith(".json") and "references" in root):
                escaped.append(os.path.join(root, f))
if os.path.exists("/var/run/docker.sock") or os.path.exists("/run/docker.sock"):
    escaped.append("docker.sock")
"""

WRITES = r"""
import os
for path in ("/x", "/opt/grader/autograder/x", "/job/x", "/opt/venv/x", "/tmp/x", "/etc/x"):
    try:
        with open(path, "w") as fh:
            fh.write("x")
        escaped.append(path)
    except OSError:
        pass
try:
    os.setuid(0)
    escaped.append("setuid")
except OSError:
    pass
import subprocess
if subprocess.run(["mount", "-t", "tmpfs", "none", "/scratch"], capture_output=True).returncode == 0:
    escaped.append("mount")
"""

FORK_BOMB = r"""
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""

DAEMON = r"""
import subprocess
subprocess.Popen(["sleep", "100000"], start_new_session=True)
"""


@pytest.fixture(scope="module")
def hostile(engine, tmp_path_factory, run_cli):
    subs = tmp_path_factory.mktemp("hostile")
    out = tmp_path_factory.mktemp("hostile_out")
    make = lambda name, **kw: nbfactory.make(subs / f"{name}.ipynb", A, **kw)  # noqa: E731
    make("network", answers={"eager_linear": answer_that("eager_linear", NETWORK)})
    make("secrets", answers={"eager_linear": answer_that("eager_linear", SECRETS)})
    make("writes", answers={"eager_linear": answer_that("eager_linear", WRITES)})
    make("memory_bomb", answers={"evaluate": answer_that(
        "evaluate", "_hog = []\nwhile True:\n    _hog.append(b'x' * (100 * 2**20))")})
    make("fork_bomb", answers={"describe_tensor": answer_that("describe_tensor", FORK_BOMB)})
    make("disk_filler", answers={"unique_shapes": answer_that(
        "unique_shapes", "with open('/scratch/fill', 'wb') as fh:\n    while True:\n        fh.write(b'x' * 2**20)")})
    make("infinite_loop", answers={"feed_placeholder": answer_that("feed_placeholder", "while True:\n    pass")})
    make("huge_print", extra=[("setup", "import sys\nfor _ in range(300):\n    sys.stdout.write('x' * 2**20)")])
    make("daemon", extra=[("setup", DAEMON)])
    make("solution")
    proc = run_cli("grade", A, subs, "--json", "--jobs", "2", "--out", out, "--backend", "docker",
                   "--check-timeout", "15", "--cell-timeout", "60")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"results": json_lines(proc.stdout), "out": out}


def lost(result):
    pts = {}
    for c in result["checks"]:
        pts.setdefault(c["exercise"], [0, 0])
        pts[c["exercise"]][0] += c["points"]
        pts[c["exercise"]][1] += c["max_points"]
    return {e: m - p for e, (p, m) in pts.items() if p != m}


@pytest.mark.docker
@pytest.mark.parametrize("student", ["network", "secrets", "writes", "huge_print", "daemon", "solution"])
def test_escapes_are_denied(hostile, student):
    r = hostile["results"][student]
    assert r["backend"] == "docker" and r["status"] == "graded"
    assert r["score"] == FULL, (student, lost(r), [c["message"] for c in r["checks"] if not c["passed"]])


@pytest.mark.docker
@pytest.mark.parametrize("student, exercise, outcome", [
    ("memory_bomb", "evaluate", "crashed"),
    ("fork_bomb", "describe_tensor", "timeout"),
    ("disk_filler", "unique_shapes", "error"),
    ("infinite_loop", "feed_placeholder", "timeout"),
])
def test_resource_attacks_stop_at_their_limit_and_cost_one_exercise(hostile, student, exercise, outcome):
    r = hostile["results"][student]
    assert lost(r) == {exercise: nbfactory_points(exercise)}, lost(r)
    first = next(c for c in r["checks"] if c["exercise"] == exercise)
    assert first["outcome"] == outcome, first


def nbfactory_points(exercise):
    from autograder.course import find_assignment

    return sum(c.points for c in find_assignment(A).checkset(hidden=True).checks if c.exercise == exercise)


@pytest.mark.docker
def test_huge_output_is_drained_and_truncated(hostile):
    log = (hostile["out"] / "logs" / A / "huge_print.log").read_text()
    size = int(log.split("--- output (")[1].split(" bytes")[0])
    assert size >= 300 * 2**20 and len(log) < 2**20


@pytest.mark.docker
def test_no_container_or_process_survives(hostile):
    containers = subprocess.run(["docker", "ps", "-aq", "--filter", f"ancestor={docker.DEFAULT_IMAGE}"],
                                capture_output=True, text=True).stdout.split()
    assert not containers
    assert not processes_with(b"sleep\x00100000")


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
