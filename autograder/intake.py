"""Submissions in: from what an LMS hands out (zips or their folders) to one item per student.

The LMS's own names are read at the top of the download only. Whatever a student uploaded
(a zip, folders, any file name) belongs to that student's submission: it is never parsed
for the LMS's names, so it can never name, supersede or refuse another student. A
student's own zips are opened apart (:mod:`autograder.archives`); a problem in one makes
that student ``invalid`` with the reason, never the download. ``auto`` detects the layout
from the top-level names alone, and the command says which.

Layouts, as each LMS writes them:

* ``canvas`` (instructure/canvas-lms, ``lib/content_zipper.rb``: ``get_filename``,
  ``add_upload_submission``, ``sanitize_file_name``, ``sanitize_user_name``): every file of
  each student's *current* submission, flat, named
  ``<sortable name, lower case, word characters only>[_LATE]_<user id>_<attachment id>_<file>``,
  or ``[LATE_]anon_<anonymous id>_<attachment id>_<file>`` for an anonymously graded
  assignment. The student is the user id (``anon_<id>`` when anonymous); ``_LATE`` is kept.
  A student's second upload of one file name may end in ``-1`` (``Attachment.make_unique_filename``).
* ``moodle`` (moodle/moodle, ``mod/assign/locallib.php``, ``download_submissions``): a folder
  ``<Full Name>_<participant id>_assignsubmission_<plugin>_`` per participant and plugin, or,
  without "download in folders", files with that prefix. The student is the participant id.
* ``blackboard``: ``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>[_<file>]`` and a
  ``.txt`` receipt per attempt whose first lines are ``Name: <Full name> (<username>)`` and
  ``Assignment: <title>``. The username comes from the receipt, else from the name up to the
  *first* ``_attempt_<time>`` less the assignment title every file shares; the latest attempt
  counts, the others are reported as superseded.
* ``nbgrader``: ``<student>/<assignment>/<files>``.
* ``files``: every notebook is a submission, its file stem the student (folders in
  nbgrader's layout inside still count as nbgrader's).

Of one submission's notebooks the one named like the assignment counts, else the only
one; otherwise the student is ``invalid`` with the files listed, and ``--pick STUDENT=FILE``
chooses. Two submissions that claim one id (the same stem in two folders, a Moodle
participant twice) are never merged or ranked: both are errors naming both paths. Links
are reported, never followed.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.archives import ArchiveRefused, extract, new_budget
from autograder.errors import UsageError
from autograder.notebook import path_text, student_id

LAYOUTS = ("auto", "canvas", "moodle", "blackboard", "nbgrader", "files")
_CANVAS = re.compile(r"^(?:(?P<alate>LATE_)?anon_(?P<anon>[0-9A-Za-z]+)|(?P<name>\w*?)(?P<late>_LATE)?_(?P<uid>\d+))"
                     r"_(?P<aid>\d+)_(?P<file>.+)$")
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$")
_BLACKBOARD = re.compile(r"^(?P<prefix>.+?)_attempt_(?P<when>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)"
                         r"(?:_(?P<file>.+)|(?P<receipt>\.txt))?$")
_RECEIPT_NAME = re.compile(r"^Name:\s*(?P<name>.*?)\s*\((?P<user>[^()\s]+)\)\s*$")
_RESUBMITTED = re.compile(r"-\d+$")  # Canvas' "file-1.ipynb" for a second upload of "file.ipynb"
_JUNK = ("__MACOSX", ".ipynb_checkpoints")


@dataclass
class Item:
    """One submission to grade, or (``problem``) one that cannot be, with the reason."""

    path: Path
    student: str                   # the id: the LMS's (Canvas user id, Moodle participant id...) or the stem
    name: str = ""                 # the display name
    problem: str | None = None     # not graded: the result's message
    status: str = "invalid"        # of a problem: "invalid" (the student's) or "error" (the instructor's)
    notes: list[str] = field(default_factory=list)   # added to the student's result message
    lms: dict = field(default_factory=dict)           # what the LMS exports need (layout, ids, folder, late)
    shown: str = ""                # the submission as messages name it (an archive's member)
    others: list[Path] = field(default_factory=list)  # notebooks of the submission that were not chosen
    superseded: bool = False       # an older attempt of a student whose latest one counts: never stored


@dataclass
class Submission:
    """One hand-in as the layout names it: a student, a rank among theirs, its top-level entries."""

    student: str
    name: str
    entries: list[Path]            # its files at the top of the download, or its folders
    where: Path                    # its folder, or its first file
    rank: tuple = ()               # the highest counts (Blackboard: the attempt's time)
    lms: dict = field(default_factory=dict)
    shown_as: dict = field(default_factory=dict)   # entry -> the file name the student gave it


class Source:
    """A folder, or a zip's top level unpacked into a private folder; ``shown`` names its files.
    A student's own zips are unpacked apart, into :meth:`scratch` folders."""

    def __init__(self, arg: str):
        self.arg, self.path = arg, Path(arg)
        self.budget = new_budget()
        self._scratch: Path | None = None
        self._opened: dict[Path, Path] = {}
        if self.path.is_file() and self.path.suffix.lower() == ".zip":
            folder = _private_folder("autograder-zip-")
            try:
                extract(self.path, folder, budget=self.budget, nested=False)
            except ArchiveRefused as exc:
                raise UsageError(f"{arg}: refused: {exc}") from None
            self.root, self.archive = folder, True
        else:
            self.root, self.archive = self.path, False

    def shown(self, path: Path) -> str:
        for zip_path, folder in self._opened.items():
            if path.is_relative_to(folder):
                return f"{self.shown(zip_path)}:{path_text(path.relative_to(folder))}"
        if not self.archive:
            return path_text(path)
        return f"{path_text(self.path)}:{path_text(path.relative_to(self.root))}"

    def open_zip(self, path: Path) -> Path:
        """A student's zip unpacked (nested zips too) into a folder of its own; raises ArchiveRefused."""
        if self._scratch is None:
            self._scratch = _private_folder("autograder-upload-")
        folder = self._scratch / str(len(self._opened))
        folder.mkdir()
        self._opened[path] = folder
        extract(path, folder, depth=1, budget=self.budget, nested=True)
        return folder


