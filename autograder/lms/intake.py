"""Submissions in: from what an LMS hands out (zips or their folders) to one item per student.

The LMS's own names are read at the top of the download only. Whatever a student uploaded
(a zip, folders, any file name) belongs to that student's submission: it is never parsed
for the LMS's names, so it can never name, supersede or refuse another student. A
student's own zips are opened apart (:mod:`autograder.lms.archives`); a problem in one makes
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

from autograder.lms.archives import (ArchiveRefused, Problems, extract, new_budget, placeholders, short_name,
                                 upload_budget)
from autograder.errors import UsageError
from autograder.notebooks.reading import path_text, student_id

LAYOUTS = ("auto", "canvas", "moodle", "blackboard", "nbgrader", "files")
# Canvas' name part is a sortable name with non-word characters removed; Ruby's [[:word:]] keeps
# letters, marks and digits of any script, so anything but white space and "/" is taken here.
_CANVAS = re.compile(r"^(?:(?P<alate>LATE_)?anon_(?P<anon>[0-9A-Za-z]+)|(?P<name>[^\s/]*?)(?P<late>_LATE)?_(?P<uid>\d+))"
                     r"_(?P<aid>\d+)_(?P<file>.+)$")
_CANVAS_SPLIT = re.compile(r"(?P<late>_LATE)?_(?P<uid>\d+)_(?P<aid>\d+)_")
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$")
_MOODLE_FOLDER = re.compile(r"^.+?_\d+_assignsubmission_[a-z]+_$")
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
    A student's own zips are unpacked apart, into folders of their own (:meth:`open_zip`)."""

    def __init__(self, arg: str, scratch: list[Path] | None = None):
        self.arg, self.path = str(arg), Path(arg)
        self._made = scratch
        self.problems: dict[Path, str] = {}   # a member of the download that could not be unpacked -> why
        self._scratch: Path | None = None
        self._opened: dict[Path, Path] = {}
        if self.path.is_symlink() and (self.path.is_dir() or self.path.suffix.lower() == ".zip"):
            # the instructor's own folder or download, given as a link: followed (links inside never
            # are, and a notebook given as a link is refused: it could hand in anyone's file)
            self.path = Path(os.path.realpath(self.path))
        if self.path.is_file() and self.path.suffix.lower() == ".zip":
            folder = _private_folder("autograder-zip-", self._made)
            problems = Problems()
            try:
                extract(self.path, folder, budget=new_budget(), nested=False, problems=problems)
            except ArchiveRefused as exc:
                raise UsageError(f"{arg}: refused: {exc}") from None
            placeholders(folder, problems)
            self.problems = {folder.joinpath(*(short_name(p) for p in m.parts)): why for m, why in problems.items()}
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

    def problem(self, path: Path) -> str | None:
        return self.problems.get(path)

    def open_zip(self, path: Path, budget: list[int]) -> Path:
        """A student's zip unpacked (nested zips too) into a folder of its own; raises ArchiveRefused."""
        if self._scratch is None:
            self._scratch = _private_folder("autograder-upload-", self._made)
        folder = self._scratch / str(len(self._opened))
        folder.mkdir()
        self._opened[path] = folder
        extract(path, folder, depth=1, budget=budget, nested=True)
        return folder


def _private_folder(prefix: str, made: list[Path] | None) -> Path:
    """A private temporary folder: removed by whoever keeps ``made`` (else when the process ends)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if made is None:
        atexit.register(shutil.rmtree, folder, True)
    else:
        made.append(folder)
    return folder


def remove(scratch: list[Path]) -> None:
    """The temporary folders a :func:`collect` made (see its ``scratch``), once graded."""
    while scratch:
        shutil.rmtree(scratch.pop(), ignore_errors=True)


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


def canvas_name_part(sortable: str) -> str:
    """What Canvas makes of a sortable name in its download's file names (``sanitize_user_name``,
    then ``sanitize_file_name``), compared without the characters Python's ``\\w`` lacks."""
    return _plain_word(re.sub(r"_(\d+)_", r"\1", sortable).lower())


