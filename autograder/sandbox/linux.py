"""The Linux plumbing of the sandboxes, written once: processes, limits, uids, confinement.

Used by the local backend's run supervisors and workers (forked from its warm server, or
started cold) and by the container server and its workers. Standard library only, and
nothing imported at module level that a forked worker would pay for.

* **Process control**: die with the parent, child subreaper, /proc scans, reaping,
  killing every descendant, exit codes (a signal n is reported as 128 + n).
* **rlimits** of a run (address space, CPU, file size, open files, processes).
* **Sandbox uids**: a range of uids that belong to no host account, a pair per
  container or one per local run.
* **Confinement** of a local run, with what the kernel gives an unprivileged process
  (see :func:`probe`, :func:`isolate`, :func:`confine`):

  - namespaces: a new network namespace (only a down loopback), IPC namespace and PID
    namespace (the run sees its own processes only, and all of them die with its
    init); with a user namespace where the grader is not root and the kernel allows it;
  - identity: as root, the run drops to a uid of its own, with no capabilities;
  - Landlock: read and execute only what a run needs (the Python installation, the
    grader's package, system libraries, its own /proc entry), write only its scratch
    folder; no TCP; signals and abstract Unix sockets scoped to the run;
  - seccomp: ``socket()`` refused for every family (the run reports on pipes it is
    given; a Unix socket could reach a host service, Docker's included, which neither
    Landlock nor a network namespace separates), ``io_uring`` refused (it could open
    sockets past the filter), the kernel keyrings (shared across namespaces), changes
    of permissions, owners, times and extended attributes (which Landlock does not
    cover) and, without an IPC namespace, System V IPC and POSIX queues;
  - ``no_new_privs``, umask 077, and the OOM killer's first choice.
"""

from __future__ import annotations

import ctypes
import errno
import itertools
import json
import os
import pwd
import secrets
import signal
import time

from autograder.errors import SandboxError, UidRangeError  # noqa: F401 - raised here, caught by callers

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

# The one table of syscall numbers, for every syscall called or filtered by number (without a
# libc wrapper, or refused by seccomp): (x86_64, aarch64), None where an arch lacks it;
# Landlock's are the same on every arch.
_SYSCALLS = {
    "landlock_create_ruleset": 444, "landlock_add_rule": 445, "landlock_restrict_self": 446,
    "ioprio_get": (252, 31), "sched_getattr": (315, 275),
    "socket": (41, 198), "io_uring_setup": (425, 425),
    "add_key": (248, 217), "request_key": (249, 218), "keyctl": (250, 219),
    "chmod": (90, None), "fchmod": (91, 52), "fchmodat": (268, 53), "fchmodat2": (452, 452), "chown": (92, None),
    "fchown": (93, 55), "lchown": (94, None), "fchownat": (260, 54), "utime": (132, None), "utimes": (235, None),
    "futimesat": (261, None), "utimensat": (280, 88), "setxattr": (188, 5), "lsetxattr": (189, 6),
    "fsetxattr": (190, 7), "removexattr": (197, 14), "lremovexattr": (198, 15), "fremovexattr": (199, 16),
    "truncate": (76, 45), "shmget": (29, 194), "semget": (64, 190), "msgget": (68, 186), "mq_open": (240, 180),
}
_MACHINES = ("x86_64", "aarch64")   # the columns of _SYSCALLS


def syscall_number(name: str, machine: str | None = None) -> int | None:
    """``name``'s number on ``machine`` (this one by default); None where it has none."""
    numbers = _SYSCALLS[name]
    if isinstance(numbers, int):
        return numbers
    machine = machine or os.uname().machine
    return numbers[_MACHINES.index(machine)] if machine in _MACHINES else None


def _syscall(name: str, *args) -> int | None:
    """A syscall by name; None where this machine has no number for it."""
    number = syscall_number(name)
    return None if number is None else _libc.syscall(number, *args)


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise SandboxError(f"{what}: {os.strerror(code)} (errno {code})")
    return result


# ---------------------------------------------------------------- process control


