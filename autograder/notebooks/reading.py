"""Reading submissions: parse, validate, bound, and rebuild the cells to run.

Instructor cells (imports, helpers, tests) always come from the solution
source; only answer cells (nbgrader ``solution: true``) and extra cells the
student added come from the submission. Test cells are never executed: the
grader's probes do the checking.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import InvalidSubmission  # noqa: F401 - raised here, caught by callers

# nbformat validates with jsonschema, which imports rfc3987_syntax where it is installed
# (nbgrader's Jupyter stack brings it) for an "iri" format check that no notebook schema
# uses. Building that module's grammar costs ~2.6 s in every `autograder` command; a
# None entry makes its import fail, which jsonschema expects and skips.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)

MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_CELLS = 2_000
MAX_CELL_CHARS = 200_000
# JSON values and keys a notebook may hold. A real notebook has about one per 16 bytes (the
# course's have 6% of their bytes in `,:[{`; base64 images none), so ~1.3 M in 20 MB of code
# and text. The costliest items once parsed (unique short keys, one-character non-Latin
# lines) take ~100 bytes each: json.loads builds at most ~200 MB, whatever the file holds.
MAX_JSON_ITEMS = 2_000_000




@dataclass
class CellPlan:
    """One code cell to execute, with where it came from."""

    source: str
    label: str          # grade_id, or "extra cell N"
    origin: str         # "answer" | "instructor" | "extra"


def nbgrader_meta(cell: dict) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cell_role(cell: dict) -> str | None:
    """'answer', 'test', 'instructor' for nbgrader cells; None for plain ones."""
    meta = nbgrader_meta(cell)
    if not meta.get("grade_id"):
        return None
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    return "instructor"


def _skipped(cell: dict) -> bool:
    """An instructor cell marked to be skipped when grading (exploration, plots)."""
    meta = cell.get("metadata", {}).get("autograder", {})
    return isinstance(meta, dict) and meta.get("skip") is True


def _generated(cell: dict) -> bool:
    """A cell ``autograder release`` wrote (see :mod:`autograder.notebooks.check_cells`)."""
    meta = cell.get("metadata", {}).get("autograder", {})
    return isinstance(meta, dict) and bool(meta.get("generated")) and nbgrader_meta(cell).get("solution") is not True


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        src = "".join(x for x in src if isinstance(x, str))
    return src if isinstance(src, str) else ""


def read_notebook(path: Path) -> tuple[dict, str]:
    """Parse and validate a notebook file; returns (notebook, sha256).

    Memory stays bounded whatever the file holds: its size is checked before it is read
    (and at most ``MAX_NOTEBOOK_BYTES + 1`` bytes are ever read), and its JSON items are
    counted with plain byte counts before anything is parsed, so the parse costs at most a
    few hundred bytes per item on top of the text (see ``MAX_JSON_ITEMS``).
    """
    try:  # the file itself, never a link's target (a link to the solution, or to another student's)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidSubmission("a symbolic link, not a notebook file: hand in the notebook itself") from None
        raise InvalidSubmission(f"cannot read the file: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidSubmission("not a regular file")
        size = info.st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise InvalidSubmission(f"the file is {size / 2**20:.0f} MB, over the {MAX_NOTEBOOK_BYTES // 2**20} MB "
                                    "limit (clear the outputs and save again)")
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            raw = fh.read(MAX_NOTEBOOK_BYTES + 1)  # the file may have grown since fstat()
    except OSError as exc:
        raise InvalidSubmission(f"cannot read the file: {exc.strerror}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if not raw:
        raise InvalidSubmission("the file is empty")
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise InvalidSubmission(f"the file is over the {MAX_NOTEBOOK_BYTES // 2**20} MB limit "
                                "(clear the outputs and save again)")
    digest = hashlib.sha256(raw).hexdigest()
    # Every JSON value but the outermost follows one of these bytes (strings may hold more
    # of them, so this over-counts): a cheap upper bound of what json.loads would build.
    items = sum(raw.count(b) for b in (b",", b":", b"[", b"{"))
    if items > MAX_JSON_ITEMS:
        raise InvalidSubmission(f"the notebook's JSON has about {items:,} items, over the limit of "
                                f"{MAX_JSON_ITEMS:,} (clear the outputs and save again)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission("not a notebook: the file is not UTF-8 text") from None
    del raw
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidSubmission(f"not a notebook: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise InvalidSubmission("not a notebook: the JSON is nested too deeply") from None
    del text
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise InvalidSubmission("not a notebook: no 'cells' in the JSON")
    major = data.get("nbformat")
    if major != 4:
        raise InvalidSubmission(f"nbformat {str(major)[:20]} is not supported; open the notebook in a current "
                                "Jupyter (or Colab) and save it again as nbformat 4")
    if not isinstance(data.get("cells"), list):
        raise InvalidSubmission("not a notebook: 'cells' is not a list")
    if len(data["cells"]) > MAX_CELLS:
        raise InvalidSubmission(f"the notebook has {len(data['cells']):,} cells, over the limit of {MAX_CELLS:,}")
    import nbformat  # here: a command that reads no notebook does not load it

    try:
        nbformat.validate(data)  # the plain dict: no second parse, no NotebookNode copy
    except nbformat.ValidationError as exc:
        first = str(exc.message).splitlines()[0][:200]
        raise InvalidSubmission(f"not a valid nbformat 4 notebook: {first}") from None
    except Exception as exc:  # noqa: BLE001 - nbformat's reader on odd input (RecursionError included)
        raise InvalidSubmission(f"not a valid notebook: {type(exc).__name__}") from None
    return data, digest


def assemble(solution: dict, submission: dict, assignment: str) -> tuple[list[CellPlan], list[str]]:
    """The cells to execute: the solution's skeleton with the student's answers and extras."""
    declared = submission.get("metadata", {}).get("autograder", {})
    declared = declared.get("assignment") if isinstance(declared, dict) else None
    if isinstance(declared, str) and declared != assignment:
        raise InvalidSubmission(f"this is a notebook of assignment '{declared[:80]}', not '{assignment}'")

    answers: dict[str, dict] = {}
    extras: dict[str | None, list[dict]] = {}
    anchor: str | None = None
    known = {nbgrader_meta(c)["grade_id"] for c in solution["cells"] if cell_role(c)}
    notes: list[str] = []
    for cell in submission["cells"]:
        gid = nbgrader_meta(cell).get("grade_id")
        if _generated(cell) and gid not in known:
            continue  # the release's check helper and summary: never a student's extra code
        if isinstance(gid, str) and gid in known:
            if gid in answers:
                notes.append(f"duplicate cell '{gid}' ignored")
                continue
            answers[gid] = cell
            anchor = gid
        elif cell.get("cell_type") == "code":
            extras.setdefault(anchor, []).append(cell)

    wanted = [nbgrader_meta(c)["grade_id"] for c in solution["cells"] if cell_role(c) == "answer"]
    missing = [g for g in wanted if g not in answers]
    if missing and len(missing) == len(wanted):
        raise InvalidSubmission(f"none of the answer cells of '{assignment}' are in this notebook: "
                                "is it the right assignment?")
    if missing:
        raise InvalidSubmission(f"answer cell(s) {', '.join(repr(m) for m in missing)} missing (deleted?); "
                                "copy your answers into a fresh copy of the assignment notebook")

    plan: list[CellPlan] = []
    extra_count = 0

    def add_extras(key: str | None) -> None:
        nonlocal extra_count
        for cell in extras.get(key, []):
            extra_count += 1
            plan.append(CellPlan(_source(cell)[:MAX_CELL_CHARS], f"extra cell {extra_count}", "extra"))

    add_extras(None)
    for cell in solution["cells"]:
        role = cell_role(cell)
        if role is None:
            continue
        gid = nbgrader_meta(cell)["grade_id"]
        if role == "answer":
            student_cell = answers[gid]
            src = _source(student_cell) if student_cell.get("cell_type") == "code" else ""
            plan.append(CellPlan(src[:MAX_CELL_CHARS], gid, "answer"))
        elif role == "instructor" and cell.get("cell_type") == "code" and not _skipped(cell):
            plan.append(CellPlan(_source(cell), gid, "instructor"))
        add_extras(gid)
    return plan, notes


def path_text(path: Path | str) -> str:
    """A file name as text that any UTF-8 output takes: bytes that are not UTF-8 become ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def student_id(path: Path, assignment: str) -> str:
    """The file stem, or the folder name in nbgrader's ``<student>/<assignment>/<assignment>.ipynb`` layout."""
    if path.parent.name == assignment and path.stem == assignment and path.parent.parent.name:
        return path_text(path.parent.parent.name)
    return path_text(path.stem)
