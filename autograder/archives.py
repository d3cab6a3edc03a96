"""Zip archives as an LMS hands them out, opened without trusting them.

:func:`extract` unpacks the notebooks (``.ipynb``) and nested zips of an archive into a
private folder, and refuses the whole archive, in one line, when any member could write
outside that folder or exhaust the machine:

* a name that is absolute, has a drive, or climbs with ``..`` (zip slip);
* a member that is a symbolic link (its target is written as its content);
* more than ``MAX_MEMBERS`` members, a member declared larger than ``MAX_MEMBER_BYTES``,
  or more than ``MAX_TOTAL_BYTES`` declared in all (a zip bomb); the bytes actually
  inflated are counted too, so a lying header changes nothing;
* an encrypted member.

Other members (PDFs, images, macOS resource forks under ``__MACOSX`` and ``._*`` files)
are skipped, never written. A nested zip is unpacked into a folder of its own name, up
to ``MAX_DEPTH`` levels.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from autograder.errors import ArchiveRefused  # noqa: F401 - raised here, caught by callers

MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 256 * 2**20
MAX_TOTAL_BYTES = 2 * 2**30
MAX_DEPTH = 3
WANTED = (".ipynb", ".zip")




def _member_path(name: str) -> PurePosixPath:
    """The member's path, relative and below the archive's root; else the archive is refused."""
    parts = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts.parts:
        raise ArchiveRefused(f"member {name[:120]!r} points outside the archive")
    return parts


def _skipped(path: PurePosixPath) -> bool:
    return ("__MACOSX" in path.parts or path.name.startswith("._") or path.name.startswith(".")
            or not path.name.lower().endswith(WANTED))


def _check(archive: zipfile.ZipFile, label: str) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ArchiveRefused(f"{label}: {len(members):,} members, over the limit of {MAX_MEMBERS:,}")
    total = 0
    for info in members:
        _member_path(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveRefused(f"{label}: member {info.filename[:120]!r} is a symbolic link")
        if info.file_size > MAX_MEMBER_BYTES:
            raise ArchiveRefused(f"{label}: member {info.filename[:120]!r} declares {info.file_size:,} bytes, "
                                 f"over the limit of {MAX_MEMBER_BYTES:,}")
        if info.flag_bits & 0x1:
            raise ArchiveRefused(f"{label}: member {info.filename[:120]!r} is encrypted")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise ArchiveRefused(f"{label}: {total:,} bytes declared in all, over the limit of {MAX_TOTAL_BYTES:,}")
    return members


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: list[int]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out, archive.open(info) as src:
        written = 0
        while chunk := src.read(1 << 20):
            written += len(chunk)
            budget[0] -= len(chunk)
            if written > info.file_size or written > MAX_MEMBER_BYTES or budget[0] < 0:
                raise ArchiveRefused(f"member {info.filename[:120]!r} inflates to more than it declares")
            out.write(chunk)


def extract(path: Path, into: Path, depth: int = 0, budget: list[int] | None = None) -> int:
    """Unpack the notebooks of the archive ``path`` into the empty folder ``into``; returns how
    many notebooks were written. Raises :class:`ArchiveRefused` (nothing written outside
    ``into``: every file is created below it, never through a link)."""
    budget = budget if budget is not None else [MAX_TOTAL_BYTES]
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveRefused(f"{path.name}: not a readable zip archive ({exc})") from None
    count = 0
    with archive:
        members = _check(archive, path.name)
        taken: set[str] = set()
        for info in members:
            member = _member_path(info.filename)
            if info.is_dir() or _skipped(member):  # its folder still exists: a submission of no notebook
                if "__MACOSX" not in member.parts:
                    try:
                        into.joinpath(*(member.parts if info.is_dir() else member.parts[:-1])).mkdir(
                            parents=True, exist_ok=True)
                    except OSError as exc:
                        raise ArchiveRefused(f"{path.name}: member {info.filename[:120]!r}: {exc.strerror}") from None
                continue
            key = str(member).casefold()
            if key in taken:  # two names for one file on a case-insensitive system
                raise ArchiveRefused(f"{path.name}: two members named {info.filename[:120]!r}")
            taken.add(key)
            target = into.joinpath(*member.parts)
            try:
                _copy(archive, info, target, budget)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                if isinstance(exc, ArchiveRefused):
                    raise
                raise ArchiveRefused(f"{path.name}: member {info.filename[:120]!r} cannot be read ({exc})") from None
            if member.name.lower().endswith(".zip"):
                if depth + 1 > MAX_DEPTH:
                    raise ArchiveRefused(f"{path.name}: zips nested more than {MAX_DEPTH} deep")
                nested = target.with_suffix("")
                if nested.exists():
                    nested = target.with_name(target.name + ".contents")
                nested.mkdir()
                count += extract(target, nested, depth + 1, budget)
                target.unlink()
            else:
                count += 1
    return count
