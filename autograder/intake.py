"""Submissions in: from what an LMS hands out (zips or their folders) to one item per student.

Layouts (``--layout``; ``auto`` detects one from the names, and the command says which):

* ``canvas``: ``<name>[_LATE]_<user id>_<submission id>_<file>`` (a resubmitted file may end
  in ``-1``): the student is the Canvas user id; of several submissions the highest
  submission id counts.
* ``moodle``: ``<Full Name>_<participant id>_assignsubmission_<plugin>_/<file>``: the student
  is the participant id, the name is the folder's.
* ``blackboard``: ``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>[_<file>]``: the
  student is the username (the last ``_`` part before ``_attempt_``); the latest attempt counts.
* ``nbgrader``: ``<student>/<assignment>/<file>``.
* ``files``: every notebook is a submission, its file stem the student (folders in
  nbgrader's layout inside still count as nbgrader's).

Of one submission's notebooks the one named like the assignment counts, else the only
one; otherwise the student is ``invalid`` with the names listed. Other submissions of a
student are reported as superseded. Two different submissions that claim one id (the
same stem in two folders, a Moodle participant twice) are never merged or ranked: both
are errors naming both paths. Links are reported, never followed (:mod:`archives`
refuses zips that hold any).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.archives import ArchiveRefused, extract
from autograder.errors import UsageError
from autograder.notebook import path_text, student_id

LAYOUTS = ("auto", "canvas", "moodle", "blackboard", "nbgrader", "files")
_CANVAS = re.compile(r"^(?P<name>.+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$")
_MOODLE = re.compile(r"^(?P<name>.+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
_BLACKBOARD = re.compile(r"^(?P<prefix>.+)_attempt_(?P<when>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)(?:_(?P<file>.+))?$")
_RESUBMITTED = re.compile(r"-\d+$")  # Canvas' "file-1.ipynb" for a second upload of "file.ipynb"


@dataclass
class Item:
    """One submission to grade, or (``problem``) one that cannot be, with the reason."""

    path: Path
    student: str                   # the id: the LMS's (Canvas user id, Moodle participant id...) or the stem
    name: str = ""                 # the display name
    problem: str | None = None     # not graded: the result's message
    status: str = "invalid"        # of a problem: "invalid" (the student's) or "error" (the instructor's)
    notes: list[str] = field(default_factory=list)   # added to the student's result message
    lms: dict = field(default_factory=dict)           # what the LMS exports need (layout, ids, folder)
    shown: str = ""                # the submission as messages name it (an archive's member)
    others: list[Path] = field(default_factory=list)  # notebooks of the submission that were not chosen


@dataclass
class Submission:
    """One hand-in as the layout names it: a student, a rank among theirs, its notebooks."""

    student: str
    name: str
    files: list[Path]
    where: Path                    # its folder, or its first file
    rank: tuple = ()               # the highest counts (Canvas: submission id; Blackboard: attempt time)
    lms: dict = field(default_factory=dict)
    wanted: str | None = None      # the file name a notebook of it should have (Canvas: the upload's)


class Source:
    """A folder, or a zip unpacked into a private folder; ``shown`` names its files."""

    def __init__(self, arg: str):
        self.arg, self.path = arg, Path(arg)
        if self.path.is_file() and self.path.suffix.lower() == ".zip":
            folder = Path(tempfile.mkdtemp(prefix="autograder-zip-"))
            atexit.register(shutil.rmtree, folder, True)
            try:
                extract(self.path, folder)
            except ArchiveRefused as exc:
                raise UsageError(f"{arg}: refused: {exc}") from None
            self.root, self.archive = folder, True
        else:
            self.root, self.archive = self.path, False

    def shown(self, path: Path) -> str:
        if not self.archive:
            return path_text(path)
        return f"{path_text(self.path)}:{path_text(path.relative_to(self.root))}"


# ---------------------------------------------------------------- finding notebooks


def notebooks(folder: Path) -> list[Path]:
    """The .ipynb entries below ``folder``, links included (they are reported, never followed)."""
    found = []
    for root, dirs, files in os.walk(folder):  # never into a linked folder
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints" and d != "__MACOSX")
        found += [Path(root) / f for f in files if f.endswith(".ipynb") and not f.startswith("._")]
    return sorted(found)


def _real_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if _real_folder(p))


# ---------------------------------------------------------------- the layouts


def _canvas(root: Path, assignment: str) -> tuple[list[Submission], list[Path]]:
    groups: dict[tuple, Submission] = {}
    unmatched = []
    for f in notebooks(root):
        m = _CANVAS.match(f.name)
        if not m:
            unmatched.append(f)
            continue
        key = (m["uid"], m["sid"])
        sub = groups.get(key)
        if sub is None:
            prefix = f.name[:m.start("file")].rstrip("_")
            sub = groups[key] = Submission(
                m["uid"], m["name"].replace("_", " "), [], f, rank=(int(m["sid"]),), wanted=f"{assignment}.ipynb",
                lms={"layout": "canvas", "user_id": m["uid"], "submission_id": m["sid"], "late": bool(m["late"]),
                     "prefix": prefix})
        sub.files.append(f)
    return list(groups.values()), unmatched


def _moodle(root: Path, assignment: str) -> tuple[list[Submission], list[Path]]:
    by_pid: dict[str, Submission] = {}
    subs: list[Submission] = []
    for folder in _folders(root):
        m = _MOODLE.match(folder.name)
        if not m:
            continue
        sub = by_pid.get(m["pid"])
        if sub is not None and sub.name == m["name"]:  # one participant's plugins (file, onlinetext)
            sub.files += notebooks(folder)
            continue
        sub = Submission(m["pid"], m["name"], notebooks(folder), folder,
                         lms={"layout": "moodle", "participant": m["pid"], "folder": folder.name})
        by_pid.setdefault(m["pid"], sub)
        subs.append(sub)
    claimed = {f for s in subs for f in s.files}
    return subs, [f for f in notebooks(root) if f not in claimed]


def _blackboard(root: Path, assignment: str) -> tuple[list[Submission], list[Path]]:
    groups: dict[tuple, Submission] = {}
    unmatched = []
    for f in notebooks(root):
        m = _BLACKBOARD.match(f.name)
        if not m:
            unmatched.append(f)
            continue
        user = m["prefix"].rsplit("_", 1)[-1]
        key = (user, m["when"])
        sub = groups.get(key)
        if sub is None:
            sub = groups[key] = Submission(user, user, [], f, rank=(m["when"],),
                                           lms={"layout": "blackboard", "username": user, "attempt": m["when"]})
        sub.files.append(f)
    return list(groups.values()), unmatched


def _nbgrader(root: Path, assignment: str) -> tuple[list[Submission], list[Path]]:
    subs = []
    for student_dir in _folders(root):
        folder = student_dir / assignment
        if _real_folder(folder):
            name = path_text(student_dir.name)
            subs.append(Submission(name, name, notebooks(folder), folder, lms={"layout": "nbgrader"}))
    claimed = {f for s in subs for f in s.files}
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
    """The layout that names most of what is in ``root`` (``files`` when none does)."""
    folders = _folders(root) if root.is_dir() else []
    if folders and sum(bool(_MOODLE.match(f.name)) for f in folders) * 2 >= len(folders):
        return "moodle"
    found = notebooks(root) if root.is_dir() else []
    for layout, pattern in (("canvas", _CANVAS), ("blackboard", _BLACKBOARD)):
        if found and sum(bool(pattern.match(f.name)) for f in found) * 2 > len(found):
            return layout
    inside = [f for f in found if len(f.relative_to(root).parts) > 2 and f.relative_to(root).parts[1] == assignment]
    if inside and len(inside) == len(found):  # else "files", which takes nbgrader's folders too
        return "nbgrader"
    return "files"


# ---------------------------------------------------------------- from submissions to items


def _choose(sub: Submission, assignment: str) -> tuple[Path | None, list[Path]]:
    """The notebook of a submission that counts, and the others."""
    def named(f: Path) -> bool:
        stem = f.stem
        if sub.lms.get("layout") == "canvas":
            stem = _RESUBMITTED.sub("", Path(_CANVAS.match(f.name)["file"]).stem)
        elif sub.lms.get("layout") == "blackboard":
            stem = Path(_BLACKBOARD.match(f.name)["file"] or "").stem
        return stem == assignment

    matching = [f for f in sub.files if named(f)]
    chosen = matching[0] if len(matching) == 1 else sub.files[0] if len(sub.files) == 1 else None
    return chosen, [f for f in sub.files if f != chosen]


def _items(subs: list[Submission], source: Source, assignment: str, latest_wins: bool) -> list[Item]:
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
                              problem=f"not graded: superseded by {source.shown(latest.where)} (a later "
                                      "submission of the same student)"))
        items.append(_item(latest, source, assignment))
    return items


def _item(sub: Submission, source: Source, assignment: str) -> Item:
    base = dict(student=sub.student, name=sub.name, lms=sub.lms)
    if not sub.files:
        return Item(sub.where, **base, shown=source.shown(sub.where),
                    problem="not graded: this submission holds no notebook (.ipynb)")
    chosen, others = _choose(sub, assignment)
    if chosen is None:
        names = ", ".join(path_text(f.name) for f in sub.files)
        return Item(sub.where, **base, shown=source.shown(sub.where),
                    problem=f"not graded: several notebooks and none named {assignment}.ipynb ({names}); "
                            "keep only one")
    notes = [f"other notebooks of this submission were not graded: {', '.join(path_text(f.name) for f in others)}"
             ] if others else []
    item = Item(chosen, **base, notes=notes, shown=source.shown(chosen), others=others)
    if chosen.is_symlink():  # a link could hand in the solution, or another student's notebook
        item.problem = "not graded: a symbolic link, not a notebook file; hand in the notebook itself"
    return item


def collect(paths: list[str], assignment: str, layout: str = "auto") -> tuple[list[Item], list[str], list[str]]:
    """Items from SOURCE arguments; the notebooks ignored (with why); the layout of each source."""
    if layout not in LAYOUTS:
        raise UsageError(f"--layout must be one of {', '.join(LAYOUTS)}")
    items: list[Item] = []
    ignored: list[str] = []
    layouts: list[str] = []
    for arg in paths:
        if not os.path.lexists(arg):
            raise UsageError(f"{arg}: no such file or folder")
        source = Source(arg)
        if not _real_folder(source.root):  # one notebook (or a link) given directly
            item = Item(source.root, student_id(source.root, assignment), lms={"layout": "files"},
                        shown=source.shown(source.root))
            item.name = item.student
            if source.root.is_symlink():
                item.problem = "not graded: a symbolic link, not a notebook file; hand in the notebook itself"
            items.append(item)
            layouts.append("files")
            continue
        chosen = detect(source.root, assignment) if layout == "auto" else layout
        layouts.append(chosen)
        subs, unmatched = PARSERS[chosen](source.root, assignment)
        found = _items(subs, source, assignment, latest_wins=chosen in ("canvas", "blackboard"))
        items += found
        ignored += [f"{source.shown(f)} (not named as the {chosen} layout names a submission)" for f in unmatched]
        ignored += [f"{source.shown(f)} (not the notebook of {i.student})" for i in found for f in i.others]
    return _no_two_claim_one_id(items), ignored, layouts


def _no_two_claim_one_id(items: list[Item]) -> list[Item]:
    """The same file given twice is one item; two graded items with one id are both errors."""
    unique = list({(Path(os.path.abspath(i.path)), i.problem): i for i in items}.values())
    graded: dict[str, list[Item]] = {}
    for item in unique:
        if item.problem is None or item.status == "error":
            graded.setdefault(item.student, []).append(item)
    for student, claims in graded.items():
        if len(claims) > 1:
            where = " and ".join(c.shown or path_text(c.path) for c in claims)
            for c in claims:
                c.problem, c.status = (f"not graded: {len(claims)} submissions claim the id {student} ({where}); "
                                       "rename or remove all but one"), "error"
    return unique