def _plain_word(text: str) -> str:
    return re.sub(r"[^\w]", "", text)


def _canvas_parse(name: str, people: dict[str, str]) -> dict | None:
    """The fields of a Canvas file name. A name part may itself end in ``_<digits>`` (Canvas keeps
    it), so every split is a candidate: the one the roster confirms (user id and name) wins."""
    m = _CANVAS.match(name)
    if m is None:
        return None
    if m["anon"]:
        return {"anon": m["anon"], "late": bool(m["alate"]), "aid": m["aid"], "file": m["file"], "name": ""}
    candidates = []
    for i, ch in enumerate(name):
        split = _CANVAS_SPLIT.match(name, i) if ch == "_" else None
        # sanitize_user_name collapses "_<digits>_": a name part never holds one (it may end in "_<digits>")
        if split and not re.search(r"\s|/|_\d+_", name[:i]):
            candidates.append({"name": name[:i], "late": bool(split["late"]), "uid": split["uid"],
                               "aid": split["aid"], "file": name[split.end():]})
    if not candidates:
        return None
    for fits in (lambda c: c["uid"] in people and people[c["uid"]] == _plain_word(c["name"]),
                 lambda c: c["uid"] in people):
        chosen = [c for c in candidates if fits(c)]
        if chosen:
            return chosen[0]
    return candidates[0]   # as Canvas's own importers read it: the first two numbers


def _canvas(root: Path, assignment: str, people: dict[str, str]) -> tuple[list[Submission], list[Path]]:
    subs: dict[tuple, Submission] = {}
    unmatched = []
    for f in _top_files(root):
        m = _canvas_parse(path_text(f.name), people)
        if not m:
            unmatched.append(f)
            continue
        student = f"anon_{m['anon']}" if m.get("anon") else m["uid"]
        key = (student, m["name"])   # one user id under two names is two claims, never merged
        sub = subs.get(key)
        if sub is None:
            lms = {"layout": "canvas", "late": m["late"], "attachments": {}}
            if m.get("anon"):
                lms.update(anonymous_id=m["anon"], prefix=f"{'LATE_' if m['late'] else ''}anon_{m['anon']}")
            else:
                lms.update(user_id=m["uid"], prefix=f"{m['name']}{'_LATE' if m['late'] else ''}_{m['uid']}")
            sub = subs[key] = Submission(student, m["name"] or student, [], f, lms=lms)
        sub.entries.append(f)
        sub.shown_as[f] = m["file"]
        sub.lms["attachments"][m["file"]] = m["aid"]
        sub.lms["late"] = sub.lms["late"] or m["late"]
    return list(subs.values()), unmatched


def _moodle(root: Path, assignment: str, people: dict[str, str]) -> tuple[list[Submission], list[Path]]:
    by_pid: dict[str, Submission] = {}
    subs: list[Submission] = []
    unmatched = []
    for entry in _top(root):
        m = _MOODLE.match(path_text(entry.name))
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


def _blackboard(root: Path, assignment: str, people: dict[str, str]) -> tuple[list[Submission], list[Path]]:
    matched, unmatched = [], []
    for f in _top_files(root):
        m = _BLACKBOARD.match(path_text(f.name))
        (matched if m else unmatched).append((f, m) if m else f)
    receipts = {m["prefix"] + m["when"]: _receipt(f) for f, m in matched if m["receipt"]}
    titles = {r[2] for r in receipts.values() if r and any(m["prefix"] == f"{r[2]}_{r[1]}" for _, m in matched)}
    if len(titles) == 1:   # the assignment's title, as Blackboard's own receipts give it
        title_len = len(titles.pop()) + 1
    else:                  # the start every name shares, up to its last "_"
        title_len = os.path.commonprefix([m["prefix"] for _, m in matched]).rfind("_") + 1
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
            sub.shown_as[f] = m["file"] or path_text(f.name)
    return list(groups.values()), unmatched