def _private_folder(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, True)
    return folder


# ---------------------------------------------------------------- finding files


def notebooks(folder: Path) -> list[Path]:
    """The .ipynb entries below ``folder``, links included (they are reported, never followed)."""
    return [f for f in files_below(folder) if f.name.endswith(".ipynb")]


def files_below(folder: Path) -> list[Path]:
    """Every file below ``folder`` (links included, never followed), junk left out."""
    found = []
    for root, dirs, files in os.walk(folder):  # never into a linked folder
        dirs[:] = sorted(d for d in dirs if d not in _JUNK)
        found += [Path(root) / f for f in files if not f.startswith("._") and f != ".DS_Store"]
    return sorted(found)


def _real_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if _real_folder(p))


def _top(root: Path) -> list[Path]:
    """The entries at the top of a download: what the LMS named."""
    return sorted(p for p in root.iterdir() if p.name not in _JUNK and not p.name.startswith("."))


def _top_files(root: Path) -> list[Path]:
    return [p for p in _top(root) if not _real_folder(p)]


# ---------------------------------------------------------------- the layouts


def _canvas(root: Path, assignment: str) -> tuple[list[Submission], list[Path]]:
    subs: dict[str, Submission] = {}
    unmatched = []
    for f in _top_files(root):
        m = _CANVAS.match(f.name)
        if not m:
            unmatched.append(f)
            continue
        student = f"anon_{m['anon']}" if m["anon"] else m["uid"]
        sub = subs.get(student)
        if sub is None:
            late = bool(m["late"] or m["alate"])
            lms = {"layout": "canvas", "late": late, "attachments": {}}
            if m["anon"]:
                lms.update(anonymous_id=m["anon"], prefix=f"{'LATE_' if late else ''}anon_{m['anon']}")
            else:
                lms.update(user_id=m["uid"], prefix=f"{m['name']}{'_LATE' if late else ''}_{m['uid']}")
            sub = subs[student] = Submission(student, m["name"] or student, [], f, lms=lms)
        sub.entries.append(f)
        sub.shown_as[f] = m["file"]
        sub.lms["attachments"][m["file"]] = m["aid"]
        sub.lms["late"] = sub.lms["late"] or bool(m["late"] or m["alate"])
    return list(subs.values()), unmatched


