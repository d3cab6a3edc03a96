"""What instructors take away as files: grade and check CSVs, Gradescope results.

Everything here reads stored results (the gradebook), never a sandbox, and
writes only under the output folder. Student-facing files contain only what the
result's messages say: hidden inputs and reference values never reach them.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from autograder.outputs.feedback import shown_name
from autograder.files import safe_name, write_text

# Canvas' gradebook import: these five identity columns, then one column per assignment.
GRADE_COLUMNS = ["name", "id", "sis_user_id", "sis_login_id", "section", "score", "status", "automatic_score",
                 "max_score", "override_reason", "late", "late_rule", "late_deduction"]
CHECK_COLUMNS = ["student", "assignment", "check", "exercise", "hidden", "passed", "points", "max_points",
                 "outcome", "message"]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula (a student id such as
    ``=HYPERLINK(...)``, a message) gets a leading apostrophe, as OWASP advises."""
    text = str(value)
    if not text.startswith(_FORMULA_START) or text in ("-", "+"):   # a lone sign (Moodle's "-") is no formula
        return text
    try:
        float(text)  # a plain negative number is no formula
        return text
    except ValueError:
        return "'" + text


def csv_text(header: list[str], rows: list[list]) -> str:
    """A CSV file's text, every cell through :func:`cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return buf.getvalue()


def lms_id(result: dict) -> str:
    """The student's id in their LMS (Canvas user id, Moodle participant, Blackboard username)."""
    lms = result.get("lms") or {}
    return str(lms.get("user_id") or lms.get("participant") or lms.get("username") or result["student"])


def grades_csv(results: list[dict], assignment: str) -> str:
    """Every counted grade with the student's name and ids (the roster's, when one was given).
    ``score`` is the counted score (policies, then an override), ``automatic_score`` the stored
    one; ``late`` says late, ``late_rule`` what the policy did in words (the rule applied, an
    extension, late days used), ``late_deduction`` the points it took (none under an override:
    the override's score is what counts)."""
    rows = []
    for r in results:
        override, lms = r.get("override") or {}, r.get("lms") or {}
        policy = r.get("policy") or {}
        late = policy.get("late", bool(lms.get("late")))
        rows.append([r.get("name") or r["student"], lms_id(r), lms.get("sis_user_id", ""), lms.get("sis_login_id", ""),
                     lms.get("section", ""), f"{r['final_score']:g}", r["status"], f"{r.get('score', 0):g}",
                     f"{r.get('max_score') or 0:g}", override.get("reason", ""), "late" if late else "",
                     policy.get("explanation", ""),
                     f"{policy['deduction']:g}" if policy.get("deduction") and not override else ""])
    # Not Canvas' column names: this file is for analysis, and Canvas would import an unknown column
    # as a new assignment (the import file is exports/<assignment>-canvas.csv).
    return csv_text(GRADE_COLUMNS, rows)


def checks_csv(results: list[dict]) -> str:
    rows = [[r["student"], r["assignment"], c["id"], c["exercise"], c["hidden"], c["passed"], f"{c['points']:g}",
             f"{c['max_points']:g}", c.get("outcome", ""), c["message"]]
            for r in results for c in r.get("checks", [])]
    return csv_text(CHECK_COLUMNS, rows)


def gradescope_results(result: dict, hidden_visibility: str = "after_published") -> dict:
    """Gradescope's autograder ``results.json`` for one submission (their published schema).
    Hidden checks show as ``hidden_visibility`` says (by default once grades are published)."""
    tests = [{
        "name": f"{c['exercise']}: {shown_name(c)}",
        "number": str(i + 1),
        "score": c["points"],
        "max_score": c["max_points"],
        "status": "passed" if c["passed"] else "failed",
        "output": c["message"],
        # Hidden checks show once grades are published, never their inputs.
        "visibility": hidden_visibility if c["hidden"] else "visible",
    } for i, c in enumerate(result.get("checks", []))]
    return {
        "score": result.get("final_score", result.get("score", 0.0)),
        "execution_time": int(round(result.get("duration_s") or 0)),
        "output": result.get("message", ""),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def export_all(out: Path, assignment: str, results: list[dict]) -> list[Path]:
    written = [
        write_text(out / "exports" / f"{assignment}-grades.csv", grades_csv(results, assignment)),
        write_text(out / "exports" / f"{assignment}-checks.csv", checks_csv(results)),
    ]
    for r in results:
        written.append(write_text(out / "exports" / "gradescope" / assignment / safe_name(r["student"]) / "results.json",
                              json.dumps(gradescope_results(r), indent=1)))
    return written