def _nbgrader(root: Path, assignment: str, people: dict[str, str] | None = None
              ) -> tuple[list[Submission], list[Path]]:
    subs = []
    for student_dir in _folders(root):
        folder = student_dir / assignment
        if _real_folder(folder):
            name = path_text(student_dir.name)
            subs.append(Submission(name, name, [folder], folder, lms={"layout": "nbgrader"}))
    claimed = {f for s in subs for f in notebooks(s.where)}
    return subs, [f for f in notebooks(root) if f not in claimed]


def _files(root: Path, assignment: str, people: dict[str, str]) -> tuple[list[Submission], list[Path]]:
    subs, rest = _nbgrader(root, assignment)
    for f in rest:
        sid = student_id(f, assignment)
        subs.append(Submission(sid, sid, [f], f, lms={"layout": "files"}))
    return subs, []


PARSERS = {"canvas": _canvas, "moodle": _moodle, "blackboard": _blackboard, "nbgrader": _nbgrader,
           "files": _files}


def _explained(layout: str, entry: Path, assignment: str) -> bool:
    """Whether the LMS's own naming explains this top-level entry."""
    name, folder = path_text(entry.name), _real_folder(entry)
    if layout == "moodle":
        m = _MOODLE.match(name)
        return bool(_MOODLE_FOLDER.match(name)) if folder else bool(m and m["file"])
    if layout == "nbgrader":
        return folder and _real_folder(entry / assignment)
    pattern = {"blackboard": _BLACKBOARD, "canvas": _CANVAS}[layout]
    return not folder and bool(pattern.match(name))


DETECTED = ("moodle", "blackboard", "canvas", "nbgrader")   # on a tie, the first


def detect(root: Path, assignment: str) -> str:
    """The layout whose own naming explains most of the entries at the top of ``root`` (more than
    half of them), else ``files``. Every entry of a real download is explained by its LMS's
    naming; a student controls only part of their own entries, so they cannot make another
    layout explain more of the download than the real one does."""
    if not root.is_dir():
        return "files"
    top = _top(root)
    counts = {layout: sum(_explained(layout, e, assignment) for e in top) for layout in DETECTED}
    best = max(DETECTED, key=lambda layout: counts[layout])   # max keeps the first of equals
    if counts[best] * 2 > len(top) and not (best == "nbgrader" and any(not _real_folder(e) for e in top)):
        return best
    return "files"


def _root(root: Path, assignment: str) -> Path:
    """The download's own top: a folder that holds one folder and nothing else, itself named like
    none of an LMS's entries (someone zipped the folder they unpacked a download into), is
    read from inside."""
    while root.is_dir():
        top = _top(root)
        if len(top) != 1 or not _real_folder(top[0]) or any(_explained(layout, top[0], assignment)
                                                               for layout in DETECTED):
            return root
        if detect(top[0], assignment) in ("files",):
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
    """The submission's notebooks: its files, its folders walked, its zips opened apart (with one
    budget for this student's uploads); a member the download could not unpack is a problem."""
    out = _Contents([], [])
    budget = upload_budget()
    for entry in sub.entries:
        shown = sub.shown_as.get(entry, entry.name)
        if _real_folder(entry):
            for f in files_below(entry):
                _add(out, f, path_text(f.relative_to(entry)), source, budget)
        else:
            _add(out, entry, path_text(shown), source, budget)
    return out


