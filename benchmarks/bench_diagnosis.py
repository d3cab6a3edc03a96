"""How many wrong answers get feedback that names the mistake: the share of failing public
checks whose message says what went wrong (a catalogue entry's "Likely mistake", or a
diagnosis from the numbers: autograder.checks.diagnosis), over the project's corpus of mistakes
(tests/corpus), with the diagnosis off ("before": the catalogue alone) and on ("after": the
numbers and a check's swapped inputs too).

    .venv/bin/python benchmarks/bench_diagnosis.py [--assignments 01_tf_basics 02_linear_classifier ...]
    (all three assignments by default)

Grades every mistake notebook once on the local backend (the judge runs in this process, so
"before" is the same grading judged again with the diagnosis switched off). Prints a table.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPORA = {"01_tf_basics": "tests.corpus.tf_basics", "02_linear_classifier": "tests.corpus.linear_classifier",
           "03_deep_network": "tests.corpus.deep_network"}


# What a message that names the mistake says: a catalogue entry, a sentence from the numbers,
# the swapped inputs said of the whole answer.
NAMES = ("Likely mistake", ". This value ", "Your function gives what the reference solution gives")


def mistakes(assignment: str) -> dict:
    from tests.corpus import diagnosed

    found = dict(importlib.import_module(CORPORA[assignment]).MISTAKES)
    found.update({f"diagnosed_{k}": v for k, v in diagnosed.BY_ASSIGNMENT.get(assignment, {}).items()})
    return found


def named_share(assignment: str, folder: Path, diagnosis: bool) -> tuple[int, int, list[str]]:
    from autograder.checks import judge, rules
    from autograder.api import grade_batch
    from autograder.assignments.course import find_assignment
    from autograder.settings import Settings

    original = rules.named, judge._swap_diagnosis
    if not diagnosis:  # the catalogue alone: no transform of the numbers, no swapped inputs
        rules.named = lambda message, diagnosis: message
        judge._swap_diagnosis = lambda check, failing, *rest: ("", [problem for _, problem in failing])
    try:
        report = grade_batch(find_assignment(assignment), [str(folder)], Settings(backend="local", jobs=2, force=True),
                             out=folder.parent / f"out-{diagnosis}")
    finally:
        rules.named, judge._swap_diagnosis = original
    named, total, unnamed = 0, 0, []
    for result in report.results:
        failing = [c for c in result.checks if not c.passed and not c.hidden]
        if not failing:
            continue
        total += 1
        if any(NAMED in c.message for c in failing for NAMED in NAMES):
            named += 1
        else:
            unnamed.append(result.student)
    return named, total, unnamed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="+", default=list(CORPORA))
    args = parser.parse_args()
    from tests import nbfactory

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in args.assignments:
            folder = Path(tmp) / assignment / "subs"
            for name, (exercise, source, _) in mistakes(assignment).items():
                nbfactory.make(folder / f"{name}.ipynb", assignment, answers={exercise: source})
            before = named_share(assignment, folder, diagnosis=False)
            after = named_share(assignment, folder, diagnosis=True)
            rows.append((assignment, before, after))
    print(f"{'assignment':24} {'mistakes':>8} {'named before':>13} {'named after':>12}")
    totals = [0, 0, 0]
    for assignment, (nb, tb, _), (na, ta, unnamed) in rows:
        print(f"{assignment:24} {ta:>8} {nb:>7} ({nb / max(tb, 1):4.0%}) {na:>6} ({na / max(ta, 1):4.0%})")
        totals = [totals[0] + ta, totals[1] + nb, totals[2] + na]
        if unnamed:
            print(f"    not named after: {', '.join(unnamed)}")
    t, nb, na = totals
    print(f"{'all':24} {t:>8} {nb:>7} ({nb / max(t, 1):4.0%}) {na:>6} ({na / max(t, 1):4.0%})")


if __name__ == "__main__":
    main()
