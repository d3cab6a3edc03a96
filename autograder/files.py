"""File names and writes: a student id as a file name, one-to-one (:func:`safe_name`); atomic
writes, so a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

# Ids kept as they are: word characters and .@+- only, not starting with a dot or a dash
# (no separators, dot-files, `..` or option-like names), at most 120 bytes of UTF-8.
_SAFE = re.compile(r"[\w@+][\w.@+-]*")


def safe_name(student: str) -> str:
    """A file name for a student id, one-to-one: two ids never share a name.

    A safe id is its own name. Any other id gets a readable part and ``~`` with a hash of
    the whole id; safe ids never contain ``~``, so they cannot collide with these.
    """
    if _SAFE.fullmatch(student) and len(student.encode("utf-8")) <= 120:
        return student
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    readable = re.sub(r"[^\w.@+-]", "_", student).lstrip(".-")
    readable = readable.encode("utf-8", "ignore")[:80].decode("utf-8", "ignore")
    return f"{readable or '_'}~{digest}"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's content, read in chunks (memory stays flat)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_text(path: Path, text: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def write_json(path: Path, data: object) -> Path:
    return write_text(path, json.dumps(data, indent=1, sort_keys=True))


def remove_tree(path: str, keep_root: bool = False) -> bool:
    """Delete a folder a student wrote to (or only its content); True if nothing is left.

    Folders first get owner permissions, top-down, so a ``chmod 000`` cannot shield
    anything; what still cannot be deleted is reported, never raised.
    """
    import shutil

    for root, dirs, _ in os.walk(path):  # never follows links: a link to / is unlinked below
        for name in dirs:
            # chmod of what O_NOFOLLOW opened (through /proc, which also works on an O_PATH
            # descriptor of a folder we cannot read): never the target of a link put there.
            try:
                fd = os.open(os.path.join(root, name), os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                os.chmod(f"/proc/self/fd/{fd}", 0o700)
            except OSError:
                pass
            finally:
                os.close(fd)
    try:
        entries = [os.path.join(path, name) for name in os.listdir(path)] if keep_root else [path]
    except FileNotFoundError:
        return True
    for entry in entries:
        if os.path.isdir(entry) and not os.path.islink(entry):
            shutil.rmtree(entry, ignore_errors=True)
        else:
            try:
                os.unlink(entry)
            except FileNotFoundError:
                pass
            except OSError:
                return False
    return not os.path.lexists(path) or (keep_root and not os.listdir(path))
