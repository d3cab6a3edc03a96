"""The batch's HTML report for instructors: scores, exercises and checks by pass rate, the
most common failure messages, the slowest submissions, every student with a link to their
feedback, and who was not graded or is missing. Reads stored results only.
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from autograder.files import safe_name, write_text
from autograder.outputs.pages import render
from autograder.result import Outcome


def summary(results: list[dict]) -> dict:
    graded = [r for r in results if r["status"] == "graded"]
    scores = [r["final_score"] for r in graded]
    return {
        "total": len(results),
        "graded": len(graded),
        "invalid": sum(r["status"] == "invalid" for r in results),
        "timeouts": sum(any(c.get("outcome") == Outcome.TIMEOUT for c in r.get("checks", [])) for r in results),
        "mean": statistics.mean(scores) if scores else 0.0,
        "median": statistics.median(scores) if scores else 0.0,
        "max_score": max((r.get("max_score") or 0 for r in results), default=0),
    }


def report(out: Path, assignment: str, results: list[dict], not_graded: list[dict] = (),
           missing: list[dict] = ()) -> Path:
    """An HTML page with plots (matplotlib PNGs beside it) about one assignment's batch: every
    student (name, id, score, status, their feedback), and who was not graded or missing."""
    folder = out / "report" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    s = summary(results)
    graded = [r for r in results if r["status"] == "graded"]
    for name, png in plots(assignment, results).items():
        (folder / name).write_bytes(png)

    per_check: dict[str, dict] = {}
    failures: Counter = Counter()
    for r in graded:
        for c in r["checks"]:
            entry = per_check.setdefault(c["id"], {"id": c["id"], "hidden": c["hidden"], "n": 0, "passed": 0})
            entry["n"] += 1
            entry["passed"] += c["passed"]
            if not c["passed"]:
                failures[c["message"][:300]] += 1
    exercise_rates = _exercise_rates(graded)
    check_rates = [{**c, "rate": c["passed"] / c["n"]} for c in per_check.values()]
    slowest = sorted(graded, key=lambda r: r.get("duration_s") or 0, reverse=True)[:10]
    students = [{**r, "feedback": f"../../feedback/{assignment}/{safe_name(r['student'])}.html",
                 "timed_out": any(c.get("outcome") == Outcome.TIMEOUT for c in r.get("checks", []))}
                for r in sorted(results, key=lambda r: ((r.get("name") or r["student"]).casefold(), r["student"]))]
    html = render(
        "report.html.j2",
        assignment=assignment, s=s, exercise_rates=exercise_rates, check_rates=check_rates,
        failures=failures.most_common(10), slowest=slowest, students=students, not_graded=list(not_graded),
        missing=list(missing))
    return write_text(folder / "index.html", html)


PLOTS = ("scores.png", "exercises.png")


def _exercise_rates(graded: list[dict]) -> list[tuple[str, float]]:
    """Per exercise, in the assignment's order: the share of graded results with every check passed."""
    per_exercise: dict[str, list[bool]] = {}
    for r in graded:
        by_exercise: dict[str, bool] = {}
        for c in r["checks"]:
            by_exercise[c["exercise"]] = by_exercise.get(c["exercise"], True) and c["passed"]
        for exercise, ok in by_exercise.items():
            per_exercise.setdefault(exercise, []).append(ok)
    return [(e, sum(v) / len(v)) for e, v in per_exercise.items()]


def plots(assignment: str, results: list[dict], only: str | None = None) -> dict[str, bytes]:
    """The report's plots as PNG bytes (:data:`PLOTS`; ``only``: that one): the graded scores'
    histogram and the pass rate per exercise. Aggregates only: no student's name or id is drawn."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = summary(results)
    graded = [r for r in results if r["status"] == "graded"]
    out = {}

    def png(fig) -> bytes:
        buffer = io.BytesIO()
        fig.tight_layout(), fig.savefig(buffer, format="png", dpi=100), plt.close(fig)
        return buffer.getvalue()

    if only in (None, "scores.png"):
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist([r["final_score"] for r in graded], bins=min(20, max(5, int(s["max_score"]) + 1)), color="#3b6ea5")
        ax.set_xlabel("score"), ax.set_ylabel("submissions"), ax.set_title(f"{assignment}: scores")
        out["scores.png"] = png(fig)
    if only in (None, "exercises.png"):
        exercise_rates = _exercise_rates(graded)
        fig, ax = plt.subplots(figsize=(6, 0.4 * max(3, len(exercise_rates)) + 1))
        ax.barh([e for e, _ in exercise_rates][::-1], [100 * r for _, r in exercise_rates][::-1], color="#2e7d32")
        ax.set_xlim(0, 100), ax.set_xlabel("% of graded submissions with every check passed")
        out["exercises.png"] = png(fig)
    return out