def _add(out: _Contents, f: Path, shown: str, source: Source, budget: list[int]) -> None:
    out.files.append(shown)
    if source.problem(f):
        out.problem = out.problem or f"not graded: your file {shown} could not be unpacked ({source.problem(f)})"
        return
    if f.name.lower().endswith(".zip") and not f.is_symlink():
        try:
            folder = source.open_zip(f, budget)
        except ArchiveRefused as exc:
            out.problem = out.problem or f"not graded: your upload {shown} could not be opened ({exc})"
            return
        for inner in files_below(folder):
            _add(out, inner, f"{shown}/{path_text(inner.relative_to(folder))}", source, budget)
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
    lms = dict(sub.lms)
    attachments = lms.pop("attachments", None)
    if attachments:  # Canvas: the feedback's name needs one attachment of the submission
        lms["attachment_id"] = min(attachments.values(), key=int)
    base = dict(student=sub.student, name=sub.name, lms=lms)
    found = _contents(sub, source)
    if found.problem:
        if pick is not None:
            raise UsageError(f"--pick {sub.student}={pick}: {found.problem.removeprefix('not graded: ')}")
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
        alike = sum(_named_like(n[1], assignment) for n in found.notebooks)
        which = f"{alike} named like {assignment}.ipynb" if alike else f"none named {assignment}.ipynb"
        return Item(sub.where, **base, shown=source.shown(sub.where),
                    problem=f"not graded: several notebooks and {which} ({names}); "
                            f"keep only one (an instructor can choose one with --pick {sub.student}=FILE)")
    path, shown = chosen
    others = [n for n in found.notebooks if n is not chosen]
    notes = [f"other notebooks of this submission were not graded: {', '.join(n[1] for n in others)}"] \
        if others else []
    if pick is not None:
        notes.append(f"{shown} was chosen by the instructor")
    if attachments:
        lms["attachment_id"] = attachments.get(shown.split("/", 1)[0], lms["attachment_id"])
    item = Item(path, **base, notes=notes, shown=source.shown(path), others=[n[0] for n in others])
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


def collect(paths: list, assignment: str, layout: str = "auto", picks: dict[str, str] | None = None,
            people: dict[str, str] | None = None, scratch: list[Path] | None = None
            ) -> tuple[list[Item], list[str], list[str]]:
    """Items from SOURCE arguments; the notebooks ignored (with why); the layout of each source.
    ``people``: a Canvas roster's user ids and their names as Canvas writes them in file names
    (:func:`canvas_name_part`), which settle a name part that ends in digits. ``scratch``: a
    list that receives the temporary folders zips were unpacked into, for the caller to
    :func:`remove` once the items are graded (else they go when the process ends)."""
    if layout not in LAYOUTS:
        raise UsageError(f"--layout must be one of {', '.join(LAYOUTS)}")
    picks = dict(picks or {})
    items: list[Item] = []
    ignored: list[str] = []
    layouts: list[str] = []
    seen: set[str] = set()
    for arg in map(str, paths):
        if not os.path.lexists(arg):
            raise UsageError(f"{arg}: no such file or folder")
        if os.path.realpath(arg) in seen:   # the same source given twice is read once
            layouts.append(layouts[-1] if layouts else "files")
            continue
        seen.add(os.path.realpath(arg))
        source = Source(arg, scratch)
        if not _real_folder(source.root):  # one file (or a link) given directly
            items.append(_one_file(source, assignment))
            layouts.append("files")
            continue
        root = _root(source.root, assignment) if layout == "auto" else source.root
        chosen = detect(root, assignment) if layout == "auto" else layout
        layouts.append(chosen)
        subs, unmatched = PARSERS[chosen](root, assignment, people or {})
        found = _items(subs, source, assignment, chosen == "blackboard", picks)
        items += found
        ignored += [f"{source.shown(f)} (not named as the {chosen} layout names a submission)" for f in unmatched]
        ignored += [f"{source.shown(f)} (not the notebook of {i.student})" for i in found for f in i.others]
    if picks:
        raise UsageError(f"--pick: no submission of {', '.join(sorted(picks))} in {' '.join(map(str, paths))}")
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
        if not item.superseded:   # graded, invalid or already an error: two of them are two claims
            graded.setdefault(item.student, []).append(item)
    for student, claims in graded.items():
        if len(claims) > 1:
            where = " and ".join(c.shown or path_text(c.path) for c in claims)
            for c in claims:
                c.problem, c.status = (f"not graded: {len(claims)} submissions claim the id {student} ({where}); "
                                       "rename or remove all but one"), "error"
    return unique