def die_with_parent(expected_parent: int | None = None) -> None:
    """SIGKILL this process when its parent dies (a grader killed with SIGKILL included).

    ``expected_parent`` closes the race where the parent died before the call.
    """
    parent = os.getppid() if expected_parent is None else expected_parent
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(137)


def expected_parent() -> int | None:
    value = os.environ.pop("AUTOGRADER_PARENT_PID", "")
    return int(value) if value.isdigit() else None


def subreaper() -> None:
    """Orphans of every process below this one are re-parented here, not to init."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def set_dumpable(on: bool) -> None:
    _libc.prctl(PR_SET_DUMPABLE, int(on), 0, 0, 0)


def parents() -> dict[int, int]:
    """pid -> parent pid of every live process, read from /proc."""
    parent_of: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        parent_of[int(name)] = int(fields[1])
    return parent_of


def descendants(root: int) -> list[int]:
    """All live descendants of ``root``."""
    parent_of = parents()
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parent_of.items() if pp == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_all(deadline_s: float = 10.0) -> int:
    """SIGKILL every descendant until none is left; returns how many were killed."""
    me, killed, end = os.getpid(), 0, time.monotonic() + deadline_s
    while time.monotonic() < end:
        pids = descendants(me)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.01)
        reap()
    reap()
    return killed


# Attributes a same-user process can change from outside, and what outlives processes: the
# container server checks the first and removes the second after every run.
IOPRIO_WHO_PROCESS = 1
IPC_RMID = 0


def ioprio() -> int | None:
    """This process's I/O priority (None on an unknown arch)."""
    return _syscall("ioprio_get", IOPRIO_WHO_PROCESS, 0)


def sched_attr() -> bytes | None:
    """This process's full ``struct sched_attr`` (policy, nice, utilisation clamps...)."""
    buf = ctypes.create_string_buffer(56)
    size = _syscall("sched_getattr", 0, buf, ctypes.c_uint(56), ctypes.c_uint(0))
    return buf.raw if size == 0 else None


def remove_sysv_ipc() -> bool:
    """Remove every System V shared memory segment, semaphore set and message queue this
    process may; False if one stayed."""
    calls = {"shm": lambda i: _libc.shmctl(i, IPC_RMID, None),
             "sem": lambda i: _libc.semctl(i, 0, IPC_RMID),
             "msg": lambda i: _libc.msgctl(i, IPC_RMID, None)}
    clean = True
    for kind, remove in calls.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            if remove(int(row.split()[1])) != 0:
                clean = False
    return clean


