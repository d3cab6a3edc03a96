"""A graded student's feedback files, rendered from their result's JSON form (fresh or
read back from the gradebook, an override included), in every format they get::

    .txt   the words of ``autograder check`` (:mod:`autograder.checks.wording`), with points
    .html  the page: what to fix first on top, each check's message
    .json  the same content for tools: no paths, logs, check ids or grader internals

Student-facing: only what the result's messages say; hidden inputs and reference values
never reach them (a hidden check is named by what the judge lets it show).
"""

from __future__ import annotations

import json
import math

from autograder.checks.wording import _points, exercise_lines
from autograder.outputs.pages import render as render_page
from autograder.result import CheckOutcome


def render(result: dict) -> dict[str, str]:
    """File suffix -> text, for :func:`autograder.outputs.result_files.write_feedback`."""
    return {".txt": feedback_text(result), ".html": feedback_html(result),
            ".json": json.dumps(student_json(result), indent=1)}


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


def policy_words(result: dict) -> str:
    """What the course's policies did to this score, in words ("" when nothing)."""
    return (result.get("policy") or {}).get("explanation", "")


def student_json(result: dict) -> dict:
    """The feedback JSON a student may see: no paths, logs or grader internals. ``score`` is the
    automatic score, ``counted_score`` what the student is credited with, ``late`` why they differ."""
    keep = ("student", "name", "assignment", "status", "message", "score", "max_score", "override", "graded_at")
    out = {k: result.get(k) for k in keep}
    out["counted_score"] = result.get("final_score", result.get("score"))
    out["late"] = policy_words(result) or None
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


def feedback_html(result: dict, back: list[tuple[str, str]] = ()) -> str:
    """The page; ``back``: (address, words) links shown above it (the service's way back to its pages)."""
    exercises = exercise_points(result)
    # What to fix first on top; sorted() is stable, so each group keeps the assignment's order.
    ordered = sorted(exercises, key=lambda e: e["full"])
    return render_page("feedback.html.j2", r=result, exercises=ordered, headline=headline(exercises),
                       late=policy_words(result), deduction=(result.get("policy") or {}).get("deduction") or 0,
                       back=list(back))


def feedback_text(result: dict) -> str:
    checks = [CheckOutcome.from_json(c) for c in result.get("checks", [])]
    lines = [f"{result['assignment']} — feedback for {result.get('name') or result['student']}", ""]
    override = result.get("override")
    if result["status"] != "graded":
        lines += [f"Your submission could not be graded: {result['message']}", ""]
        if override:
            lines += [f"Score: {_points(override['score'])} / {_points(result['max_score'])} (set by hand: "
                      f"{override.get('reason', '')})", ""]
        return "\n".join(lines)
    if override:
        lines.append(f"Score: {_points(override['score'])} / {_points(result['max_score'])} (set by hand: "
                     f"{override.get('reason', '')}; the checks below gave {_points(result['score'])})")
    elif result.get("policy", {}).get("deduction"):
        lines.append(f"Score: {_points(result['final_score'])} / {_points(result['max_score'])} (the checks below "
                     f"gave {_points(result['score'])}; the late penalty took {_points(result['policy']['deduction'])})")
    else:
        lines.append(f"Score: {_points(result.get('final_score', result['score']))} / {_points(result['max_score'])}")
    if policy_words(result):
        lines.append(f"Late: {policy_words(result)}")
    lines.append("")
    lines += exercise_lines(checks, show_points=True)
    return "\n".join(lines) + "\n"
