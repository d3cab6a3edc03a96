"""Zip archives as an LMS hands them out, opened without trusting them.

:func:`extract` unpacks an archive into an empty private folder, and refuses the whole
archive, in one line, when any member could write outside that folder or exhaust the
machine:

* a name that is absolute, has a drive, or climbs with ``..`` (zip slip);
* a member that is a symbolic link (its target is written as its content);
* more than ``MAX_MEMBERS`` members, a member declared larger than ``MAX_MEMBER_BYTES``,
  or more than ``MAX_TOTAL_BYTES`` declared in all (a zip bomb); the bytes actually
  inflated are counted too, so a lying header changes nothing;
* an encrypted member;
* two members whose names differ only in case (one file on a case-insensitive system).

What is written: notebooks (``.ipynb``), zips and ``.txt`` files (Blackboard's receipts)
with their content; any other file as an empty file of its name, so that a submission's
file list is complete without copying its PDFs and images. macOS resource forks
(``__MACOSX``, ``._*``) and dot files are skipped.

Nested zips are opened only when asked (``nested=True``), up to ``MAX_DEPTH`` levels,
each into a folder of its own name. The intake opens the download's top level alone and
each student's own zips apart, so that a problem inside one student's upload is that
student's, never the whole class's (:mod:`autograder.intake`).

Member names are decoded as the zip says: UTF-8 when its flag (bit 11) is set; otherwise
an Info-ZIP Unicode Path field (0x7075) whose CRC matches; otherwise UTF-8 when the bytes
are valid UTF-8 (Moodle's ``zip_archive`` writes UTF-8 names without the flag and reads
them back the same way: ``lib/filestorage/zip_archive.php``, ``unmangle_pathname``);
otherwise CP437, the format's default.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from autograder.errors import ArchiveRefused  # noqa: F401 - raised here, caught by callers

MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 256 * 2**20
MAX_TOTAL_BYTES = 2 * 2**30
MAX_DEPTH = 3
WANTED = (".ipynb", ".zip", ".txt")   # written with their content; other files as empty files
_UNICODE_PATH = 0x7075


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its writer meant it (see the module's docstring)."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.orig_filename.encode("cp437")  # zipfile decoded the raw bytes as CP437: undo it
    extra = info.extra
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        body, extra = extra[4:4 + size], extra[4 + size:]
        if kind == _UNICODE_PATH and len(body) > 5 and struct.unpack("<I", body[1:5])[0] == zlib.crc32(raw):
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                break
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return info.filename


def _member_path(name: str) -> PurePosixPath:
    """The member's path, relative and below the archive's root; else the archive is refused."""
    parts = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts.parts:
        raise ArchiveRefused(f"member {name[:120]!r} points outside the archive")
    return parts


def _skipped(path: PurePosixPath) -> bool:
    return "__MACOSX" in path.parts or path.name.startswith(".")


def _check(archive: zipfile.ZipFile, label: str) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ArchiveRefused(f"{label}: {len(members):,} members, over the limit of {MAX_MEMBERS:,}")
    total = 0
    named = []
    taken: set[str] = set()
    for info in members:
        path = _member_path(member_name(info))
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveRefused(f"{label}: member {str(path)[:120]!r} is a symbolic link")
        if info.file_size > MAX_MEMBER_BYTES:
            raise ArchiveRefused(f"{label}: member {str(path)[:120]!r} declares {info.file_size:,} bytes, "
                                 f"over the limit of {MAX_MEMBER_BYTES:,}")
        if info.flag_bits & 0x1:
            raise ArchiveRefused(f"{label}: member {str(path)[:120]!r} is encrypted")
        if not info.is_dir() and not _skipped(path):
            key = str(path).casefold()
            if key in taken:  # two names for one file on a case-insensitive system
                raise ArchiveRefused(f"{label}: two members named {str(path)[:120]!r}")
            taken.add(key)
        total += info.file_size
        named.append((info, path))
    if total > MAX_TOTAL_BYTES:
        raise ArchiveRefused(f"{label}: {total:,} bytes declared in all, over the limit of {MAX_TOTAL_BYTES:,}")
    return named


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: list[int], content: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        if not content:
            return
        with archive.open(info) as src:
            written = 0
            while chunk := src.read(1 << 20):
                written += len(chunk)
                budget[0] -= len(chunk)
                if written > info.file_size or written > MAX_MEMBER_BYTES or budget[0] < 0:
                    raise ArchiveRefused(f"member {info.filename[:120]!r} inflates to more than it declares")
                out.write(chunk)


def new_budget() -> list[int]:
    """The bytes one download may inflate to, shared by its nested zips."""
    return [MAX_TOTAL_BYTES]


def extract(path: Path, into: Path, depth: int = 0, budget: list[int] | None = None, nested: bool = True) -> int:
    """Unpack the archive ``path`` into the empty folder ``into``; returns how many notebooks
    were written. Nested zips are unpacked too when ``nested``, else kept as files. Raises
    :class:`ArchiveRefused` (nothing written outside ``into``: every file is created below
    it, never through a link)."""
    budget = budget if budget is not None else new_budget()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveRefused(f"{path.name}: not a readable zip archive ({exc})") from None
    count = 0
    with archive:
        for info, member in _check(archive, path.name):
            if info.is_dir() or _skipped(member):  # its folder still exists: a submission of no notebook
                if "__MACOSX" not in member.parts:
                    try:
                        into.joinpath(*(member.parts if info.is_dir() else member.parts[:-1])).mkdir(
                            parents=True, exist_ok=True)
                    except OSError as exc:
                        raise ArchiveRefused(f"{path.name}: member {info.filename[:120]!r}: {exc.strerror}") from None
                continue
            target = into.joinpath(*member.parts)
            try:
                _copy(archive, info, target, budget, member.name.lower().endswith(WANTED))
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                if isinstance(exc, ArchiveRefused):
                    raise
                raise ArchiveRefused(f"{path.name}: member {info.filename[:120]!r} cannot be read ({exc})") from None
            if member.name.lower().endswith(".zip") and nested:
                count += _nested(target, depth, budget, path.name)
            elif member.name.lower().endswith(".ipynb"):
                count += 1
    return count


def _nested(target: Path, depth: int, budget: list[int], label: str) -> int:
    if depth + 1 > MAX_DEPTH:
        raise ArchiveRefused(f"{label}: zips nested more than {MAX_DEPTH} deep")
    folder = target.with_suffix("")
    if folder.exists():
        folder = target.with_name(target.name + ".contents")
    folder.mkdir()
    count = extract(target, folder, depth + 1, budget)
    target.unlink()
    return count
