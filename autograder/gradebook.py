"""The gradebook: one SQLite file, one row per student per assignment.

Crash-only by construction: a result is committed in a single transaction the
moment it exists (WAL journal, synchronous=FULL), so a grader killed at any
instant leaves every committed row whole and re-running finishes the rest.
The batch runner's main thread is the only writer. Manual overrides live in
their own table: regrading replaces the automatic score, never an override.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
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
    result             TEXT NOT NULL,      -- the result's JSON form (autograder.result), less its checks
    PRIMARY KEY (student, assignment)
);
CREATE TABLE IF NOT EXISTS overrides (
    student    TEXT NOT NULL,
    assignment TEXT NOT NULL,
    score      REAL NOT NULL,
    reason     TEXT NOT NULL,
    set_at     TEXT NOT NULL,
    PRIMARY KEY (student, assignment)
);
"""

COLUMNS = ("student", "assignment", "status", "score", "max_score", "message", "sha256", "submission",
           "assignment_version", "grader_version", "backend", "device", "duration_s", "graded_at")


class Gradebook:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def record(self, result: dict) -> None:
        """Store one result (its JSON form) atomically, replacing the previous automatic grade."""
        row = {c: result.get(c) for c in COLUMNS}
        row["score"] = float(result.get("score") or 0.0)
        row["checks"] = json.dumps(result.get("checks", []))
        row["result"] = json.dumps({k: v for k, v in result.items() if k != "checks"})
        names = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self.db:  # one transaction: the row is there whole, or not at all
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(f"INSERT OR REPLACE INTO grades ({names}) VALUES ({marks})", row)

    def get(self, student: str, assignment: str) -> dict | None:
        cur = self.db.execute("SELECT result, checks FROM grades WHERE student = ? AND assignment = ?",
                              (student, assignment))
        found = cur.fetchone()
        return _joined(*found) if found else None

    def results(self, assignment: str) -> list[dict]:
        """Every stored result of an assignment, with ``final_score`` (override or automatic)."""
        cur = self.db.execute(
            "SELECT g.result, g.checks, o.score, o.reason FROM grades g LEFT JOIN overrides o "
            "ON o.student = g.student AND o.assignment = g.assignment WHERE g.assignment = ? ORDER BY g.student",
            (assignment,))
        out = []
        for result, checks, override, reason in cur.fetchall():
            r = _joined(result, checks)
            r["override"] = None if override is None else {"score": override, "reason": reason}
            r["final_score"] = r.get("score", 0.0) if override is None else override
            out.append(r)
        return out

    def set_override(self, student: str, assignment: str, score: float, reason: str) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT OR REPLACE INTO overrides VALUES (?, ?, ?, ?, ?)",
                            (student, assignment, float(score), reason,
                             datetime.now(timezone.utc).isoformat(timespec="seconds")))

    def clear_override(self, student: str, assignment: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM overrides WHERE student = ? AND assignment = ?", (student, assignment))


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
