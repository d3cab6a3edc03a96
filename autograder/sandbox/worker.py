"""The in-sandbox side: execute a submission's cells, then run probes.

Runs as ``python -m autograder.sandbox.worker JOB.json|- FD|stdout`` inside the
sandbox (a child process of the local backend, or a container). It reports
progress and recorded values as JSON lines on file descriptor FD (or on the
process's original stdout); whatever the student's code prints is never parsed. It decides no
grade: it only records what the student's functions returned.

The events and the one order the grader accepts them in are in
:mod:`autograder.sandbox.events`.

The parent enforces every time limit: when this process hangs or dies in a
cell or a check, the parent records that and restarts it past that point.
"""

from __future__ import annotations

import json
import linecache
import os
import re
import sys
import time

_MAGIC = re.compile(r"^\s*[%!]", re.MULTILINE)


def configure_tensorflow() -> dict:
    """Same numerics for reference and student: determinism on, TF32 off.

    Grappler's graph rewrites are off: they run again on every input pipeline Keras
    builds (one per epoch of ``model.fit``), which halves the time of a small full-batch
    fit (about 26 ms an epoch instead of 55 here), and the reference runs the same way."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except Exception:  # noqa: BLE001 - set too late or unsupported: the GPU still works
            pass
    device = "cpu"
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        device = f"gpu ({details.get('device_name', gpus[0].name)})"
    return {"tensorflow": tf.__version__, "device": device}


class CellRunner:
    """Executes cell sources in one namespace, like a kernel would."""

    def __init__(self) -> None:
        self.namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
        self._shell = None

    def _transform(self, source: str) -> str:
        if not _MAGIC.search(source):
            # IPython's cleanup (leading blank lines, a common indent), as a kernel runs a cell:
            # line numbers in messages then match those of the notebook's own check cells.
            from IPython.core.inputtransformer2 import TransformerManager

            return TransformerManager().transform_cell(source)
        if self._shell is None:  # only pay for IPython when a cell uses magics
            from IPython.core.interactiveshell import InteractiveShell

            self._shell = InteractiveShell.instance()
            self._shell.user_ns.update(self.namespace)
            self.namespace = self._shell.user_ns
        return self._shell.transform_cell(source)

    def run(self, index: int, source: str) -> None:
        filename = f"<cell {index}>"
        code = self._transform(source)
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        exec(compile(code, filename, "exec"), self.namespace)  # noqa: S102 - this is the sandbox


def open_channel(spec: str) -> int:
    """The events channel: an inherited fd, or (in a container) the original stdout.

    With "stdout", fd 1 is kept privately for events and then pointed at stderr,
    so whatever the student's code prints can never mix with the events.
    """
    if spec != "stdout":
        return int(spec)
    fd = os.dup(1)
    os.dup2(2, 1)
    return fd


def read_job(job_path: str) -> dict:
    """The job from a file, or with "-" from stdin (warm containers: a pipe whose other
    end only the run's client holds), after which stdin is /dev/null like a kernel's."""
    if job_path != "-":
        with open(job_path) as fh:
            return json.load(fh)
    chunks = []
    while chunk := os.read(0, 1 << 20):
        chunks.append(chunk)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return json.loads(b"".join(chunks))


def main(argv: list[str]) -> None:
    from autograder.checks.observe import error_summary, run_check
    from autograder.sandbox.events import Channel, Fault, StepStatus

    job_path, fd = argv[0], open_channel(argv[1])
    job = read_job(job_path)
    chan = Channel(fd)
    started = time.time()
    info = configure_tensorflow()

    # Check modules are loaded before any student code runs, so the probes the
    # worker holds are the instructor's, whatever the cells do to sys.modules.
    from autograder.checks.loading import load_modules

    checks: dict = {}
    for module in load_modules([tuple(pair) for pair in job["check_modules"]]):
        for check in getattr(module, "CHECKS", []):
            checks[check.id] = check
    from autograder.sandbox.datafiles import link_into_cwd

    link_into_cwd(job.get("data", []))
    runner = CellRunner()
    chan.send({"ev": "ready", **info, "setup_s": round(time.time() - started, 3)})

    skip_cells = set(job.get("skip_cells", []))
    for index, source in job["cells"]:
        if index in skip_cells:
            continue
        chan.send({"ev": "cell_start", "i": index})
        t0 = time.perf_counter()
        try:
            runner.run(index, source)
            chan.send({"ev": "cell_end", "i": index, "status": StepStatus.OK, "t": time.perf_counter() - t0})
        except BaseException as exc:  # noqa: BLE001 - a failing cell must not stop grading
            chan.send({"ev": "cell_end", "i": index, "status": StepStatus.ERROR, "t": time.perf_counter() - t0,
                       **error_summary(exc)})

    skip_checks = set(job.get("skip_checks", []))
    for check_id in job["checks"]:
        if check_id in skip_checks:
            continue
        chan.send({"ev": "check_start", "id": check_id})
        check = checks.get(check_id) or swapped_check(checks, check_id)
        if check is None:
            result = {"status": StepStatus.ERROR, "kind": Fault.PROBE, "exc_type": "UnknownCheck", "message": check_id}
        else:
            t0 = time.perf_counter()
            result = run_check(check, runner.namespace)
            result["t"] = time.perf_counter() - t0
        chan.send({"ev": "check_end", "id": check_id, **result})

    # Known mistakes (reference runs only): each redefines one function in a
    # copy of the namespace, and that exercise's probes run against it.
    for name, source, check_ids in job.get("variants", []):
        namespace = dict(runner.namespace)
        try:
            exec(compile(source, f"<mistake {name}>", "exec"), namespace)  # noqa: S102
            failed = None
        except BaseException as exc:  # noqa: BLE001 - recorded for each of its checks
            failed = {"status": StepStatus.ERROR, "kind": Fault.PROBE, **error_summary(exc)}
        for check_id in check_ids:
            vid = f"{name}::{check_id}"
            if vid in skip_checks:
                continue
            chan.send({"ev": "check_start", "id": vid})
            chan.send({"ev": "check_end", "id": vid, **(failed or run_check(checks[check_id], namespace))})
    chan.send({"ev": "done"})


def swapped_check(checks: dict, check_id: str):
    """A reference run's public check on its two ``swappable`` inputs exchanged (or None)."""
    from autograder.checks.spec import SWAPPED

    base = checks.get(check_id[:-len(SWAPPED)]) if check_id.endswith(SWAPPED) else None
    if base is None or base.hidden or not base.swappable:
        return None
    return base.swapped()


def run_and_exit(argv: list[str]) -> None:
    """Run, then leave with os._exit: no atexit hook or finalizer a student registered runs."""
    status = 0
    try:
        main(argv)
    except BaseException:  # noqa: BLE001 - report, then exit
        import traceback

        traceback.print_exc()
        status = 3
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


if __name__ == "__main__":
    from autograder.sandbox.linux import apply_run_rlimits_from_env

    apply_run_rlimits_from_env()  # a cold Docker run, where the worker is the container's process
    run_and_exit(sys.argv[1:])