def _moodle(root: Path, assignment: str) -> tuple[list[Submission], list[Path]]:
    by_pid: dict[str, Submission] = {}
    subs: list[Submission] = []
    unmatched = []
    for entry in _top(root):
        m = _MOODLE.match(entry.name)
        if not m or (_real_folder(entry) and m["file"]) or (not _real_folder(entry) and not m["file"]):
            unmatched.append(entry)
            continue
        folder = f"{m['name']}_{m['pid']}_assignsubmission_{m['plugin']}_"
        sub = by_pid.get(m["pid"])
        if sub is not None and sub.name == m["name"]:  # one participant's plugins (file, onlinetext), files
            sub.entries.append(entry)
            sub.shown_as[entry] = m["file"] or entry.name
            continue
        sub = Submission(m["pid"], m["name"], [entry], entry, shown_as={entry: m["file"] or entry.name},
                         lms={"layout": "moodle", "participant": m["pid"], "folder": folder})
        by_pid.setdefault(m["pid"], sub)
        subs.append(sub)
    return subs, [f for f in unmatched if not _real_folder(f)] + [
        f for d in unmatched if _real_folder(d) for f in notebooks(d)]


def _receipt(path: Path) -> tuple[str, str, str] | None:
    """(full name, username, assignment title) from a Blackboard receipt's first two lines,
    which Blackboard writes (what follows may quote the student's own text)."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            first, second = fh.readline().strip(), fh.readline().strip()
    except OSError:
        return None
    m = _RECEIPT_NAME.match(first)
    if not m or not second.startswith("Assignment:"):
        return None
    return m["name"], m["user"], second.removeprefix("Assignment:").strip()


def _blackboard(root: Path, assignment: str) -> tuple[list[Submission], list[Path]]:
    matched, unmatched = [], []
    for f in _top_files(root):
        m = _BLACKBOARD.match(f.name)
        (matched if m else unmatched).append((f, m) if m else f)
    receipts = {m["prefix"] + m["when"]: _receipt(f) for f, m in matched if m["receipt"]}
    common = os.path.commonprefix([m["prefix"] for _, m in matched])
    title_len = common.rfind("_") + 1   # the assignment title every name starts with, and its "_"
    groups: dict[tuple, Submission] = {}
    for f, m in matched:
        receipt = receipts.get(m["prefix"] + m["when"])
        user, name = m["prefix"][title_len:], ""
        if receipt and m["prefix"] == f"{receipt[2]}_{receipt[1]}":
            name, user = receipt[0], receipt[1]
        key = (user, m["when"])
        sub = groups.get(key)
        if sub is None:
            sub = groups[key] = Submission(user, name or user, [], f, rank=(m["when"],),
                                           lms={"layout": "blackboard", "username": user, "attempt": m["when"]})
        if name:
            sub.name = name
        if not m["receipt"]:
            sub.entries.append(f)
            sub.shown_as[f] = m["file"] or f.name
    return list(groups.values()), unmatched


def _nbgrader(root: Path, assignment: str) -> tuple[list[Submission], list[Path]]:
    subs = []
    for student_dir in _folders(root):
        folder = student_dir / assignment
        if _real_folder(folder):
            name = path_text(student_dir.name)
            subs.append(Submission(name, name, [folder], folder, lms={"layout": "nbgrader"}))
    claimed = {f for s in subs for f in notebooks(s.where)}
    return subs, [f for f in notebooks(root) if f not in claimed]


def _files(root: Path, assignment: str) -> tuple[list[Submission], list[Path]]:
    subs, rest = _nbgrader(root, assignment)
    for f in rest:
        sid = student_id(f, assignment)
        subs.append(Submission(sid, sid, [f], f, lms={"layout": "files"}))
    return subs, []


PARSERS = {"canvas": _canvas, "moodle": _moodle, "blackboard": _blackboard, "nbgrader": _nbgrader,
           "files": _files}


def detect(root: Path, assignment: str) -> str:
    """The layout that names most of what is at the top of ``root`` (``files`` when none does)."""
    if not root.is_dir():
        return "files"
    top = _top(root)
    files = [p for p in top if not _real_folder(p)]
    if top and sum(bool(_MOODLE.match(p.name)) for p in top) * 2 > len(top):
        return "moodle"
    for layout, pattern in (("canvas", _CANVAS), ("blackboard", _BLACKBOARD)):
        if files and sum(bool(pattern.match(f.name)) for f in files) * 2 > len(files):
            return layout
    folders = [p for p in top if _real_folder(p)]
    if folders and not files and all(_real_folder(d / assignment) for d in folders):
        return "nbgrader"
    return "files"


def _root(root: Path, assignment: str) -> Path:
    """The download's own top: a folder that holds only one folder holding an LMS's download
    (someone zipped the folder they unpacked it into) is read from inside."""
    while root.is_dir():
        top = _top(root)
        if len(top) != 1 or not _real_folder(top[0]) or detect(top[0], assignment) in ("files", "nbgrader"):
            return root
        root = top[0]
    return root


# ---------------------------------------------------------------- from submissions to items


@dataclass
class _Contents:
    notebooks: list[tuple[Path, str]]   # (file, the name the student gave it)
    files: list[str]                    # every file's name, for messages
    problem: str | None = None


def _contents(sub: Submission, source: Source) -> _Contents:
    """The submission's notebooks: its files, its folders walked, its zips opened apart."""
    out = _Contents([], [])
    for entry in sub.entries:
        shown = sub.shown_as.get(entry, entry.name)
        if _real_folder(entry):
            for f in files_below(entry):
                _add(out, f, path_text(f.relative_to(entry)), source)
        else:
            _add(out, entry, path_text(shown), source)
    return out


