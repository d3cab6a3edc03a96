"""After grading: every file made from the gradebook, refreshed together; the summary and the
terminal lines (one per result, human or JSON).

``grade``, ``report`` and ``override`` all end here, so the exports (analysis CSVs,
Gradescope JSON, the LMS files of :mod:`autograder.lms_exports`), the report and a
student's feedback never disagree with the gradebook. What a batch could not grade
(invalid, superseded, colliding submissions) is kept beside the LMS settings, so the
report names them too.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.errors import UsageError
from autograder.files import write_json
from autograder.lms_exports import export_lms, missing_results, settings_folder
from autograder.lms_exports import remember as remember_lms
from autograder.result import Outcome
from autograder.roster import Roster, load
from autograder.roster import read_roster as _read_roster

NOT_GRADED = "not_graded.json"


def read_roster(path: Path) -> Roster:
    return _read_roster(path)


def name_from_roster(items: list, roster: Roster | None) -> None:
    """Display names (and SIS ids, sections) from the roster, for the submissions it knows."""
    if roster is None:
        return
    for item in items:
        person = roster.find(item.student, item.name)
        if person is not None:
            item.name = person.name
            item.lms = {**item.lms, "sis_user_id": person.sis_user_id, "sis_login_id": person.sis_login_id,
                        "section": person.section}


def canvas_people(roster: Roster | None) -> dict[str, str] | None:
    """A Canvas roster's user ids and their names as Canvas writes them in its downloads."""
    from autograder.intake import canvas_name_part

    if roster is None or roster.kind != "canvas":
        return None
    return {p.id: canvas_name_part(p.name) for p in roster.people}


def check_lms(roster: Roster | None, assignment: str, column: str | None) -> None:
    """Before grading: refuse (UsageError) an LMS column the exports could not write truthfully."""
    from autograder.lms_exports import canvas_column

    if roster is not None and roster.kind == "canvas":
        canvas_column(roster, assignment, column)
    elif column is not None and (roster is None or roster.kind != "canvas"):
        raise UsageError("--lms-column names a Canvas gradebook column: give the Canvas gradebook export as "
                         "--roster too (it says the students' ids and the column's points)")


def remember(out: Path, assignment: str, roster: Roster | None, column: str | None, missing_as_zero: bool,
             results: list[dict] | None = None) -> None:
    remember_lms(out, assignment, roster, column, missing_as_zero)
    if results is not None:  # what the gradebook does not hold: superseded attempts, claims of one id
        kept = [{k: r.get(k) for k in ("student", "name", "submission", "status", "message")}
                for r in results if r.get("not_graded")
                and (r["status"] == "error" or r["message"].startswith("not graded: superseded by"))]
        write_json(settings_folder(out, assignment) / NOT_GRADED, kept)


def not_graded(out: Path, assignment: str) -> list[dict]:
    path = settings_folder(out, assignment) / NOT_GRADED
    return json.loads(path.read_text()) if path.exists() else []


def stored(out: Path, assignment: str, gradebook) -> list[dict]:
    """The counted results, named and identified from the remembered roster."""
    results = gradebook.results(assignment)
    roster = load(settings_folder(out, assignment))
    if roster is not None:
        for r in results:
            person = roster.find(r["student"], r.get("name") or "")
            if person is not None:
                r["name"] = person.name
                r["lms"] = {**(r.get("lms") or {}), "sis_user_id": person.sis_user_id,
                            "sis_login_id": person.sis_login_id, "section": person.section}
    return results


def missing(out: Path, assignment: str, gradebook) -> list[dict]:
    results = gradebook.results(assignment)
    max_score = max((r.get("max_score") or 0 for r in results), default=0)
    claimed = {r["student"] for r in not_graded(out, assignment)}
    return missing_results(results, load(settings_folder(out, assignment)), assignment, max_score, claimed)


def refresh(out: Path, assignment: str, gradebook) -> tuple[list[Path], list[str]]:
    """Every student's feedback, every export and the report, from the gradebook's counted
    results (overrides and the roster's names included); the report's page comes last. Also
    returns what the instructor should be told about the LMS files."""
    from autograder.exports import export_all
    from autograder.feedback_files import render
    from autograder.record import write_feedback
    from autograder.report import report

    results = stored(out, assignment, gradebook)
    for r in results:
        write_feedback(out, assignment, r["student"], render(r))
    absent = missing(out, assignment, gradebook)
    lms_files, notes = export_lms(out, assignment, results, absent)
    written = export_all(out, assignment, results)[:2] + lms_files
    written.append(report(out, assignment, results, not_graded(out, assignment), absent))
    return written, notes


