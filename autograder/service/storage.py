"""Uploaded notebooks on disk, content-addressed: ``uploads/ab/<sha256>.ipynb``, written atomically
(a temporary file in the same folder, fsynced, then renamed), so a stored file is always whole."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings


def content_path(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return Path(settings.UPLOAD_ROOT) / sha256[:2] / f"{sha256}.ipynb"


def spool(chunks, limit: int) -> tuple[Path, str, int] | None:
    """The upload written to a temporary file under the upload root, with its sha256 and size;
    None (and nothing left behind) when it is over ``limit`` bytes."""
    root = Path(settings.UPLOAD_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-", suffix=".ipynb")
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise _TooLarge
                digest.update(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
    except _TooLarge:
        os.unlink(tmp)
        return None
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp), digest.hexdigest(), size


def keep(tmp: Path, sha256: str) -> Path:
    """Move a spooled file to its content address (atomic; an identical file already there stays)."""
    final = content_path(sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, 0o600)   # the owner's only (the service home is 0700 too)
    os.replace(tmp, final)
    dir_fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final


def discard(tmp: Path) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


class _TooLarge(Exception):
    pass