def _add(out: _Contents, f: Path, shown: str, source: Source) -> None:
    out.files.append(shown)
    if f.name.lower().endswith(".zip") and not f.is_symlink():
        try:
            folder = source.open_zip(f)
        except ArchiveRefused as exc:
            out.problem = out.problem or f"not graded: your upload {shown} could not be opened ({exc})"
            return
        for inner in files_below(folder):
            _add(out, inner, f"{shown}/{path_text(inner.relative_to(folder))}", source)
    elif f.name.endswith(".ipynb"):
        out.notebooks.append((f, shown))


def _named_like(shown: str, assignment: str) -> bool:
    stem = Path(shown.rsplit("/", 1)[-1]).stem
    return stem == assignment or _RESUBMITTED.sub("", stem) == assignment


def _choose(found: list[tuple[Path, str]], assignment: str, pick: str | None) -> tuple[Path, str] | None:
    if pick is not None:
        chosen = [n for n in found if pick in (n[1], n[1].rsplit("/", 1)[-1], n[0].name)]
        return chosen[0] if len(chosen) == 1 else None
    matching = [n for n in found if _named_like(n[1], assignment)]
    return matching[0] if len(matching) == 1 else found[0] if len(found) == 1 else None


def _items(subs: list[Submission], source: Source, assignment: str, latest_wins: bool,
           picks: dict[str, str]) -> list[Item]:
    items = []
    by_student: dict[str, list[Submission]] = {}
    for sub in subs:
        by_student.setdefault(sub.student, []).append(sub)
    for student, group in by_student.items():
        group.sort(key=lambda s: s.rank, reverse=True)
        if not latest_wins and len(group) > 1:
            where = " and ".join(source.shown(s.where) for s in group)
            items += [Item(s.where, student, s.name, status="error", lms=s.lms, shown=source.shown(s.where),
                           problem=f"not graded: {len(group)} submissions claim the id {student} ({where}); "
                                   "rename or remove all but one") for s in group]
            continue
        latest = group[0]
        for older in group[1:]:
            items.append(Item(older.where, student, older.name, lms=older.lms, shown=source.shown(older.where),
                              superseded=True,
                              problem=f"not graded: superseded by {source.shown(latest.where)} (a later "
                                      "submission of the same student)"))
        items.append(_item(latest, source, assignment, picks.pop(student, None)))
    return items


