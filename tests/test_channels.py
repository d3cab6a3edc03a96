"""The sandbox's process plumbing, written once: control channels, the warm servers' loop, syscalls.

Fast: pipes, socket pairs and a child Python without TensorFlow.
"""

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from autograder.sandbox import linux
from autograder.sandbox.control import (ControlReader, Malformed, control_line, parse_control, read_control,
                                        send_control)
from autograder.sandbox.local import ForkedRun


def pipe_with(data: bytes, close: bool = True) -> int:
    r, w = os.pipe()
    os.write(w, data)
    if close:
        os.close(w)
    return r


# ---------------------------------------------------------------- control channels


def test_a_message_round_trips_whatever_the_chunks():
    messages = [{"pid": 12}, {"status": 137, "fit": False}, {"plan": {"read": ["/usr", "/é"]}, "n": None}]
    data = b"".join(control_line(m) for m in messages)
    assert data.count(b"\n") == 3 and data.endswith(b"\n")
    reader = ControlReader()
    got = []
    for i in range(len(data)):  # one byte at a time: a line split anywhere
        reader.feed(data[i:i + 1])
        while (message := reader.take()) is not None:
            got.append(message)
    assert got == messages
    whole = ControlReader()
    whole.feed(data)  # several lines in one chunk: each taken in turn, none lost
    assert [whole.take(), whole.take(), whole.take(), whole.take()] == [*messages, None]


def test_read_control_leaves_what_follows_the_line_unread():
    fd = pipe_with(control_line({"nonce": "n", "job_bytes": 5}) + b"JOB..")
    try:
        assert read_control(fd) == {"nonce": "n", "job_bytes": 5}
        assert os.read(fd, 100) == b"JOB.."
    finally:
        os.close(fd)


def test_a_line_over_the_bound_is_malformed():
    reader = ControlReader(max_line=100)
    reader.feed(b"x" * 100)
    assert reader.take() is None  # at the bound, it may still end
    reader.feed(b"x")
    with pytest.raises(Malformed, match="over 100 bytes"):
        reader.take()
    ended = ControlReader(max_line=100)  # also when its end arrived in the same chunk
    ended.feed(b'{"a": "' + b"x" * 200 + b'"}\n')
    with pytest.raises(Malformed, match="over 100 bytes"):
        ended.take()
    exact = ControlReader(max_line=12)
    exact.feed(control_line({"a": 12345}))  # 12 bytes and its newline: accepted
    assert exact.take() == {"a": 12345}


def test_read_control_stops_at_the_bound():
    fd = pipe_with(b"y" * 1000 + b"\n", close=False)
    try:
        with pytest.raises(Malformed, match="over 100 bytes"):
            read_control(fd, max_line=100)
        assert len(os.read(fd, 2000)) == 1000 - 101 + 1  # read no further than the bound and one byte
    finally:
        os.close(fd)


@pytest.mark.parametrize("line", [b"{nope", b"", b"[1, 2]", b'"text"', b"null", b"[" * 100_000, b"\xff\xfe{}"])
def test_a_line_that_is_not_a_json_object_is_malformed(line):
    with pytest.raises(Malformed):
        parse_control(line)
    reader = ControlReader(max_line=200_000)
    reader.feed(line + b"\n" + control_line({"next": 1}))
    with pytest.raises(Malformed):
        reader.take()
    assert reader.take() == {"next": 1}  # the bad line is consumed; the channel goes on


def test_eof_in_the_middle_of_a_line():
    reader = ControlReader()
    reader.feed(b'{"status": 1')
    assert reader.take() is None
    reader.feed(b"")
    with pytest.raises(EOFError, match="middle of a line"):
        reader.take()
    clean = ControlReader()
    clean.feed(control_line({"pid": 3}))
    clean.feed(b"")
    assert clean.take() == {"pid": 3}  # what arrived before the end still counts
    with pytest.raises(EOFError, match="ended$"):
        clean.take()
    for data, match in ((b'{"plan": ', "middle of a line"), (b"", "ended$")):
        fd = pipe_with(data)
        with pytest.raises(EOFError, match=match):
            read_control(fd)
        os.close(fd)


def test_receive_on_a_socket_keeps_a_partial_line_across_timeouts():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        reader = ControlReader()
        theirs.sendall(b'{"status"')
        ours.settimeout(0.05)
        with pytest.raises(socket.timeout):
            reader.receive(ours)
        theirs.sendall(b': 7}\n')
        assert reader.receive(ours) == {"status": 7}
        assert send_control(theirs, {"pid": 1}) and reader.receive(ours) == {"pid": 1}
        ours.close()
        assert send_control(theirs, {"x": "y" * 2**20}) is False  # its reader is gone


def test_a_forked_runs_status_that_came_with_its_pid_is_not_lost():
    ours, theirs = socket.socketpair()
    with theirs:
        theirs.sendall(control_line({"pid": 4242}) + control_line({"status": 3}))
        replies = ControlReader()
        pid = replies.receive(ours)["pid"]
        run = ForkedRun(ours, pid, replies)
        assert run.wait(timeout=1) == 3