def kept_lines(kept: list) -> list[str]:
    """What a batch did not let replace a graded result (see :func:`autograder.gradebook.counts`)."""
    lines = []
    for result, before in kept:
        who = result.name or result.student
        lines.append(f"  kept {printable(who)}'s graded result ({before['score']:g}/{before['max_score']:g} from "
                     f"{printable(before.get('submission') or '?')}): this batch's {printable(result.submission)} is "
                     f"{result.status} ({printable(result.message)}); --replace counts it instead")
    return lines


def saved_roster(out: Path, assignment: str) -> Roster | None:
    return load(settings_folder(out, assignment))


def saved_column(out: Path, assignment: str) -> str | None:
    from autograder.lms_exports import settings

    return settings(out, assignment).get("column")


def history_lines(history: list[dict], override: dict | None) -> list[str]:
    """``autograder history``: one line per grading, oldest first, the counted one marked."""
    lines = []
    for h in history:
        r = h["result"]
        head = f"{r['score']:g}/{r['max_score']:g}" if r["status"] == "graded" else r["status"].upper()
        marks = [m for m, on in (("COUNTS", h["counted"]), (f"batch undone {h['undone_at']}", h["undone_at"])) if on]
        lines.append(f"batch {h['batch']} {h['batch_started_at']}  {head}  {printable(r.get('submission') or '')}"
                     f"  sha256 {(r.get('sha256') or '-')[:12]}" + (f"  [{', '.join(marks)}]" if marks else ""))
        if r["status"] != "graded":
            lines.append(f"    {printable(r.get('message') or '')}")
    if override:
        lines.append(f"override: {override['score']:g} (set by hand: {printable(override['reason'])}): this is "
                     "the score every export carries")
    return lines


def summary_lines(results: list[dict], ignored: list[str], missing_students: list[dict]) -> list[str]:
    """The batch's summary: counts, then each student not graded, missing or timed out, by name."""
    from autograder.report import summary

    s = summary([{**r, "final_score": r.get("score", 0.0)} for r in results if r["status"] != "error"])
    errors = sum(r["status"] == "error" for r in results)
    lines = [f"{s['graded']} graded, {s['invalid']} invalid, {errors} errors, {s['timeouts']} with a timeout, "
             f"{len(missing_students)} missing; mean score {s['mean']:.2f}, median {s['median']:.2f} of "
             f"{s['max_score']:g}"]

    def who(r: dict) -> str:
        name = r.get("name") or r["student"]
        return printable(name if name == r["student"] else f"{name} ({r['student']})")

    lines += [f"  {who(r)}: {printable(r['message'])}" for r in results if r.get("not_graded")]
    lines += [f"  {who(r)}: timed out in "
              + ", ".join(sorted({c['exercise'] for c in r['checks'] if c.get('outcome') == Outcome.TIMEOUT}))
              for r in results if any(c.get("outcome") == Outcome.TIMEOUT for c in r.get("checks", []))]
    lines += [f"  {who(r)}: missing (handed in nothing)" for r in missing_students]
    lines += [f"  ignored: {printable(text)}" for text in ignored]
    return lines


def printable(text: str) -> str:
    """Control characters escaped, so that a student id or a message stays on its line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def human_line(result: dict) -> str:
    """One line for a TA's terminal, from a result's JSON form."""
    status = result["status"]
    head = f"{result['score']:g}/{result['max_score']:g}" if status == "graded" else status.upper()
    reused = " (unchanged, not regraded)" if result.get("reused") else ""
    return f"{printable(result['student'])}: {head} — {printable(result['message'])}{reused}"


def json_line(result: dict) -> str:
    """A result's JSON form on one line (``grade --json``)."""
    # json.dumps escapes every control character below U+0020 but not these three, at which
    # Python's str.splitlines (and some JSON-lines readers) also break a line.
    text = json.dumps(result, ensure_ascii=False, allow_nan=False)
    return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