def exit_code(wait_status: int) -> int:
    """A child's wait status as an exit code to pass on: 128 + n for a signal n."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


def wait_for(pid: int) -> int:
    while True:
        try:
            return exit_code(os.waitpid(pid, 0)[1])
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue


# ---------------------------------------------------------------- rlimits

RUN_RLIMITS_ENV = "AUTOGRADER_RUN_RLIMITS"


def _limit(kind: int, value: int) -> None:
    """Soft and hard limit ``value``, or the hard limit already there if lower."""
    import resource

    hard = resource.getrlimit(kind)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def apply_rlimits(limits: dict) -> None:
    """The rlimits of one run, from plain data (keys optional).

    ``address_space_mb``: a memory bomb meets a MemoryError. ``nproc``: a fork bomb's forks
    fail before the kernel copies TensorFlow's address space (a pids cgroup refuses a fork
    only after that copy); it counts per user, which is why runs have uids of their own.
    """
    import resource

    if "address_space_mb" in limits:
        _limit(resource.RLIMIT_AS, int(limits["address_space_mb"]) * 2**20)
    if "cpu_s" in limits:
        cpu = int(limits["cpu_s"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    if "file_mb" in limits:
        _limit(resource.RLIMIT_FSIZE, int(limits["file_mb"]) * 2**20)
    if "nofile" in limits:
        _limit(resource.RLIMIT_NOFILE, int(limits["nofile"]))  # TensorFlow holds a few hundred
    if "nproc" in limits:
        _limit(resource.RLIMIT_NPROC, max(int(limits["nproc"]), 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def apply_run_rlimits_from_env() -> None:
    """In a container: the rlimits of one run, which the grader puts in the environment."""
    apply_rlimits(json.loads(os.environ.pop(RUN_RLIMITS_ENV, "{}")))


def processes_of(uid: int) -> int:
    """How many processes and threads of ``uid`` are alive (what RLIMIT_NPROC counts)."""
    count = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields.get("Threads", "1"))
        except (OSError, ValueError, KeyError):
            continue
    return count


# ---------------------------------------------------------------- sandbox uids

# Each container gets uids of its own: the students' (even) and its client's (the next); a
# local run as root gets one. Per-user kernel limits (RLIMIT_NPROC, inotify, pipe buffers,
# mqueue bytes) then hold per sandbox. Host accounts are skipped;
# AUTOGRADER_SANDBOX_UIDS=FIRST-LAST moves the range (e.g. into a userns-remap range).
UID_BASE, UID_PAIRS = 2_000_000, 1 << 20
UIDS_ENV = "AUTOGRADER_SANDBOX_UIDS"
_uid_pairs = itertools.count(secrets.randbelow(UID_PAIRS))  # another grader on this host starts elsewhere




def uid_range() -> tuple[int, int]:
    text = os.environ.get(UIDS_ENV, f"{UID_BASE}-{UID_BASE + 2 * UID_PAIRS - 1}")
    first, _, last = text.partition("-")
    if not (first.isdigit() and last.isdigit() and 0 < int(first) < int(last)):
        raise UidRangeError(f"{UIDS_ENV} must be FIRST-LAST, two uids above 0 with room for a pair, not {text!r}")
    return int(first), int(last)


def _host_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


def sandbox_uid() -> int:
    """A fresh uid pair's first uid; the pair's second is free for a helper of the sandbox."""
    first, last = uid_range()
    pairs = (last - first + 1) // 2
    for _ in range(min(pairs, 256)):
        uid = first + 2 * (next(_uid_pairs) % pairs)
        if not (_host_account(uid) or _host_account(uid + 1)):
            return uid
    raise SandboxError(f"every sandbox uid tried in {first}-{last} belongs to a host account (see {UIDS_ENV})")


# ---------------------------------------------------------------- confinement: what the kernel offers

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
_NAMESPACE_FLAGS = {"user": CLONE_NEWUSER, "net": CLONE_NEWNET, "ipc": CLONE_NEWIPC, "pid": CLONE_NEWPID,
                    "mount": CLONE_NEWNS}
NO_LANDLOCK_ENV = "AUTOGRADER_NO_LANDLOCK"       # tests: behave as on a kernel without Landlock
NO_NAMESPACES_ENV = "AUTOGRADER_NO_NAMESPACES"   # tests: as where namespaces are not allowed (Ubuntu)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    if os.environ.get(NO_LANDLOCK_ENV) == "1":
        return 0
    version = _syscall("landlock_create_ruleset", None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return int(version) if version > 0 else 0


def _in_child(action) -> bool:
    """Whether ``action()`` succeeds in a forked child (so nothing here changes)."""
    pid = os.fork()
    if pid == 0:
        try:
            action()
            os._exit(0)
        except BaseException:  # noqa: BLE001 - the answer is the exit status
            os._exit(1)
    return wait_for(pid) == 0


def _enter(namespaces: tuple) -> None:
    flags = 0
    for name in namespaces:
        flags |= _NAMESPACE_FLAGS[name]
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(ctypes.c_int(flags)), f"unshare({', '.join(namespaces)})")
    if "user" in namespaces:  # map our own ids only: nobody in the namespace is root
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as fh:
                fh.write(text)


_PROBED: dict | None = None


def probe() -> dict:
    """What this kernel and this user allow a run, probed once per grader process."""
    global _PROBED
    if _PROBED is None:
        root = os.geteuid() == 0
        wanted = ("net", "ipc", "pid") + (("mount",) if root else ("user",))
        # Not allowed e.g. under Ubuntu's AppArmor, which gives a new user namespace no capabilities.
        allowed = os.environ.get(NO_NAMESPACES_ENV) != "1" and _in_child(lambda: _enter(wanted))
        _PROBED = {"landlock": landlock_abi(), "namespaces": wanted if allowed else (), "root": root,
                   "seccomp": _in_child(lambda: _install_seccomp(allow_all=True))}
    return dict(_PROBED)


def missing(kernel: dict) -> str | None:
    """What the kernel lacks to contain a run (None: nothing), in words for a one-line refusal."""
    if not kernel["landlock"]:
        return "Landlock (Linux 5.13+, enabled in the kernel's LSMs)"
    if not kernel["seccomp"]:
        return "seccomp filters"
    # A run under a uid of its own (the grader is root) can signal no other uid's process anyway.
    if "pid" not in kernel["namespaces"] and kernel["landlock"] < 6 and not kernel.get("root"):
        return ("a PID namespace or Landlock's signal scoping (ABI 6, Linux 6.12+), without which a run "
                "could signal your other processes")
    return None


def plan(scratch: str, read: list[str], uid: int | None) -> dict:
    """What a run's supervisor and worker apply (plain data: it crosses to the warm server)."""
    kernel = probe()
    return {"scratch": scratch, "read": read, "uid": uid, "landlock": kernel["landlock"],
            "namespaces": list(kernel["namespaces"]), "seccomp": kernel["seccomp"]}