def test_a_forked_run_whose_server_went_away_is_killed_137():
    ours, theirs = socket.socketpair()
    run = ForkedRun(ours, 4242, ControlReader())
    assert run.poll() is None
    theirs.sendall(b'{"sta')
    theirs.close()
    assert run.wait(timeout=1) == 137


# ---------------------------------------------------------------- the warm servers' loop

SERVER = textwrap.dedent("""
    import os, sys
    from autograder.sandbox import warmserver
    requests, exited = int(sys.argv[1]), []

    def request():
        data = os.read(requests, 100)
        for code in data:  # one child per byte, exiting with it
            if os.fork() == 0:
                os._exit(code - 48)
        return bool(data)

    def reap():
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            exited.append(os.waitstatus_to_exitcode(status))
            print("exited", exited[-1], flush=True)

    warmserver.serve({requests: request}, reap)
    print("stopped", sorted(exited), flush=True)
""")


def test_the_warm_loop_says_ready_serves_reaps_and_stops_when_its_source_closes():
    r, w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(r)], pass_fds=(r,), stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(__file__))})
    os.close(r)
    try:
        assert proc.stdout.readline() == b"ready\n"
        os.write(w, b"3")
        assert proc.stdout.readline() == b"exited 3\n"  # SIGCHLD woke the loop: reaped at once
        os.write(w, b"12")
        assert sorted([proc.stdout.readline(), proc.stdout.readline()]) == [b"exited 1\n", b"exited 2\n"]
    finally:
        os.close(w)
    out, _ = proc.communicate(timeout=10)
    assert out == b"stopped [1, 2, 3]\n" and proc.returncode == 0


# ---------------------------------------------------------------- the syscall table


def test_syscall_numbers_per_machine():
    assert [linux.syscall_number("socket", m) for m in ("x86_64", "aarch64", "riscv64")] == [41, 198, None]
    assert linux.syscall_number("chmod", "aarch64") is None  # aarch64 has only fchmodat
    assert {linux.syscall_number("landlock_create_ruleset", m) for m in ("x86_64", "aarch64", "ppc64le")} == {444}
    assert [linux.syscall_number("ioprio_get", m) for m in ("x86_64", "aarch64")] == [252, 31]
    assert [linux.syscall_number("sched_getattr", m) for m in ("x86_64", "aarch64")] == [315, 275]
    filtered = {**linux._DENIED, **linux._DENIED_WITHOUT_IPC_NAMESPACE}
    assert set(filtered) <= set(linux._SYSCALLS)  # every refused syscall has its numbers


@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="numbers for x86_64 and aarch64")
def test_the_container_servers_attribute_calls_work_here():
    assert linux.ioprio() == linux.ioprio() and isinstance(linux.ioprio(), int) and linux.ioprio() >= 0
    attr = linux.sched_attr()
    assert isinstance(attr, bytes) and len(attr) == 56 and attr == linux.sched_attr()
    assert int.from_bytes(attr[4:8], "little") == os.sched_getscheduler(0)  # sched_policy


# ---------------------------------------------------------------- the warm container's client, without Docker

CLIENT = textwrap.dedent("""
    import os, socket, sys, threading
    from autograder.sandbox import containerserver
    containerserver.SOCKET_NAME = b"\\0autograder-test-client-%d" % os.getpid()
    reply = sys.argv[1].encode()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(containerserver.SOCKET_NAME)
    listener.listen(1)

    def server():  # what the container server does with the client's descriptors, then its report
        conn, _ = listener.accept()
        _, (job, events, output), _, _ = socket.recv_fds(conn, 1024, 3)
        os.write(output, b"output " + os.read(job, 100))
        os.write(events, b"a student's half line")
        conn.sendall(reply)
        conn.close()

    threading.Thread(target=server, daemon=True).start()
    sys.exit(containerserver.client())
""")


def run_client(reply: bytes, stdin: bytes, close: bool = False) -> tuple[int, list[bytes], bytes]:
    proc = subprocess.Popen([sys.executable, "-c", CLIENT, reply.decode()], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(__file__))})
    proc.stdin.write(stdin)
    proc.stdin.flush()  # stdin stays open unless asked: its end would ask the server to abort the run
    if close:
        proc.stdin.close()
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdin.close()
    return proc.wait(timeout=10), out.split(b"\n"), err


@pytest.mark.parametrize("reply, end", [
    (b'{"status": 3, "fit": true}\n', {"status": 3, "fit": True, "server": "ok"}),
    (b'{"status": 0, "fi', {"status": None, "fit": False, "server": "died"}),  # closed in the middle of a line
    (b'{"status"}\n', {"status": None, "fit": False, "server": "died"}),       # malformed
])
def test_the_container_client_reports_the_runs_end_on_a_line_of_its_own(reply, end):
    code, lines, err = run_client(reply, control_line({"nonce": "N0", "job_bytes": 3}) + b"JOB")
    assert code == 0, err.decode()[-2000:]
    assert lines[0] == b"a student's half line" and lines[-1] == b""
    assert parse_control(lines[1]) == {"ev": "end", "nonce": "N0", **end} and len(lines) == 3
    assert err == b"output JOB"


def test_the_container_client_without_a_whole_header_exits_2():
    code, lines, _ = run_client(b"", b'{"nonce": "N0", "job_', close=True)
    assert code == 2 and lines == [b""]
