"""Realistic mistakes that no catalogue entry names (tests/corpus/diagnosed.py), graded for
real: each loses points on a public check of its exercise, and that check's message names the
mistake from the numbers alone. (The valid variations of every corpus keep full marks, so no
diagnosis reaches them: tests/test_course_corpus.py.)"""

import pytest

from tests import nbfactory
from tests.conftest import json_lines
from tests.corpus import diagnosed

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", sorted(diagnosed.BY_ASSIGNMENT))
def test_every_diagnosed_mistake_is_named_in_its_public_check(assignment, tmp_path, run_cli):
    catalogue = diagnosed.BY_ASSIGNMENT[assignment]
    for name, (exercise, source, _) in catalogue.items():
        nbfactory.make(tmp_path / "subs" / f"{name}.ipynb", assignment, answers={exercise: source})
    proc = run_cli("grade", assignment, tmp_path / "subs", "--json", "--jobs", "2", "--out", tmp_path / "out",
                   "--backend", "local")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json_lines(proc.stdout)
    problems = []
    for name, (exercise, _, words) in catalogue.items():
        failing = [c for c in results[name]["checks"] if not c["passed"] and not c["hidden"]]
        messages = " | ".join(c["message"] for c in failing if c["exercise"] == exercise)
        if not messages or words not in messages or "Likely mistake" in messages:
            problems.append(f"{name}: {messages[:500] or 'no public check of ' + exercise + ' failed'}")
    assert not problems, "\n".join(problems)
