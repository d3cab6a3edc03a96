"""Student-facing words: the per-exercise lines that `check`, a notebook's check cells and the
graded feedback (:mod:`autograder.outputs.feedback`) all print, so they agree everywhere."""

from __future__ import annotations

from autograder.result import CheckOutcome


def by_exercise(checks: list[CheckOutcome]) -> dict[str, list[CheckOutcome]]:
    grouped: dict[str, list[CheckOutcome]] = {}
    for c in checks:
        grouped.setdefault(c.exercise, []).append(c)
    return grouped


def _points(x: float) -> str:
    return f"{x:g}"


def worth_text(points: dict | None) -> str:
    """" (worth 3 points: 2 in public checks, 1 in hidden checks)" from {"public": 2, "hidden": 1}."""
    if not points:
        return ""
    public, hidden = float(points.get("public", 0)), float(points.get("hidden", 0))
    return (f" (worth {_points(public + hidden)} points: {_points(public)} in public checks, "
            f"{_points(hidden)} in hidden checks)")


def exercise_lines(checks: list[CheckOutcome], show_points: bool, worth: dict | None = None) -> list[str]:
    """One "[PASS] exercise: ..." or "[FAIL] exercise: ..." line per exercise, then its messages.

    Other tools read these lines: the format stays. ``worth``: exercise -> points of its public
    and hidden checks (a self-check, which knows the hidden checks only by their points)."""
    lines: list[str] = []
    for exercise, results in by_exercise(checks).items():
        passed = sum(r.passed for r in results)
        mark = "PASS" if passed == len(results) else "FAIL"
        pts = (f"  {_points(sum(r.points for r in results))}/{_points(sum(r.max_points for r in results))} pts"
               if show_points else worth_text((worth or {}).get(exercise)))
        lines.append(f"[{mark}] {exercise}: {passed}/{len(results)} checks passed{pts}")
        shown: set[str] = set()
        for r in results:
            if r.passed or r.message in shown:
                continue
            shown.add(r.message)  # "not implemented yet" once per exercise, not per check
            name = r.name or r.id.split(".", 1)[1]
            tag = "check " if not r.hidden else "" if name.startswith("hidden ") else "hidden check "
            lines.append(f"    - {tag}{name}: {r.message}")
    return lines


def points_table(worth: dict) -> list[str]:
    """Points per exercise, public and hidden checks apart, aligned."""
    if not worth:
        return []
    width = max(len(e) for e in worth)
    rows = [f"  {'exercise'.ljust(width)}  public  hidden  total"]
    totals = [0.0, 0.0]
    for exercise, p in worth.items():
        public, hidden = float(p.get("public", 0)), float(p.get("hidden", 0))
        totals = [totals[0] + public, totals[1] + hidden]
        rows.append(f"  {exercise.ljust(width)}  {_points(public):>6}  {_points(hidden):>6}  "
                    f"{_points(public + hidden):>5}")
    rows.append(f"  {'all'.ljust(width)}  {_points(totals[0]):>6}  {_points(totals[1]):>6}  "
                f"{_points(sum(totals)):>5}")
    return ["Points available:"] + rows


def check_report(assignment: str, notebook: str, checks: list[CheckOutcome], worth: dict | None = None) -> str:
    """What ``autograder check`` prints, and a notebook's summary cell (the same words)."""
    lines = [f"Public checks of {assignment} for {notebook}", ""]
    lines += exercise_lines(checks, show_points=False, worth=worth)
    groups = by_exercise(checks)
    good = sum(all(r.passed for r in rs) for rs in groups.values())
    lines += ["", f"{good} of {len(groups)} exercises pass their public checks."]
    if good == len(groups):
        lines.append("Well done! When you submit, hidden checks with other inputs and edge cases are run too.")
    else:
        lines.append("Fix the exercises marked FAIL and run the checks again; hidden checks with other "
                     "inputs are run when your work is graded.")
    if worth:  # in the assignment's order
        lines += [""] + points_table({**{e: worth[e] for e in groups if e in worth}, **worth})
    return "\n".join(lines) + "\n"