def describe(conf: dict | None) -> dict:
    """What a result records of the confinement a run had."""
    if conf is None:
        return {"confined": False}
    return {"confined": True, "landlock_abi": conf["landlock"], "namespaces": conf["namespaces"],
            "own_uid": conf["uid"] is not None, "seccomp": conf["seccomp"], "no_new_privs": True}


# ---------------------------------------------------------------- confinement: the supervisor's part


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(_libc.mount(source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000


def _expose(paths: list[str]) -> None:
    """(root, in a private mount namespace) Make ``paths`` reachable for the run's own uid.

    An ancestor that other users cannot search (a 0700 home holding the Python
    installation) is covered, in this namespace only, by an empty tmpfs holding just the
    way to these paths, each bound back in place. Access itself is Landlock's to decide."""
    blocked: dict[str, list[str]] = {}
    for path in sorted(set(paths)):
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            ancestor = "/" + "/".join(parts[:depth])
            if not os.stat(ancestor).st_mode & 0o001:
                blocked.setdefault(ancestor, []).append(path)
                break
    if not blocked:
        return
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    for ancestor, below in blocked.items():
        below = [p for p in below if not any(p != q and p.startswith(q + "/") for q in below)]
        handles = {p: os.open(p, os.O_PATH | os.O_CLOEXEC) for p in below}
        _mount("tmpfs", ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0711,size=64k")
        for path, fd in handles.items():
            os.makedirs(path, mode=0o711, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
            os.close(fd)


def isolate(conf: dict) -> None:
    """In the run's supervisor, before the worker is forked: its own uid's scratch folder and
    its namespaces (the PID namespace holds the supervisor's next child, its init)."""
    if conf["uid"] is not None:
        os.chown(conf["scratch"], conf["uid"], conf["uid"])
    os.chmod(conf["scratch"], 0o700)  # nobody else's, and the run cannot chmod it open (seccomp)
    if conf["namespaces"]:
        _enter(tuple(conf["namespaces"]))
    if "mount" in conf["namespaces"] and conf["uid"] is not None:
        _expose([*conf["read"], conf["scratch"]])


def init(start_worker) -> None:
    """PID 1 of the run's namespace: start the worker, reap orphans until it exits, then exit
    with its code. The kernel then kills whatever else the run left in the namespace."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    worker = os.fork()
    if worker == 0:
        start_worker()
        os._exit(99)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if pid == worker:
            os._exit(exit_code(status))


def supervise(conf: dict | None, limits: dict, start_worker) -> int:
    """In a run's supervisor (a fresh process): isolate the run, fork its worker (which takes
    ``limits`` and, unless ``conf`` is None (an unconfined run), :func:`confine`, then calls
    ``start_worker``, which never returns), wait for it, and leave no process of the run
    alive. Returns the exit code to report."""
    pid_namespace = conf is not None and "pid" in conf["namespaces"]
    if conf is not None:
        isolate(conf)
    if not pid_namespace:
        subreaper()

    def worker() -> None:
        if conf is not None:
            confine(conf, limits)
        else:
            apply_rlimits(limits)
        start_worker()

    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if pid_namespace:
            init(worker)
        else:
            die_with_parent()
            worker()
        os._exit(99)

    def on_term(signum: int, frame: object) -> None:
        try:
            os.kill(child, signal.SIGKILL)  # with a PID namespace: every process of the run
        except ProcessLookupError:
            pass
        kill_all()
        os._exit(137)

    signal.signal(signal.SIGTERM, on_term)
    code = wait_for(child)
    kill_all()
    return code


# ---------------------------------------------------------------- confinement: the worker's part

_FS = {  # Landlock filesystem rights, by the ABI that brought them
    "execute": (1 << 0, 1), "write_file": (1 << 1, 1), "read_file": (1 << 2, 1), "read_dir": (1 << 3, 1),
    "remove_dir": (1 << 4, 1), "remove_file": (1 << 5, 1), "make_char": (1 << 6, 1), "make_dir": (1 << 7, 1),
    "make_reg": (1 << 8, 1), "make_sock": (1 << 9, 1), "make_fifo": (1 << 10, 1), "make_block": (1 << 11, 1),
    "make_sym": (1 << 12, 1), "refer": (1 << 13, 2), "truncate": (1 << 14, 3), "ioctl_dev": (1 << 15, 5),
}
_FILE_RIGHTS = ("execute", "write_file", "read_file", "truncate", "ioctl_dev")
READ_ONLY = ("execute", "read_file", "read_dir")
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/sys/devices/system/cpu")
PROC_FILES = ("/proc/cpuinfo", "/proc/meminfo", "/proc/stat")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _rights(abi: int, names: tuple) -> int:
    return sum(bit for name, (bit, since) in _FS.items() if name in names and since <= abi)


def _landlock_ruleset(abi: int, read: list[str], scratch: str) -> int:
    """A ruleset: read and execute ``read`` and the system's libraries, everything in
    ``scratch``, nothing else; with ABI 4+ no TCP, with 6+ signals and abstract Unix
    sockets scoped to the run."""
    handled = _rights(abi, tuple(_FS))
    attr = _RulesetAttr(handled, 0b11 if abi >= 4 else 0, 0b11 if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = _check(_syscall("landlock_create_ruleset", ctypes.byref(attr), ctypes.c_size_t(size),
                                  ctypes.c_uint32(0)), "landlock_create_ruleset")

    def allow(path: str, names: tuple) -> None:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return  # not on this machine
        try:
            is_dir = os.path.isdir(f"/proc/self/fd/{fd}")
            rights = _rights(abi, names if is_dir else tuple(n for n in names if n in _FILE_RIGHTS))
            rule = _PathBeneath(rights & handled, fd)
            _check(_syscall("landlock_add_rule", ruleset, 1, ctypes.byref(rule), ctypes.c_uint32(0)),
                   f"landlock_add_rule {path}")
        finally:
            os.close(fd)

    for path in [*read, *SYSTEM_READ]:
        allow(path, READ_ONLY)
    allow("/proc/self", ("read_file", "read_dir"))  # this process's own entry: /proc/<pid>
    for path in PROC_FILES:
        allow(path, ("read_file",))
    for path in DEVICES:
        allow(path, ("read_file", "write_file", "ioctl_dev"))
    allow(scratch, tuple(_FS))
    return ruleset


# seccomp: what Landlock and the namespaces leave open, refused per syscall (errno), and any
# other syscall ABI (x32, i386, a foreign arch). Numbers in _SYSCALLS.
_DENIED = {
    # sockets: the run reports on pipes; a Unix socket could reach a host service (Docker's)
    "socket": errno.EACCES, "io_uring_setup": errno.ENOSYS,
    # the kernel keyrings: shared by runs (and the TA's session) across every namespace
    **dict.fromkeys(("add_key", "request_key", "keyctl"), errno.EPERM),
    # metadata Landlock does not cover: permissions, owners, times, extended attributes
    **dict.fromkeys(("chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "utime",
                     "utimes", "futimesat", "utimensat", "setxattr", "lsetxattr", "fsetxattr", "removexattr",
                     "lremovexattr", "fremovexattr"), errno.EPERM),
    # truncate(path): Landlock mediates it from ABI 3 only (an open for writing always)
    "truncate": errno.EPERM,
}
# System V IPC and POSIX queues outlive a run and are shared
_DENIED_WITHOUT_IPC_NAMESPACE = dict.fromkeys(("shmget", "semget", "msgget", "mq_open"), errno.EPERM)
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp_program(machine: str, ipc_namespace: bool) -> list[tuple]:
    """The BPF program: (code, jt, jf, k) steps."""
    arch = _AUDIT_ARCH[machine]
    table = {**_DENIED, **({} if ipc_namespace else _DENIED_WITHOUT_IPC_NAMESPACE)}
    numbers = {name: syscall_number(name, machine) for name in table}
    denied = [(numbers[name], code) for name, code in table.items() if numbers[name] is not None]
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    rules = []
    for nr, code in denied:  # each: jump over the return unless it is this syscall
        rules += [(jeq, 0, 1, nr), (ret, 0, 0, _RET_ERRNO | code)]
    tail = [(ret, 0, 0, _RET_ALLOW), (ret, 0, 0, _RET_ERRNO | errno.EPERM)]  # the last: a foreign ABI
    head = [(ld, 0, 0, 4), None, (ld, 0, 0, 0), None]
    foreign = len(head) + len(rules) + len(tail) - 1        # index of the foreign-ABI return
    head[1] = (jeq, 0, foreign - 2, arch)                   # another arch (i386 on x86_64 included)
    head[3] = (jge, foreign - 4, 0, 0x40000000)             # x32 syscalls
    return head + rules + tail


def _install_seccomp(allow_all: bool = False, ipc_namespace: bool = True) -> None:
    machine = os.uname().machine
    if machine not in _AUDIT_ARCH:
        raise SandboxError(f"no seccomp filter for {machine}")
    program = [(0x06, 0, 0, _RET_ALLOW)] if allow_all else seccomp_program(machine, ipc_namespace)
    filters = (_SockFilter * len(program))(*[_SockFilter(*step) for step in program])
    fprog = _SockFprog(len(program), filters)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.prctl(PR_SET_SECCOMP, 2, ctypes.byref(fprog), 0, 0), "seccomp")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    """No capabilities left (those a new user namespace gives its first process included)."""
    _check(_libc.capset(ctypes.byref(_CapHeader(0x20080522, 0)), (_CapData * 2)()), "capset")


def confine(conf: dict, limits: dict) -> None:
    """In the worker, before any student code: its rlimits, its own uid (as root), no
    capabilities, no_new_privs, Landlock and seccomp. Any refusal ends the process: a run
    never goes on less confined than its plan says."""
    try:
        limits = dict(limits)
        if conf["uid"] is None and "nproc" in limits:  # sharing the grader's uid: room above its count
            limits["nproc"] = processes_of(os.getuid()) + int(limits["nproc"])
        ruleset = _landlock_ruleset(conf["landlock"], conf["read"], conf["scratch"]) if conf["landlock"] else None
        apply_rlimits(limits)
        os.umask(0o077)
        try:  # under memory pressure the kernel kills a run first, never the grader or a TA's session
            with open("/proc/self/oom_score_adj", "w") as fh:
                fh.write("1000")
        except OSError:
            pass
        if conf["uid"] is not None:
            uid = conf["uid"]
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)  # from root: every capability goes with it
            os.environ.update(USER="sandbox", LOGNAME="sandbox")
        elif "user" in conf["namespaces"]:
            _drop_capabilities()
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        if ruleset is not None:
            _check(_syscall("landlock_restrict_self", ruleset, ctypes.c_uint32(0)), "landlock_restrict_self")
            os.close(ruleset)
        if conf["seccomp"]:
            _install_seccomp(ipc_namespace="ipc" in conf["namespaces"])
    except (OSError, SandboxError) as exc:
        os.write(2, f"autograder: the run could not be confined: {exc}\n".encode())
        os._exit(70)

