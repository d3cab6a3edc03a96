"""An assignment's data files in a run: staged read-only by the grader, linked by the worker.

The grader copies the files (``Job.data``: name, path here) into a folder of its own,
files 0444 and folder 0555, which the run may read and never write: the local backend
adds the folder to the run's Landlock read list (writing needs a write right it never
gets), the Docker backend mounts it read-only at ``/data``. The job then carries
``"data": [[name, path in the sandbox]]`` and the worker links each name into its
working folder before the first cell, so a notebook opens ``"points.csv"`` as it would
next to the notebook. A student may remove the link (it is in their scratch folder) but
not change the file behind it.
"""

from __future__ import annotations

import hashlib
import os
import shutil

MOUNT = "/data"   # where the Docker backend mounts the staged folder


def digest(files: list[tuple[str, str]]) -> str:
    """Changes when a name or a file's bytes change (the key of a staged folder)."""
    h = hashlib.sha256()
    for name, path in sorted(files):
        with open(path, "rb") as fh:
            h.update(name.encode() + b"\0" + hashlib.sha256(fh.read()).digest())
    return h.hexdigest()[:16]


def stage(files: list[tuple[str, str]], folder: str) -> str:
    """Copy ``files`` into ``folder`` (created), readable by every user and writable by none.
    A folder already staged (a run's second attempt) is kept as it is."""
    if os.path.isdir(folder):
        return folder
    from autograder.sandbox.base import SandboxError

    os.makedirs(folder)
    try:
        for name, path in files:
            target = os.path.join(folder, name)
            shutil.copyfile(path, target)
            os.chmod(target, 0o444)
    except OSError as exc:  # the machine's problem, not the student's: retried, then reported
        shutil.rmtree(folder, ignore_errors=True)
        raise SandboxError(f"cannot stage the data file {name}: {exc}") from None
    os.chmod(folder, 0o555)
    return folder


def unstage(folder: str) -> None:
    if os.path.isdir(folder):
        os.chmod(folder, 0o755)
        shutil.rmtree(folder, ignore_errors=True)


def link_into_cwd(entries: list) -> None:
    """(worker) A link in the working folder to each staged file."""
    for name, path in entries:
        if os.path.basename(name) == name and not os.path.lexists(name):
            os.symlink(path, name)