def _item(sub: Submission, source: Source, assignment: str, pick: str | None) -> Item:
    base = dict(student=sub.student, name=sub.name, lms=sub.lms)
    found = _contents(sub, source)
    if found.problem:
        return Item(sub.where, **base, shown=source.shown(sub.where), problem=found.problem)
    if not found.notebooks:
        held = f" (it holds {', '.join(found.files[:10])}{', ...' if len(found.files) > 10 else ''})" \
            if found.files else ""
        return Item(sub.where, **base, shown=source.shown(sub.where),
                    problem=f"not graded: this submission holds no notebook (.ipynb){held}")
    chosen = _choose(found.notebooks, assignment, pick)
    names = ", ".join(n[1] for n in found.notebooks)
    if chosen is None and pick is not None:
        raise UsageError(f"--pick {sub.student}={pick}: no single notebook of that name in {sub.student}'s "
                         f"submission (its notebooks: {names})")
    if chosen is None:
        return Item(sub.where, **base, shown=source.shown(sub.where),
                    problem=f"not graded: several notebooks and none named {assignment}.ipynb ({names}); "
                            f"keep only one (an instructor can choose one with --pick {sub.student}=FILE)")
    path, shown = chosen
    others = [n for n in found.notebooks if n is not chosen]
    notes = [f"other notebooks of this submission were not graded: {', '.join(n[1] for n in others)}"] \
        if others else []
    if pick is not None:
        notes.append(f"{shown} was chosen by the instructor")
    lms = dict(sub.lms)
    if lms.get("layout") == "canvas":
        lms["attachment_id"] = lms.get("attachments", {}).get(shown.split("/", 1)[0])
    lms.pop("attachments", None)
    item = Item(path, **{**base, "lms": lms}, notes=notes, shown=source.shown(path), others=[n[0] for n in others])
    if path.is_symlink():  # a link could hand in the solution, or another student's notebook
        item.problem = "not graded: a symbolic link, not a notebook file; hand in the notebook itself"
    return item


def parse_picks(picks: list[str]) -> dict[str, str]:
    """``--pick STUDENT=FILE`` arguments: student id -> file name."""
    out = {}
    for text in picks:
        student, sep, name = text.partition("=")
        if not sep or not student or not name:
            raise UsageError(f"--pick {text}: give STUDENT=FILE (the student's LMS id and one of their notebooks)")
        if student in out:
            raise UsageError(f"--pick names {student} twice")
        out[student] = name
    return out


def collect(paths: list[str], assignment: str, layout: str = "auto",
            picks: dict[str, str] | None = None) -> tuple[list[Item], list[str], list[str]]:
    """Items from SOURCE arguments; the notebooks ignored (with why); the layout of each source."""
    if layout not in LAYOUTS:
        raise UsageError(f"--layout must be one of {', '.join(LAYOUTS)}")
    picks = dict(picks or {})
    items: list[Item] = []
    ignored: list[str] = []
    layouts: list[str] = []
    for arg in paths:
        if not os.path.lexists(arg):
            raise UsageError(f"{arg}: no such file or folder")
        source = Source(arg)
        if not _real_folder(source.root):  # one file (or a link) given directly
            items.append(_one_file(source, assignment))
            layouts.append("files")
            continue
        root = _root(source.root, assignment) if layout == "auto" else source.root
        chosen = detect(root, assignment) if layout == "auto" else layout
        layouts.append(chosen)
        subs, unmatched = PARSERS[chosen](root, assignment)
        found = _items(subs, source, assignment, chosen in ("canvas", "blackboard"), picks)
        items += found
        ignored += [f"{source.shown(f)} (not named as the {chosen} layout names a submission)" for f in unmatched]
        ignored += [f"{source.shown(f)} (not the notebook of {i.student})" for i in found for f in i.others]
    if picks:
        raise UsageError(f"--pick: no submission of {', '.join(sorted(picks))} in {' '.join(paths)}")
    return _no_two_claim_one_id(items), ignored, layouts


def _one_file(source: Source, assignment: str) -> Item:
    path = source.root
    item = Item(path, student_id(path, assignment), lms={"layout": "files"}, shown=source.shown(path))
    item.name = item.student
    if path.is_symlink():
        item.problem = "not graded: a symbolic link, not a notebook file; hand in the notebook itself"
    elif not path.name.lower().endswith(".ipynb"):
        item.problem = (f"not graded: {path_text(path.name)} is not a Jupyter notebook (.ipynb); "
                        "hand in the notebook itself")
    return item


def _no_two_claim_one_id(items: list[Item]) -> list[Item]:
    """The same file given twice is one item; two graded items with one id are both errors."""
    unique = list({(Path(os.path.abspath(i.path)), i.problem): i for i in items}.values())
    graded: dict[str, list[Item]] = {}
    for item in unique:
        if not item.superseded and (item.problem is None or item.status == "error"):
            graded.setdefault(item.student, []).append(item)
    for student, claims in graded.items():
        if len(claims) > 1:
            where = " and ".join(c.shown or path_text(c.path) for c in claims)
            for c in claims:
                c.problem, c.status = (f"not graded: {len(claims)} submissions claim the id {student} ({where}); "
                                       "rename or remove all but one"), "error"
    return unique
