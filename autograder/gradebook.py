"""The gradebook: one SQLite file holding every grading ever stored, and which one counts.

Tables::

    batches    one row per batch that stored something (its assignment, sources, time; undone_at)
    gradings   every result ever stored, never overwritten: its JSON form, its batch
    counted    per student and assignment, the grading that counts
    changes    what each batch changed in ``counted`` (before -> after), so it can be undone
    overrides  manual scores, apart: regrading never erases one
    extensions per-student later due dates, with the reason: each grant and revocation kept (the
               newest grant not revoked applies; :mod:`autograder.policies` counts with it)
    grades     a view: the counted grading of each student, as the one-row-per-student table
               of earlier versions (which is migrated into this shape when opened)

Which grading counts (:func:`counts`): the latest graded one by default. A newer result
that is *not* graded (``invalid``) replaces a graded one only when it comes from the same
file (same SHA-256) or when the command says ``--replace``: a zip of another assignment,
or a broken re-upload, never silently erases a good grade (it is stored, and the batch
says what it kept). Undoing a batch restores ``counted`` as it was before it; its gradings
stay, marked undone.

Crash-only by construction: a result is committed in a single transaction the moment it
exists (WAL journal, synchronous=FULL), so a grader killed at any instant leaves every
committed row whole and re-running finishes the rest. The batch runner's main thread is
the only writer.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from autograder.policies.model import Extension

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment TEXT NOT NULL,
    sources    TEXT NOT NULL,              -- JSON list: what the command was given
    started_at TEXT NOT NULL,
    undone_at  TEXT
);
CREATE TABLE IF NOT EXISTS gradings (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    batch              INTEGER NOT NULL REFERENCES batches(id),
    student            TEXT NOT NULL,
    assignment         TEXT NOT NULL,
    status             TEXT NOT NULL,      -- graded | invalid
    score              REAL NOT NULL,
    max_score          REAL,
    message            TEXT,
    checks             TEXT NOT NULL,      -- JSON list of per-check results (only here)
    sha256             TEXT,
    submission         TEXT,
    assignment_version TEXT,
    grader_version     TEXT,
    backend            TEXT,
    device             TEXT,
    duration_s         REAL,
    graded_at          TEXT,
    result             TEXT NOT NULL       -- the result's JSON form (autograder.result), less its checks
);
CREATE INDEX IF NOT EXISTS gradings_by_student ON gradings (assignment, student);
CREATE TABLE IF NOT EXISTS counted (
    student    TEXT NOT NULL,
    assignment TEXT NOT NULL,
    grading    INTEGER NOT NULL REFERENCES gradings(id),
    PRIMARY KEY (student, assignment)
);
CREATE TABLE IF NOT EXISTS changes (
    batch      INTEGER NOT NULL REFERENCES batches(id),
    student    TEXT NOT NULL,
    assignment TEXT NOT NULL,
    before     INTEGER,                    -- the grading that counted before the batch (NULL: none)
    after      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS overrides (
    student    TEXT NOT NULL,
    assignment TEXT NOT NULL,
    score      REAL NOT NULL,
    reason     TEXT NOT NULL,
    set_at     TEXT NOT NULL,
    PRIMARY KEY (student, assignment)
);
CREATE TABLE IF NOT EXISTS extensions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    student       TEXT NOT NULL,
    assignment    TEXT NOT NULL,
    until         TEXT NOT NULL,           -- ISO instant with its UTC offset
    reason        TEXT NOT NULL,
    granted_at    TEXT NOT NULL,
    revoked_at    TEXT,                    -- set once, never cleared: a revoked grant stays in the history
    revoke_reason TEXT
);
CREATE INDEX IF NOT EXISTS extensions_by_student ON extensions (assignment, student);
CREATE VIEW IF NOT EXISTS grades AS
    SELECT g.student, g.assignment, g.status, g.score, g.max_score, g.message, g.checks, g.sha256, g.submission,
           g.assignment_version, g.grader_version, g.backend, g.device, g.duration_s, g.graded_at, g.result,
           g.id AS grading, g.batch
    FROM counted c JOIN gradings g ON g.id = c.grading;
"""

