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
* in a student's own zip, two members whose names differ only in case (one file on a
  case-insensitive system).

What is written: notebooks (``.ipynb``), zips and ``.txt`` files (Blackboard's receipts)
with their content; any other file as an empty file of its name, so that a submission's
file list is complete without copying its PDFs and images. macOS resource forks
(``__MACOSX``, ``._*``) and dot files are skipped.

Nested zips are opened only when asked (``nested=True``), up to ``MAX_DEPTH`` levels,
each into a folder of its own name. The intake opens the download's top level alone and
each student's own zips apart (each with its own ``MAX_UPLOAD_BYTES``), so that a problem
inside one student's upload is that student's, never the whole class's
(:mod:`autograder.lms.intake`). At the top of a download (``problems`` given), a member that
cannot be unpacked (too large, unreadable, a duplicate name) is left out as an empty file
and recorded with its reason, for the intake to charge to its student; only what makes
the archive itself unsafe (a name climbing out, too many members, more than
``MAX_TOTAL_BYTES`` of notebooks, zips and text) refuses it whole. A file name longer than
``MAX_NAME_BYTES`` is written shortened, its start and extension kept.

Member names are decoded as the zip says: UTF-8 when its flag (bit 11) is set; otherwise
an Info-ZIP Unicode Path field (0x7075) whose CRC matches; otherwise UTF-8 when the bytes
are valid UTF-8 (Moodle's ``zip_archive`` writes UTF-8 names without the flag and reads
them back the same way: ``lib/filestorage/zip_archive.php``, ``unmangle_pathname``);
otherwise CP437, the format's default.
"""

from __future__ import annotations

import hashlib
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
MAX_UPLOAD_BYTES = 512 * 2**20   # what one student's own zip may inflate to, its nested zips included
MAX_DEPTH = 3
MAX_NAME_BYTES = 200           # a longer file name is written shortened (its start and extension kept)
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
    if "\x00" in name:
        raise ArchiveRefused(f"member {name[:120]!r} has a NUL character in its name")
    return parts


def _skipped(path: PurePosixPath) -> bool:
    return "__MACOSX" in path.parts or path.name.startswith(".")


def _wanted(path: PurePosixPath) -> bool:
    return path.name.lower().endswith(WANTED)


def short_name(name: str) -> str:
    """A file name the file system takes: one over ``MAX_NAME_BYTES`` keeps its start (where an
    LMS puts its own prefix) and its extension, with a hash of the whole name between."""
    if len(name.encode("utf-8", "surrogateescape")) <= MAX_NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    ext = f".{ext}" if dot and len(ext) <= 10 else ""
    head = name.encode("utf-8", "surrogateescape")[:MAX_NAME_BYTES - 20].decode("utf-8", "ignore")
    return f"{head}~{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}{ext}"


class Problems(dict):
    """Members that could not be unpacked: member path -> why (the rest of the archive is)."""


def _check(archive: zipfile.ZipFile, label: str, problems: Problems | None
           ) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """The members to unpack, with their paths. What is wrong with one member refuses the whole
    archive, or, with ``problems`` (the top of a download), only that member."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ArchiveRefused(f"{label}: {len(members):,} members, over the limit of {MAX_MEMBERS:,}")
    total = 0
    named = []
    taken: set[str] = set()
    for info in members:
        try:
            path = _member_path(member_name(info))
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ArchiveRefused(f"member {str(path)[:120]!r} is a symbolic link")
            if info.flag_bits & 0x1:
                raise ArchiveRefused(f"member {str(path)[:120]!r} is encrypted")
            if not info.is_dir() and not _skipped(path) and problems is None:
                key = str(path).casefold()
                if key in taken:  # two names for one file on a case-insensitive system
                    raise ArchiveRefused(f"two members named {str(path)[:120]!r}")
                taken.add(key)
            if not info.is_dir() and not _skipped(path):
                if _wanted(path) and info.file_size > MAX_MEMBER_BYTES:
                    raise ArchiveRefused(f"member {str(path)[:120]!r} declares {info.file_size:,} bytes, over "
                                         f"the limit of {MAX_MEMBER_BYTES:,}")
        except ArchiveRefused as exc:
            where = _member_path_or_none(info)
            if problems is None or where is None:
                raise ArchiveRefused(f"{label}: {exc}") from None
            problems[where] = str(exc)
            continue
        if _wanted(path):
            total += info.file_size
        named.append((info, path))
    if total > MAX_TOTAL_BYTES:
        raise ArchiveRefused(f"{label}: {total:,} bytes declared in all, over the limit of {MAX_TOTAL_BYTES:,}")
    return named


def _member_path_or_none(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """A member's path for reporting a problem with it, when it is below the archive's root."""
    try:
        name = member_name(info)
        path = PurePosixPath(name.replace("\\", "/"))
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in path.parts:
            return None
        return PurePosixPath(*(p.replace("\x00", "") for p in path.parts)) if path.parts else None
    except Exception:  # noqa: BLE001 - a name that cannot even be read: the whole archive is refused
        return None


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
    """The bytes a download (its top level) may inflate to."""
    return [MAX_TOTAL_BYTES]


def upload_budget() -> list[int]:
    """The bytes one student's own zips (nested ones included) may inflate to, in all."""
    return [MAX_UPLOAD_BYTES]


def extract(path: Path, into: Path, depth: int = 0, budget: list[int] | None = None, nested: bool = True,
            problems: Problems | None = None) -> int:
    """Unpack the archive ``path`` into the empty folder ``into``; returns how many notebooks
    were written. Nested zips are unpacked too when ``nested``, else kept as files. Raises
    :class:`ArchiveRefused` (nothing written outside ``into``: every file is created below
    it, never through a link). With ``problems`` (a download's top level), a member that
    cannot be unpacked is left out and recorded there instead."""
    budget = budget if budget is not None else new_budget()
    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # noqa: BLE001 - BadZipFile, a name that is not UTF-8, an odd header...
        raise ArchiveRefused(f"{path.name}: not a readable zip archive ({type(exc).__name__}: {exc})") from None
    count = 0
    with archive:
        for info, member in _check(archive, path.name, problems):
            parts = [short_name(p) for p in member.parts]
            if info.is_dir() or _skipped(member):  # its folder still exists: a submission of no notebook
                if "__MACOSX" not in member.parts:
                    try:
                        into.joinpath(*(parts if info.is_dir() else parts[:-1])).mkdir(parents=True, exist_ok=True)
                    except OSError as exc:
                        raise ArchiveRefused(f"{path.name}: member {info.filename[:120]!r}: {exc.strerror}") from None
                continue
            target = into.joinpath(*parts)
            try:
                _copy(archive, info, target, budget, _wanted(member))
            except Exception as exc:  # noqa: BLE001 - whatever a member does, it is this archive's problem
                why = str(exc) if isinstance(exc, ArchiveRefused) else \
                    f"member {info.filename[:120]!r} cannot be read ({type(exc).__name__}: {exc})"
                if problems is None or isinstance(exc, ArchiveRefused) and budget[0] < 0:
                    raise ArchiveRefused(f"{path.name}: {why}" if not why.startswith(path.name) else why) from None
                problems[member] = why
                _placeholder(target)
                continue
            if member.name.lower().endswith(".zip") and nested:
                count += _nested(target, depth, budget, path.name)
            elif member.name.lower().endswith(".ipynb"):
                count += 1
    return count


def placeholders(into: Path, problems: Problems) -> None:
    """An empty file for each member left out, so that its student still has it (and its problem)."""
    for member in problems:
        _placeholder(into.joinpath(*(short_name(p) for p in member.parts)))


def _placeholder(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    except OSError:
        pass  # already there (a duplicate name): the problem is recorded by its path either way


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
