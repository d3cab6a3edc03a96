"""The local backend's confinement: what the kernel gives, and honesty where it gives less.

The hostile cases themselves are in tests/adversarial.py (graded on both backends by
tests/test_adversarial.py). Here: a confined process in isolation (fast, no TensorFlow),
the refusal without Landlock, and proof that the escape attacks do escape a run that is
not confined (so their passing on the confined backends means something).
"""

import json
import os
import socket
import subprocess
import sys

import pytest

from autograder.sandbox import linux
from tests import nbfactory
from tests.adversarial import ATTACKS
from tests.conftest import ROOT, json_lines

A = "01_tf_basics"
KERNEL = linux.probe()
needs_landlock = pytest.mark.skipif(not KERNEL["landlock"], reason="this kernel has no Landlock")


def _confined_child(scratch, action) -> dict:
    """Run ``action()`` in a forked, confined process; returns what it reported."""
    read_r, read_w = os.pipe()
    uid = linux.sandbox_uid() if KERNEL["root"] else None
    conf = linux.plan(str(scratch), [sys.base_prefix, sys.prefix, str(ROOT / "autograder")], uid)
    pid = os.fork()
    if pid == 0:
        os.close(read_r)
        code = 1
        try:
            def work():
                os.chdir(scratch)
                os.write(read_w, json.dumps(action()).encode())
                os._exit(0)
            code = linux.supervise(conf, {"nofile": 256}, work)
        finally:
            os._exit(code)
    os.close(read_w)
    data = b""
    while chunk := os.read(read_r, 65536):
        data += chunk
    os.close(read_r)
    assert linux.wait_for(pid) == 0, data
    return json.loads(data)


def _attempts():
    out = {}
    for name, path in (("solution", ROOT / "solutions" / A / f"{A}.ipynb"), ("readme", ROOT / "README.md"),
                       ("home", os.path.expanduser("~/.bashrc"))):
        try:
            open(path).read(1)
            out[name] = "read"
        except OSError as exc:
            out[name] = exc.errno
    for name, path in (("tmp", "/tmp/agconfine-marker"), ("scratch", "written")):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            out[name] = "written"
        except OSError as exc:
            out[name] = exc.errno
    for family in ("AF_INET", "AF_UNIX"):
        try:
            socket.socket(getattr(socket, family)).close()
            out[family] = "opened"
        except OSError as exc:
            out[family] = exc.errno
    try:
        os.kill(os.getppid(), 0)
        out["signal"] = "sent"
    except OSError as exc:
        out["signal"] = exc.errno
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    nr = {"x86_64": (248, 29), "aarch64": (217, 194)}[os.uname().machine]
    key = libc.syscall(nr[0], b"user", b"agtest", b"secret", 6, -3)  # add_key to the session keyring
    out["keyring"] = "added" if key >= 0 else ctypes.get_errno()
    out["shmget"] = "made" if libc.syscall(nr[1], 0, 4096, 0o1600) >= 0 else ctypes.get_errno()
    for name, call in (("chmod", lambda: os.chmod("written", 0o777)), ("utime", lambda: os.utime("written", (0, 0))),
                       ("truncate", lambda: os.truncate("written", 0))):
        try:
            call()
            out[name] = "done"
        except OSError as exc:
            out[name] = exc.errno
    out["uid"], out["pid"] = os.getuid(), os.getpid()
    return out