COLUMNS = ("student", "assignment", "status", "score", "max_score", "message", "sha256", "submission",
           "assignment_version", "grader_version", "backend", "device", "duration_s", "graded_at")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def counts(before: dict | None, new: dict, replace: bool = False) -> bool:
    """Whether ``new`` (a result's JSON form) becomes the counted result over ``before``."""
    if before is None or replace or new["status"] == "graded" or before["status"] != "graded":
        return True
    return bool(new.get("sha256")) and new.get("sha256") == before.get("sha256")


class Gradebook:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            old = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'grades' AND type = 'table'").fetchone()
            if old:
                self.db.execute("ALTER TABLE grades RENAME TO grades_before_history")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            if old:
                self._migrate()

    def _migrate(self) -> None:
        """A gradebook of one row per student becomes one batch of those gradings, each counted."""
        rows = self.db.execute("SELECT * FROM grades_before_history").fetchall()
        names = [d[0] for d in self.db.execute("SELECT * FROM grades_before_history LIMIT 0").description]
        by_assignment: dict[str, int] = {}
        for values in rows:
            row = dict(zip(names, values))
            batch = by_assignment.get(row["assignment"])
            if batch is None:
                batch = by_assignment[row["assignment"]] = self.db.execute(
                    "INSERT INTO batches (assignment, sources, started_at) VALUES (?, ?, ?)",
                    (row["assignment"], json.dumps(["(graded before the gradebook kept a history)"]), now())
                ).lastrowid
            grading = self._insert(row, batch)
            self.db.execute("INSERT INTO counted VALUES (?, ?, ?)", (row["student"], row["assignment"], grading))
            self.db.execute("INSERT INTO changes VALUES (?, ?, ?, NULL, ?)",
                            (batch, row["student"], row["assignment"], grading))
        self.db.execute("DROP TABLE grades_before_history")

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ writing

    def begin_batch(self, assignment: str, sources: list[str]) -> int:
        with self.db:
            return self.db.execute("INSERT INTO batches (assignment, sources, started_at) VALUES (?, ?, ?)",
                                   (assignment, json.dumps(list(sources)), now())).lastrowid

    def _insert(self, row: dict, batch: int) -> int:
        names = ", ".join(["batch", *row])
        marks = ", ".join([":batch", *(f":{k}" for k in row)])
        return self.db.execute(f"INSERT INTO gradings ({names}) VALUES ({marks})", {**row, "batch": batch}).lastrowid

    def record(self, result: dict, batch: int, replace: bool = False,
               on_count: Callable[[dict | None], None] | None = None) -> tuple[bool, dict | None]:
        """Store one result (its JSON form) as a new grading of ``batch``, in one transaction that
        also decides whether it counts (:func:`counts`, against the counted result read in that
        same transaction, so two graders cannot both win). When it counts, ``on_count`` runs first
        (the result's files are written before the row says they exist). Returns whether it
        counts, and the result that counted before."""
        row = {c: result.get(c) for c in COLUMNS}
        row["score"] = float(result.get("score") or 0.0)
        row["checks"] = json.dumps(result.get("checks", []))
        row["result"] = json.dumps({k: v for k, v in result.items() if k != "checks"})
        key = (result["student"], result["assignment"])
        with self.db:  # one transaction: the grading (and what counts) is there whole, or not at all
            self.db.execute("BEGIN IMMEDIATE")
            before = self.get(*key)
            count = counts(before, result, replace)
            if count and on_count is not None:
                on_count(before)
            grading = self._insert(row, batch)
            if count:
                was = self.db.execute("SELECT grading FROM counted WHERE student = ? AND assignment = ?",
                                      key).fetchone()
                self.db.execute("INSERT OR REPLACE INTO counted VALUES (?, ?, ?)", (*key, grading))
                self.db.execute("INSERT INTO changes VALUES (?, ?, ?, ?, ?)",
                                (batch, *key, was[0] if was else None, grading))
        return count, before

    def latest_counts(self, student: str, assignment: str) -> bool:
        """Whether the student's newest grading (of a batch not undone) is the counted one."""
        latest = self.db.execute(
            "SELECT g.id FROM gradings g JOIN batches b ON b.id = g.batch WHERE g.student = ? AND g.assignment = ? "
            "AND b.undone_at IS NULL ORDER BY g.id DESC LIMIT 1", (student, assignment)).fetchone()
        counted = self.db.execute("SELECT grading FROM counted WHERE student = ? AND assignment = ?",
                                  (student, assignment)).fetchone()
        return bool(latest and counted and latest[0] == counted[0])

    def undo_last_batch(self, assignment: str) -> tuple[dict, list[str]] | None:
        """Undo the newest batch of ``assignment`` that is not undone yet: ``counted`` as it was
        before it. Returns the batch and the students whose counted result changed."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            found = self.db.execute("SELECT id, sources, started_at FROM batches WHERE assignment = ? AND "
                                    "undone_at IS NULL ORDER BY id DESC LIMIT 1", (assignment,)).fetchone()
            if found is None:
                return None
            batch = {"id": found[0], "sources": json.loads(found[1]), "started_at": found[2]}
            changed = self.db.execute("SELECT student, before, after FROM changes WHERE batch = ? AND assignment = ?"
                                      " ORDER BY rowid DESC", (batch["id"], assignment)).fetchall()
            for student, before, _after in changed:  # newest first: the first change's "before" wins
                if before is None:
                    self.db.execute("DELETE FROM counted WHERE student = ? AND assignment = ?", (student, assignment))
                else:
                    self.db.execute("INSERT OR REPLACE INTO counted VALUES (?, ?, ?)", (student, assignment, before))
            self.db.execute("UPDATE batches SET undone_at = ? WHERE id = ?", (now(), batch["id"]))
        return batch, sorted({student for student, _, _ in changed})

    def set_override(self, student: str, assignment: str, score: float, reason: str) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT OR REPLACE INTO overrides VALUES (?, ?, ?, ?, ?)",
                            (student, assignment, float(score), reason, now()))

    def clear_override(self, student: str, assignment: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM overrides WHERE student = ? AND assignment = ?", (student, assignment))

    def grant_extension(self, student: str, assignment: str, until: datetime, reason: str) -> Extension:
        """Record a new extension; an earlier grant stays in the history, and the newest applies."""
        if until.tzinfo is None:
            raise ValueError("an extension ends at an aware instant")
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            granted = now()
            rowid = self.db.execute(
                "INSERT INTO extensions (student, assignment, until, reason, granted_at) VALUES (?, ?, ?, ?, ?)",
                (student, assignment, until.isoformat(), reason, granted)).lastrowid
        return Extension(student, assignment, until, reason, granted, rowid)

    def revoke_extension(self, student: str, assignment: str, reason: str) -> Extension | None:
        """Revoke the extension that applies (then an older grant not revoked applies, if any)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            found = self.extension(student, assignment)
            if found is not None:
                self.db.execute("UPDATE extensions SET revoked_at = ?, revoke_reason = ? WHERE id = ?",
                                (now(), reason, found.id))
        return found

    # ------------------------------------------------------------------ reading

    def extension(self, student: str, assignment: str) -> Extension | None:
        """The extension that applies: the newest grant not revoked."""
        found = self.db.execute(
            "SELECT id, until, reason, granted_at FROM extensions WHERE student = ? AND assignment = ? AND "
            "revoked_at IS NULL ORDER BY id DESC LIMIT 1", (student, assignment)).fetchone()
        if found is None:
            return None
        return Extension(student, assignment, datetime.fromisoformat(found[1]), found[2], found[3], found[0])

    def extensions(self, assignment: str | None = None) -> list[dict]:
        """Every grant, oldest first, revoked ones included (``revoked_at``), and whether it applies."""
        where, args = ("WHERE assignment = ?", (assignment,)) if assignment else ("", ())
        rows = self.db.execute(
            f"SELECT id, student, assignment, until, reason, granted_at, revoked_at, revoke_reason FROM extensions "
            f"{where} ORDER BY id", args).fetchall()
        applying = {self.extension(s, a).id for s, a in {(r[1], r[2]) for r in rows} if self.extension(s, a)}
        return [{"id": r[0], "student": r[1], "assignment": r[2], "until": r[3], "reason": r[4],
                 "granted_at": r[5], "revoked_at": r[6], "revoke_reason": r[7], "applies": r[0] in applying}
                for r in rows]


    def get(self, student: str, assignment: str) -> dict | None:
        """The counted result."""
        cur = self.db.execute("SELECT result, checks FROM grades WHERE student = ? AND assignment = ?",
                              (student, assignment))
        found = cur.fetchone()
        return _joined(*found) if found else None

    def latest(self, student: str, assignment: str) -> dict | None:
        """The newest grading of a batch not undone, counted or not (what a rerun may reuse)."""
        found = self.db.execute(
            "SELECT g.result, g.checks FROM gradings g JOIN batches b ON b.id = g.batch WHERE g.student = ? "
            "AND g.assignment = ? AND b.undone_at IS NULL ORDER BY g.id DESC LIMIT 1", (student, assignment)
        ).fetchone()
        return _joined(*found) if found else None

    def override(self, student: str, assignment: str) -> dict | None:
        found = self.db.execute("SELECT score, reason FROM overrides WHERE student = ? AND assignment = ?",
                                (student, assignment)).fetchone()
        return {"score": found[0], "reason": found[1]} if found else None

    def results(self, assignment: str) -> list[dict]:
        """Every counted result of an assignment, with ``final_score`` (override or automatic)."""
        cur = self.db.execute(
            "SELECT g.result, g.checks, o.score, o.reason FROM grades g LEFT JOIN overrides o "
            "ON o.student = g.student AND o.assignment = g.assignment WHERE g.assignment = ? ORDER BY g.student",
            (assignment,))
        out = []
        for result, checks, override, reason in cur.fetchall():
            out.append(with_override(_joined(result, checks),
                                     None if override is None else {"score": override, "reason": reason}))
        return out

    def history(self, student: str, assignment: str) -> list[dict]:
        """Every grading of a student, oldest first: the batch, the result, whether it counts."""
        rows = self.db.execute(
            "SELECT g.id, g.batch, b.started_at, b.sources, b.undone_at, g.result, g.checks, "
            "(SELECT grading FROM counted c WHERE c.student = g.student AND c.assignment = g.assignment) = g.id "
            "FROM gradings g JOIN batches b ON b.id = g.batch WHERE g.student = ? AND g.assignment = ? "
            "ORDER BY g.id", (student, assignment)).fetchall()
        return [{"grading": gid, "batch": batch, "batch_started_at": started, "sources": json.loads(sources),
                 "undone_at": undone, "counted": bool(is_counted), "result": _joined(result, checks)}
                for gid, batch, started, sources, undone, result, checks, is_counted in rows]


def with_override(result: dict, override: dict | None) -> dict:
    """A stored result as everything downstream reads it: its override and ``final_score``."""
    return {**result, "override": override,
            "final_score": result.get("score", 0.0) if override is None else override["score"]}


def _joined(result: str, checks: str) -> dict:
    """A stored row as the result's JSON form again, its checks where they were."""
    stored = json.loads(result)
    if "checks" in stored:  # written before checks were stored only once
        return stored
    out: dict = {}
    for key, value in stored.items():
        out[key] = value
        if key == "max_score":
            out["checks"] = json.loads(checks)
    out.setdefault("checks", json.loads(checks))
    return out
