"""Which notebooks were copied: similarity across a class, on the code students wrote.

Only what a student wrote counts: the answer cells (nbgrader ``solution: true``), minus the
starter code of the student notebook (its lines, matched by grade_id, else by cell id).
Markdown, instructor cells and the cells ``autograder release`` generates never count.

The engine is copydetect's (pinned in ``requirements/instructor.txt``): its pygments
tokeniser replaces every name by ``V``/``F``/``O`` and every string by ``S`` and drops
comments and whitespace, so renamed variables, changed comments and layout do not hide a
copy; its winnowed k-gram fingerprints are order-free, so reordered definitions do not
either. What every submission shares is removed before comparing: fingerprints of the
starter notebook's code and hints (comments and markdown code included), of the solution
notebook's scaffolding, and fingerprints that more than ``common`` of the class have.

A pair's score is the mean over the exercises of the share of both students' remaining code
in the exercise that the other has in the same exercise (``(matched_a + matched_b) /
(code_a + code_b)``), so one rewritten exercise costs a copy one exercise's share, however
long it is; docs/similarity.md says how the
threshold was chosen and its measured false-positive rate.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import InvalidSubmission
from autograder.files import safe_name, write_text
from autograder.notebooks.reading import _generated, _source, cell_role, nbgrader_meta, path_text, read_notebook

THRESHOLD = 0.6      # a pair at or above this score is reported (docs/similarity.md: its false-positive rate)
K = 20               # characters of tokenised code in a k-gram
WINDOW = 4           # winnowing window: a match of K + WINDOW - 1 characters is always found
COMMON = 0.2         # a fingerprint in more than this share of the notebooks is code everyone writes
COMMON_MIN = 10      # ... and in more than this many of them (MOSS's default): small classes keep theirs
EXERCISE_SHARE = 0.5  # an exercise "matches" when this share of its code (either side) is matched
PAGES_BELOW = 20     # pages also for the top pairs under the threshold, so the cut can be judged

_HINT_NOISE = re.compile(r"^\s*#+\s?|Helpful:|about \d+ lines?|YOUR CODE HERE|BEGIN SOLUTION|END SOLUTION")
_MD_CODE = re.compile(r"```[a-z]*\n(.*?)```|`([^`\n]+)`", re.S)


# ---------------------------------------------------------------- what the students wrote

_DEF = re.compile(r"\s*def\s+(\w+)\s*\(")


def _line_key(line: str) -> str:
    """A line as starter lines are matched: stripped; a ``def`` line by its function's name
    (a copy that renames the parameters keeps the starter's signature)."""
    m = _DEF.match(line)
    return f"def {m[1]}" if m else line.strip()

@dataclass
class Starter:
    """The assignment's notebooks: which cells are answers, their starter lines, and the code
    every student is given (never evidence of copying)."""

    answers: list[str]                          # answer cells' grade_ids, in the notebook's order
    lines: dict[str, set[str]]                  # grade_id -> the starter cell's lines (stripped)
    by_cell_id: dict[str, str]                  # a starter answer cell's id -> its grade_id
    given: list[str] = field(default_factory=list)  # code and hints of the notebooks (boilerplate)

    @classmethod
    def from_notebooks(cls, starter: dict, solution: dict | None = None) -> Starter:
        answers, lines, by_cell_id, given = [], {}, {}, []
        for cell in starter.get("cells", []):
            role, src = cell_role(cell), _source(cell)
            if cell.get("cell_type") == "markdown":
                given += [m[1] or m[2] for m in _MD_CODE.finditer(src)]
            elif role == "answer":
                gid = nbgrader_meta(cell)["grade_id"]
                answers.append(gid)
                lines[gid] = {_line_key(line) for line in src.splitlines() if line.strip()}
                if isinstance(cell.get("id"), str):
                    by_cell_id[cell["id"]] = gid
                for line in src.splitlines():
                    if line.lstrip().startswith("#"):  # a hint, as written or as students use it
                        hint = _HINT_NOISE.sub("", line)
                        given += [hint, f"_ = {hint}", f"return {hint}"]
            elif cell.get("cell_type") == "code" and not _generated(cell):
                given.append(src)   # instructor cells: imports, worked examples students adapt
        for cell in (solution or {}).get("cells", []):
            src = _source(cell)
            if cell_role(cell) == "answer":  # the scaffolding around the solution, not the solution
                given.append(re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", src, flags=re.S))
            elif cell.get("cell_type") == "code" and not _generated(cell) and cell_role(cell) != "test":
                given.append(src)
        return cls(answers, lines, by_cell_id, [g for g in given if g.strip()])


def written(notebook: dict, starter: Starter) -> dict[str, str]:
    """The code a student wrote, per answer cell: the cell minus the starter's lines. Only
    answer cells of the assignment count (never markdown, instructor or generated cells)."""
    found: dict[str, str] = {}
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise InvalidSubmission("not a notebook: no list of cells")
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        gid = gid if isinstance(gid, str) else None
        if gid not in starter.lines:
            gid = starter.by_cell_id.get(cell.get("id")) if not gid else None
        if gid is None or gid in found or (_generated(cell) and gid not in starter.lines):
            continue
        given = starter.lines[gid]
        found[gid] = "\n".join(line for line in _source(cell).splitlines()
                                if _line_key(line) not in given).strip("\n")
    if not found:
        raise InvalidSubmission("none of the assignment's answer cells are in this notebook")
    return {gid: found[gid] for gid in starter.answers if gid in found}


# ---------------------------------------------------------------- fingerprints (copydetect)

@dataclass
class Document:
    """One student's written code, tokenised: exercises one after the other."""

    student: str
    name: str
    term: str                                   # "" for this class, else the --against folder
    path: str
    exercises: list[tuple[str, str]]            # (grade_id, written code)
    tokens: str = ""                            # copydetect's filtered code, exercises concatenated
    bounds: list[tuple[int, int]] = field(default_factory=list)   # each exercise's range in tokens
    offsets: list = field(default_factory=list)  # per exercise: copydetect's offsets (tokens -> code)
    hashes: set = field(default_factory=set)
    where: dict = field(default_factory=dict)   # hash -> positions in tokens
    coverage: object = None                     # bool array: tokens that a kept fingerprint covers
    totals: list = field(default_factory=list)  # per exercise: how many of its tokens are covered
    per_exercise: list = field(default_factory=list)  # each exercise's fingerprints

    @property
    def label(self) -> str:
        return f"{self.term}/{self.student}" if self.term else self.student


def _tokens(code: str) -> tuple[str, object]:
    from copydetect.utils import filter_code

    return filter_code(code, "answer.py", "python")


def _hash(kgram: str) -> int:
    """A k-gram's hash, the same in every run (copydetect's own is Python's ``hash``, salted per
    process: the same class would score a little differently each time)."""
    return int.from_bytes(hashlib.blake2b(kgram.encode(), digest_size=8).digest(), "little", signed=True)


def _fingerprints(tokens: str, k: int, window: int) -> tuple[set, dict]:
    """copydetect's winnowing of the k-grams' hashes: the fingerprints and where each one is."""
    import numpy as np
    from copydetect.utils import winnow

    if len(tokens) < k:
        return set(), {}
    hashes = np.array([_hash(tokens[i:i + k]) for i in range(len(tokens) - k + 1)], dtype=np.int64)
    selected, idx = winnow(hashes, window, remove_duplicates=False)
    where: dict[int, list[int]] = {}
    for h, i in zip(selected.tolist(), idx.tolist()):
        where.setdefault(h, []).append(i)
    return set(where), where


def given_hashes(starter: Starter, k: int = K, window: int = 1) -> set:
    """Every k-gram of the code and hints students are given (all of them, not winnowed)."""
    found: set = set()
    for text in starter.given:
        found |= _fingerprints(_tokens(text)[0], k, window)[0]
    return found


def tokenise(doc: Document, k: int = K, window: int = WINDOW) -> Document:
    """copydetect's tokens and winnowed fingerprints, exercise by exercise (no k-gram spans two)."""
    parts, bounds, offsets, at = [], [], [], 0
    doc.where, doc.per_exercise = {}, []
    for _, code in doc.exercises:
        filtered, offs = _tokens(code)
        hashes, where = _fingerprints(filtered, k, window)
        for h, positions in where.items():
            doc.where.setdefault(h, []).extend(int(p) + at for p in positions)
        doc.per_exercise.append(set(hashes))
        parts.append(filtered)
        bounds.append((at, at + len(filtered)))
        offsets.append(offs)
        at += len(filtered)
    doc.tokens, doc.bounds, doc.offsets = "".join(parts), bounds, offsets
    doc.hashes = set(doc.where)
    return doc


def drop_shared(docs: list[Document], given: set, common: float = COMMON, common_min: int = COMMON_MIN,
                k: int = K) -> set:
    """Remove the given code's fingerprints and those most of the class has; returns the latter."""
    import numpy as np

    counts: dict = {}
    for doc in docs:
        for h in doc.hashes:
            counts[h] = counts.get(h, 0) + 1
    limit = max(common_min, common * len(docs))
    frequent = {h for h, n in counts.items() if n > limit}
    for doc in docs:
        for h in doc.hashes & (given | frequent):
            del doc.where[h]
        doc.hashes = set(doc.where)
        doc.per_exercise = [s & doc.hashes for s in doc.per_exercise]
        cover = np.zeros(len(doc.tokens), dtype=bool)
        for positions in doc.where.values():
            for p in positions:
                cover[p:p + k] = True
        doc.coverage = cover
        doc.totals = [int(cover[lo:hi].sum()) for lo, hi in doc.bounds]
    return frequent


# ---------------------------------------------------------------- pairs

@dataclass
class Pair:
    a: Document
    b: Document
    score: float
    matched: tuple = ()                          # (bool array over a.tokens, over b.tokens)
    exercises: list[tuple[str, float]] = field(default_factory=list)  # (grade_id, share matched), best first

    @property
    def key(self) -> str:
        return f"{safe_name(self.a.label)}--{safe_name(self.b.label)}"


def compare(a: Document, b: Document, k: int = K) -> Pair:
    """Exercise by exercise: the share of both students' code in it that the other has in the
    same exercise. The pair's score is the mean over the exercises where either wrote code of
    their own (an exercise only one of them answered counts 0)."""
    import numpy as np

    if not a.hashes & b.hashes:
        return Pair(a, b, 0.0)
    masks = [np.zeros(len(a.tokens), dtype=bool), np.zeros(len(b.tokens), dtype=bool)]
    shares: list[tuple[str, float]] = []
    b_ids = {gid: n for n, (gid, _) in enumerate(b.exercises)}
    a_ids = {gid for gid, _ in a.exercises}
    per_a, per_b = a.per_exercise, b.per_exercise
    for i, (gid, _) in enumerate(a.exercises):
        j = b_ids.get(gid)
        (alo, ahi) = a.bounds[i]
        total_a = a.totals[i]
        if j is None:
            if total_a:
                shares.append((gid, 0.0))
            continue
        (blo, bhi) = b.bounds[j]
        total_b = b.totals[j]
        if not total_a + total_b:
            continue
        shared = per_a[i] & per_b[j]
        if not shared:
            shares.append((gid, 0.0))
            continue
        matched = 0
        for doc, mask, (lo, hi) in ((a, masks[0], (alo, ahi)), (b, masks[1], (blo, bhi))):
            here = np.zeros(hi - lo, dtype=bool)
            for h in shared:
                for p in doc.where[h]:
                    if lo <= p < hi:
                        here[p - lo:p - lo + k] = True
            here &= doc.coverage[lo:hi]
            mask[lo:hi] |= here
            matched += int(here.sum())
        shares.append((gid, matched / (total_a + total_b)))
    for gid, n in b_ids.items():
        if gid not in a_ids and b.totals[n]:
            shares.append((gid, 0.0))
    score = sum(s for _, s in shares) / len(shares) if shares else 0.0
    exercises = sorted(((g, s) for g, s in shares if s >= EXERCISE_SHARE), key=lambda x: -x[1])
    return Pair(a, b, score, (masks[0], masks[1]), exercises)


def all_pairs(docs: list[Document], k: int = K, floor: float = 0.0) -> list[Pair]:
    """Pairs of this class, and of this class with past terms (never two past ones), whose
    score is at least ``floor``, best first. Pairs that share no fingerprint are skipped."""
    index: dict = {}
    for n, doc in enumerate(docs):
        for h in doc.hashes:
            index.setdefault(h, []).append(n)
    candidates: set = set()
    for holders in index.values():
        for i, x in enumerate(holders):
            for y in holders[i + 1:]:
                candidates.add((x, y))
    pairs = []
    for x, y in candidates:
        a, b = docs[x], docs[y]
        if a.term and b.term:
            continue
        if a.term:
            a, b = b, a
        pair = compare(a, b, k)
        if pair.score >= floor and pair.score > 0:
            pair.matched = ()   # made again for the pages written: 40 000 pairs' masks would be 100 MB
            pairs.append(pair)
    pairs.sort(key=lambda p: (-p.score, p.a.label, p.b.label))
    return pairs


def clusters(pairs: list[Pair], threshold: float = THRESHOLD) -> list[list[str]]:
    """Groups of three or more students joined by pairs at or above the threshold."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        if p.score >= threshold:
            parent[root(p.a.label)] = root(p.b.label)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(root(x), []).append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) >= 3), key=lambda g: (-len(g), g))


# ---------------------------------------------------------------- reading a class

@dataclass
class Skipped:
    student: str
    path: str
    why: str


def read_class(sources: list[str], assignment: str, starter: Starter, layout: str = "auto",
               term: str = "") -> tuple[list[Document], list[Skipped], list[str]]:
    """Every notebook of the sources, on ``grade``'s intake; a notebook that cannot be read is
    reported and skipped, never fatal. Returns (documents, skipped, the layouts used)."""
    from autograder.lms.intake import collect

    items, _ignored, layouts = collect(list(sources), assignment, layout)
    docs, skipped = [], []
    for item in items:
        shown = path_text(item.path)
        if item.problem is not None:
            skipped.append(Skipped(item.student, shown, item.problem))
            continue
        try:
            notebook, _ = read_notebook(item.path)
            exercises = list(written(notebook, starter).items())
        except InvalidSubmission as exc:
            skipped.append(Skipped(item.student, shown, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - an odd notebook never stops the run
            skipped.append(Skipped(item.student, shown, f"cannot read it ({type(exc).__name__})"))
            continue
        docs.append(Document(item.student, item.name, term, shown, exercises))
    return docs, skipped, layouts


def analyse(docs: list[Document], starter: Starter, k: int = K, window: int = WINDOW, common: float = COMMON,
            common_min: int = COMMON_MIN, floor: float = 0.0) -> list[Pair]:
    """Tokenise, drop what everyone shares, compare: the pairs best first."""
    for doc in docs:
        tokenise(doc, k, window)
    drop_shared(docs, given_hashes(starter, k), common, common_min, k)
    return all_pairs(docs, k, floor)


# ---------------------------------------------------------------- outputs

def _spans(code: str, mask, offsets) -> list[tuple[str, bool]]:
    """``code`` cut into (text, matched) runs: the matched token positions mapped back to the
    code with copydetect's offsets (characters the tokeniser removed before each position)."""
    import numpy as np

    if mask is None or not mask.any():
        return [(code, False)]
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, ends = edges[0::2], edges[1::2]
    if len(offsets):
        at = np.clip(np.searchsorted(offsets[:, 0], starts), 0, offsets.shape[0] - 1)
        starts = starts + offsets[:, 1][at]
        at = np.clip(np.searchsorted(offsets[:, 0], ends), 0, offsets.shape[0] - 1)
        ends = ends + offsets[:, 1][at]
    runs, pos = [], 0
    for s, e in zip(starts, ends):
        s, e = max(int(s), pos), min(int(e), len(code))
        if e <= s:
            continue
        if s > pos:
            runs.append((code[pos:s], False))
        runs.append((code[s:e], True))
        pos = e
    if pos < len(code):
        runs.append((code[pos:], False))
    return runs


def _side_by_side(pair: Pair) -> list[dict]:
    shares = dict(pair.exercises)
    rows = []
    gids = [g for g, _ in pair.a.exercises] + [g for g, _ in pair.b.exercises if g not in dict(pair.a.exercises)]
    for gid in gids:
        sides = []
        for doc, mask in zip((pair.a, pair.b), pair.matched or (None, None)):
            ids = [g for g, _ in doc.exercises]
            if gid not in ids:
                sides.append([("(no answer cell)", False)])
                continue
            n = ids.index(gid)
            lo, hi = doc.bounds[n]
            sides.append(_spans(doc.exercises[n][1], None if mask is None else mask[lo:hi], doc.offsets[n]))
        rows.append({"exercise": gid, "share": shares.get(gid), "left": sides[0], "right": sides[1]})
    return rows


def _who(doc: Document) -> str:
    name = f"{doc.name} ({doc.student})" if doc.name and doc.name != doc.student else doc.student
    return f"{name}, {doc.term}" if doc.term else name


def write(out: Path, assignment: str, docs: list[Document], pairs: list[Pair], skipped: list[Skipped],
          threshold: float = THRESHOLD) -> dict[str, Path]:
    """``index.html`` (ranked pairs, clusters, skipped notebooks), ``pairs.csv``, and a page per
    pair at or above the threshold (and the next ``PAGES_BELOW``) with the matches highlighted."""
    from autograder.outputs.pages import render

    out.mkdir(parents=True, exist_ok=True)
    above = [p for p in pairs if p.score >= threshold]
    paged = above + [p for p in pairs if p.score < threshold][:PAGES_BELOW]
    pages = {}
    for rank, pair in enumerate(paged, 1):
        if not pair.matched:
            pair.matched = compare(pair.a, pair.b).matched
        page = Path("pairs") / f"{pair.key}.html"
        write_text(out / page, render("similarity_pair.html.j2", assignment=assignment, pair=pair, rank=rank,
                                      left=_who(pair.a), right=_who(pair.b), threshold=threshold,
                                      rows=_side_by_side(pair)))
        pages[id(pair)] = page.as_posix()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", "score", "student_a", "name_a", "student_b", "name_b", "term_b", "exercises", "page"])
    for rank, p in enumerate(pairs, 1):
        w.writerow([rank, f"{p.score:.3f}", p.a.student, p.a.name, p.b.student, p.b.name, p.b.term,
                    " ".join(f"{g}:{s:.0%}" for g, s in p.exercises), pages.get(id(p), "")])
    csv_path = write_text(out / "pairs.csv", buf.getvalue())
    groups = clusters(pairs, threshold)
    index = write_text(out / "index.html", render(
        "similarity.html.j2", assignment=assignment, threshold=threshold, documents=len(docs),
        terms=sorted({d.term for d in docs if d.term}), pairs=[(p, _who(p.a), _who(p.b), pages.get(id(p)))
                                                               for p in paged],
        above=len(above), clusters=groups, skipped=skipped))
    return {"index": index, "csv": csv_path, "pages": out / "pairs"}


def run(assignment: str, starter_path: Path, solution_path: Path | None, sources: list[str], against: list[str],
        out: Path, layout: str = "auto", threshold: float = THRESHOLD) -> tuple[list[Document], list[Pair],
                                                                              list[Skipped], dict]:
    """The command's body: read this class (and past terms), compare, write the outputs."""
    starter_nb, _ = read_notebook(starter_path)
    solution_nb = read_notebook(solution_path)[0] if solution_path is not None and solution_path.exists() else None
    starter = Starter.from_notebooks(starter_nb, solution_nb)
    docs, skipped, _ = read_class(sources, assignment, starter, layout)
    for folder in against:
        past, past_skipped, _ = read_class([folder], assignment, starter, layout, term=Path(folder).name or folder)
        docs += past
        skipped += past_skipped
    pairs = analyse(docs, starter)
    written_files = write(out, assignment, docs, pairs, skipped, threshold)
    return docs, pairs, skipped, written_files