@needs_landlock
def test_a_confined_process_reads_writes_and_reaches_only_what_it_may(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    os.chmod(tmp_path, 0o711)
    got = _confined_child(scratch, _attempts)
    assert got["solution"] == got["readme"] == 13, got        # EACCES: Landlock
    assert got["home"] in (2, 13), got                         # hidden, or denied
    assert got["tmp"] == 13 and got["scratch"] == "written", got
    assert not os.path.exists("/tmp/agconfine-marker")
    assert got["AF_INET"] == got["AF_UNIX"] == 13, got         # seccomp: no sockets at all
    assert got["signal"] == 1, got                             # EPERM: signals scoped to the run
    assert got["keyring"] == 1, got                            # seccomp: keyrings cross every namespace
    assert got["chmod"] == got["utime"] == got["truncate"] == 1, got  # metadata Landlock does not cover
    if "ipc" in KERNEL["namespaces"]:
        assert got["shmget"] == "made", got                    # its own IPC namespace: allowed, and private
    else:
        assert got["shmget"] == 1, got
    assert got["uid"] != 0
    if "pid" in KERNEL["namespaces"]:
        assert got["pid"] <= 3, got                            # its own PID namespace


def test_the_probe_says_what_the_kernel_offers(monkeypatch):
    assert set(KERNEL) == {"landlock", "namespaces", "root", "seccomp"}
    monkeypatch.setenv(linux.NO_LANDLOCK_ENV, "1")
    assert linux.landlock_abi() == 0


@pytest.mark.parametrize("kernel, lacking", [
    ({"landlock": 0, "seccomp": True, "namespaces": ("pid",)}, "Landlock"),
    ({"landlock": 7, "seccomp": False, "namespaces": ("pid",)}, "seccomp"),
    ({"landlock": 5, "seccomp": True, "namespaces": ()}, "signal scoping"),   # Ubuntu 24.04 as a TA
    ({"landlock": 6, "seccomp": True, "namespaces": ()}, None),
    ({"landlock": 1, "seccomp": True, "namespaces": (), "root": True}, None),   # root in a container: own uids
    ({"landlock": 0, "seccomp": True, "namespaces": (), "root": True}, "Landlock"),
    ({"landlock": 1, "seccomp": True, "namespaces": ("net", "ipc", "pid", "user")}, None),
])
def test_what_a_run_needs_and_the_refusal_without_it(kernel, lacking):
    found = linux.missing(kernel)
    assert (found is None) if lacking is None else (lacking in found)


@pytest.mark.parametrize("ipc", [True, False])
def test_the_seccomp_program_refuses_what_it_lists_and_nothing_else(ipc):
    """The BPF program, run by a tiny interpreter of its four kinds of steps."""
    def run(program, arch, nr):
        acc, i = 0, 0
        while True:
            code, jt, jf, k = program[i]
            if code == 0x20:
                acc, i = (arch if k == 4 else nr), i + 1
            elif code in (0x15, 0x35):
                i += 1 + (jt if (acc == k if code == 0x15 else acc >= k) else jf)
            else:
                return k

    program = linux.seccomp_program("x86_64", ipc)
    x86 = 0xC000003E
    assert run(program, x86, 0) == run(program, x86, 59) == 0x7FFF0000               # read, execve
    assert run(program, x86, 41) == 0x50000 | 13                                     # socket: EACCES
    assert run(program, x86, 425) == 0x50000 | 38                                    # io_uring_setup: ENOSYS
    assert all(run(program, x86, nr) == 0x50001 for nr in (248, 249, 250, 90, 91, 268, 76, 280, 188))
    assert run(program, x86, 29) == (0x7FFF0000 if ipc else 0x50001)                 # shmget
    assert run(program, 0x40000003, 0) == run(program, x86, 0x40000000 | 1) == 0x50001  # i386, x32


@pytest.mark.slow
def test_without_landlock_grade_refuses_and_unconfined_says_so_in_every_result(tmp_path, run_cli):
    nbfactory.make(tmp_path / "subs" / "ada.ipynb", A)
    nbfactory.make(tmp_path / "subs" / "ben.ipynb", A, solved=False)
    env = {linux.NO_LANDLOCK_ENV: "1"}
    proc = run_cli("grade", A, tmp_path / "subs", "--backend", "local", "--out", tmp_path / "out", env=env)
    assert proc.returncode == 2 and not (tmp_path / "out" / "gradebook.sqlite").exists()
    line = proc.stderr.strip().splitlines()[-1]
    assert "Landlock" in line and "--backend docker" in line and "--unconfined" in line, proc.stderr
    proc = run_cli("grade", A, tmp_path / "subs", "--backend", "local", "--unconfined", "--json",
                   "--out", tmp_path / "out", env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json_lines(proc.stdout)
    assert {s: r["score"] for s, r in results.items()} == {"ada": 22.0, "ben": 0.0}
    assert all(r["sandbox"] == {"backend": "local", "confined": False, "note": r["sandbox"]["note"]}
               and "unconfined" in r["sandbox"]["note"] for r in results.values())
    assert "runs unconfined" in proc.stderr
    # A student's self-check may run unconfined, with a note.
    proc = run_cli("check", A, tmp_path / "subs" / "ada.ipynb", "--backend", "local", env=env)
    assert proc.returncode == 0 and "running unconfined" in proc.stderr, proc.stderr[-2000:]


@pytest.mark.slow
@needs_landlock
def test_the_escape_attacks_do_escape_an_unconfined_run(tmp_path, run_cli, cache_dir):
    """The reading, probing and connecting attacks, graded with --unconfined: each finds its way
    out (and loses its exercise for it), so their honest scores on the confined backends mean
    the confinement held, not that the attack was broken. (The writing attack is left out:
    unconfined, it would create files outside the test's folders.)"""
    from tests.test_adversarial import LoopbackServer, host_facts

    server = LoopbackServer()
    server.start()
    victim = subprocess.Popen(["sleep", "300"])
    out, mark = tmp_path / "out", tmp_path / "mark" / "PWNED"
    mark.parent.mkdir()
    run_cli("grade", A, nbfactory.make(tmp_path / "warm" / "solution.ipynb", A), "--out", tmp_path / "warm_out",
            "--backend", "local")  # a reference cache to find
    facts = {**host_facts("local", out, mark, cache_dir), "PORT": server.port, "VICTIM": victim.pid,
             "PID_NAMESPACE": True}
    names = ("reads_grader_files", "sees_host_processes", "network_access")
    try:
        for attack in (a for a in ATTACKS if a.name in names):
            attack.build(tmp_path / "subs", out, mark, (), facts)
        proc = run_cli("grade", A, tmp_path / "subs", "--backend", "local", "--unconfined", "--json",
                       "--out", out, "--jobs", "2")
    finally:
        victim.kill()
        server.sock.close()
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json_lines(proc.stdout)
    for name in names:
        assert results[name]["score"] < 22.0, name
        assert "ESCAPED" in (out / "logs" / A / f"{name}.log").read_text(), name
    assert server.connections >= 1
