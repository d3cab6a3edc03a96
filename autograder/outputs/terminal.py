"""Lines for a terminal: one per result (human or JSON), the batch's summary, a student's
grading history, and what a batch kept; control characters escaped so each stays on its line."""

from __future__ import annotations

import json

from autograder.result import Outcome


def kept_lines(kept: list) -> list[str]:
    """What a batch did not let replace a graded result (see :func:`autograder.gradebook.counts`)."""
    lines = []
    for result, before in kept:
        who = result.name or result.student
        lines.append(f"  kept {printable(who)}'s graded result ({before['score']:g}/{before['max_score']:g} from "
                     f"{printable(before.get('submission') or '?')}): this batch's {printable(result.submission)} is "
                     f"{result.status} ({printable(result.message)}); --replace counts it instead")
    return lines


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
    from autograder.outputs.report import summary

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
