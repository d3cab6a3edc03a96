"""What instructors take away: CSVs, Gradescope results, per-student feedback, the report.

Everything here reads stored results (the gradebook), never a sandbox, and
writes only under the output folder. Student-facing files contain only what the
result's messages say: hidden inputs and reference values never reach them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import statistics
from collections import Counter
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from autograder.files import write_text
from autograder.record import safe_name

_ENV = Environment(loader=PackageLoader("autograder", "templates"), autoescape=select_autoescape(["j2", "html"]))
_CODE_SPAN = re.compile(r"`([^`]*)`")


def code_spans(text: object) -> Markup:
    """``text`` as HTML with each pair of backticks a ``<code>`` element. Escaped first: messages
    quote what the student's code returned, so only the tags added here may be markup. An
    unpaired backtick, or an empty pair, stays literal."""
    escaped = str(escape("" if text is None else text))
    return Markup(_CODE_SPAN.sub(lambda m: f"<code>{m[1]}</code>" if m[1] else m[0], escaped))


_ENV.filters["code_spans"] = code_spans

# Canvas' gradebook import: these five identity columns, then one column per assignment.
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CHECK_COLUMNS = ["student", "assignment", "check", "exercise", "hidden", "passed", "points", "max_points",
                 "outcome", "message"]


def shown_name(check: dict) -> str:
    """The name a student sees of a check (a hidden one's own name may describe its inputs)."""
    if check.get("name"):
        return str(check["name"])
    return "hidden" if check.get("hidden") else str(check.get("id", "")).split(".", 1)[-1]


def student_checks(result: dict) -> list[dict]:
    """Each check as a student may see it: no id (a hidden check's describes its inputs)."""
    return [{"exercise": c.get("exercise"), "name": shown_name(c),
             **{k: c.get(k) for k in ("points", "max_points", "passed", "hidden", "message")}}
            for c in result.get("checks", [])]


def student_json(result: dict) -> dict:
    """The feedback JSON a student may see: no paths, logs or grader internals."""
    keep = ("student", "name", "assignment", "status", "message", "score", "max_score", "override", "graded_at")
    out = {k: result.get(k) for k in keep}
    out["checks"] = student_checks(result)
    return out


def exercise_points(result: dict) -> list[dict]:
    """Per exercise, in the assignment's order: its checks as the student sees them, its points,
    and whether it got full marks."""
    grouped: dict[str, list] = {}
    for c in student_checks(result):
        grouped.setdefault(c["exercise"], []).append(c)
    exercises = []
    for name, checks in grouped.items():
        got, top = sum(c["points"] or 0 for c in checks), sum(c["max_points"] or 0 for c in checks)
        # isclose: points are float sums (0.1 + 0.2 points out of 0.3 is full marks).
        exercises.append({"exercise": name, "checks": checks, "points": got, "max_points": top,
                          "full": got >= top or math.isclose(got, top)})
    return exercises


def headline(exercises: list[dict]) -> str:
    """The page's first line: how far the student got, and where to start."""
    full, total = sum(e["full"] for e in exercises), len(exercises)
    if not total:
        return ""
    if full == total:
        return "Everything passes: well done."
    if not full:
        return "No exercise gets full marks yet; start with the first one below."
    return f"{full} of {total} exercises {'gets' if full == 1 else 'get'} full marks; start with the first one below."


def feedback_html(result: dict) -> str:
    exercises = exercise_points(result)
    # What to fix first on top; sorted() is stable, so each group keeps the assignment's order.
    ordered = sorted(exercises, key=lambda e: e["full"])
    return _ENV.get_template("feedback.html.j2").render(r=result, exercises=ordered, headline=headline(exercises))


def write_feedback(out: Path, result: dict) -> None:
    base = out / "feedback" / result["assignment"] / safe_name(result["student"])
    # Not with_suffix: it would turn "jane.doe" and "jane.roe" both into "jane.html".
    write_text(base.parent / f"{base.name}.html", feedback_html(result))
    write_text(base.parent / f"{base.name}.json", json.dumps(student_json(result), indent=1))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula (a student id such as
    ``=HYPERLINK(...)``, a message) gets a leading apostrophe, as OWASP advises."""
    text = str(value)
    if not text.startswith(_FORMULA_START):
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


def grades_csv(results: list[dict], assignment: str) -> str:
    rows = []
    for r in results:
        override = r.get("override") or {}
        rows.append([r["student"], "", "", r["student"], "", f"{r['final_score']:g}", r["status"],
                     f"{r.get('score', 0):g}", f"{r.get('max_score') or 0:g}", override.get("reason", "")])
    return csv_text(CANVAS_COLUMNS + [assignment, "status", "automatic score", "max score", "override reason"], rows)


def checks_csv(results: list[dict]) -> str:
    rows = [[r["student"], r["assignment"], c["id"], c["exercise"], c["hidden"], c["passed"], f"{c['points']:g}",
             f"{c['max_points']:g}", c.get("outcome", ""), c["message"]]
            for r in results for c in r.get("checks", [])]
    return csv_text(CHECK_COLUMNS, rows)


def gradescope_results(result: dict) -> dict:
    """Gradescope's autograder ``results.json`` for one submission (their published schema)."""
    tests = [{
        "name": f"{c['exercise']}: {shown_name(c)}",
        "number": str(i + 1),
        "score": c["points"],
        "max_score": c["max_points"],
        "status": "passed" if c["passed"] else "failed",
        "output": c["message"],
        # Hidden checks show once grades are published, never their inputs.
        "visibility": "after_published" if c["hidden"] else "visible",
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


def summary(results: list[dict]) -> dict:
    graded = [r for r in results if r["status"] == "graded"]
    scores = [r["final_score"] for r in graded]
    return {
        "total": len(results),
        "graded": len(graded),
        "invalid": sum(r["status"] == "invalid" for r in results),
        "timeouts": sum(any(c.get("outcome") == "timeout" for c in r.get("checks", [])) for r in results),
        "mean": statistics.mean(scores) if scores else 0.0,
        "median": statistics.median(scores) if scores else 0.0,
        "max_score": max((r.get("max_score") or 0 for r in results), default=0),
    }


def report(out: Path, assignment: str, results: list[dict], not_graded: list[dict] = (),
           missing: list[dict] = ()) -> Path:
    """An HTML page with plots (matplotlib PNGs beside it) about one assignment's batch: every
    student (name, id, score, status, their feedback), and who was not graded or missing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = out / "report" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    s = summary(results)
    graded = [r for r in results if r["status"] == "graded"]

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.hist([r["final_score"] for r in graded], bins=min(20, max(5, int(s["max_score"]) + 1)), color="#3b6ea5")
    ax.set_xlabel("score"), ax.set_ylabel("submissions"), ax.set_title(f"{assignment}: scores")
    fig.tight_layout(), fig.savefig(folder / "scores.png", dpi=100), plt.close(fig)

    per_exercise: dict[str, list[bool]] = {}
    per_check: dict[str, dict] = {}
    failures: Counter = Counter()
    for r in graded:
        by_exercise: dict[str, bool] = {}
        for c in r["checks"]:
            by_exercise[c["exercise"]] = by_exercise.get(c["exercise"], True) and c["passed"]
            entry = per_check.setdefault(c["id"], {"id": c["id"], "hidden": c["hidden"], "n": 0, "passed": 0})
            entry["n"] += 1
            entry["passed"] += c["passed"]
            if not c["passed"]:
                failures[c["message"][:300]] += 1
        for exercise, ok in by_exercise.items():
            per_exercise.setdefault(exercise, []).append(ok)
    exercise_rates = [(e, sum(v) / len(v)) for e, v in per_exercise.items()]
    fig, ax = plt.subplots(figsize=(6, 0.4 * max(3, len(exercise_rates)) + 1))
    ax.barh([e for e, _ in exercise_rates][::-1], [100 * r for _, r in exercise_rates][::-1], color="#2e7d32")
    ax.set_xlim(0, 100), ax.set_xlabel("% of graded submissions with every check passed")
    fig.tight_layout(), fig.savefig(folder / "exercises.png", dpi=100), plt.close(fig)

    check_rates = [{**c, "rate": c["passed"] / c["n"]} for c in per_check.values()]
    slowest = sorted(graded, key=lambda r: r.get("duration_s") or 0, reverse=True)[:10]
    students = [{**r, "feedback": f"../../feedback/{assignment}/{safe_name(r['student'])}.html",
                 "timed_out": any(c.get("outcome") == "timeout" for c in r.get("checks", []))}
                for r in sorted(results, key=lambda r: ((r.get("name") or r["student"]).casefold(), r["student"]))]
    html = _ENV.get_template("report.html.j2").render(
        assignment=assignment, s=s, exercise_rates=exercise_rates, check_rates=check_rates,
        failures=failures.most_common(10), slowest=slowest, students=students, not_graded=list(not_graded),
        missing=list(missing))
    return write_text(folder / "index.html", html)
