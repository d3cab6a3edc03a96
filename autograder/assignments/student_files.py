"""What a release makes from the solution, and whether the committed files are still that.

The student notebook is made by nbgrader's own preprocessors, in the order
``nbgrader generate_assignment`` applies them (without its database step):
solution regions become ``raise NotImplementedError()`` stubs, hidden test
blocks are removed, outputs cleared, cells locked and checksummed. Before them,
the check cells are generated from the public checks (:mod:`autograder.notebooks.check_cells`).
``public_reference.json`` holds the reference values of the public checks only
(with the known mistakes' values on them, the solution's values on a public check's swapped
inputs, and each exercise's points), so ``autograder check`` and the notebook's own check
cells work on a student's machine without solutions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.assignments.course import Assignment
from autograder.checks.judge import judge_check
from autograder.notebooks.check_cells import add_check_cells, worth


def student_version(assignment: Assignment, reference: dict | None = None) -> nbformat.NotebookNode:
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    nb = nbformat.read(assignment.solution_notebook, as_version=4)
    # Grading refuses a notebook that declares another assignment (see notebook.assemble).
    nb.metadata.setdefault("autograder", {})["assignment"] = assignment.name
    add_check_cells(nb, assignment, reference if reference is not None else assignment.load_public_reference())
    resources: dict = {}
    for pp in (LockCells(), ClearSolutions(), ClearOutput(), CheckCellMetadata(), ComputeChecksums(),
               ClearHiddenTests(), ClearMarkScheme(), ComputeChecksums(), CheckCellMetadata()):
        nb, resources = pp.preprocess(nb, resources)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


@dataclass
class Catalogue:
    """How the known mistakes fare against the public checks."""

    caught: list[str] = field(default_factory=list)
    hidden_only: list[tuple[str, str]] = field(default_factory=list)   # (name, reason)
    missed: list[str] = field(default_factory=list)                    # neither caught nor declared

    def summary(self) -> str:
        total = len(self.caught) + len(self.hidden_only) + len(self.missed)
        text = f"known mistakes: {len(self.caught)} of {total} fail a public check"
        if self.hidden_only:
            text += f"; {len(self.hidden_only)} declared hidden-only"
        if self.missed:
            text += f"; {len(self.missed)} pass every public check: {', '.join(self.missed)}"
        return text


def catalogue(assignment: Assignment, reference: dict) -> Catalogue:
    """Each catalogue mistake judged by its exercise's public checks (its values are in the reference)."""
    public = assignment.checkset(hidden=False)
    out = Catalogue()
    for mistake in public.mistakes:
        recorded = reference.get("mistakes", {}).get(mistake.name, {}).get("checks", {})
        checks = [c for c in public.checks if c.exercise == mistake.exercise]
        if any(not judge_check(c, recorded.get(c.id), reference["checks"][c.id]).passed for c in checks):
            out.caught.append(mistake.name)
        elif mistake.hidden_only:
            out.hidden_only.append((mistake.name, mistake.hidden_only))
        else:
            out.missed.append(mistake.name)
    return out


def stale(assignment: Assignment) -> list[Path]:
    """The released files that differ from a fresh generation from the committed reference."""
    fresh = render(student_version(assignment))
    current = assignment.student_notebook.read_text(encoding="utf-8") if assignment.student_notebook.exists() else ""
    return [assignment.student_notebook] if current != fresh else []


def releasable(assignment: Assignment, refs: dict) -> dict:
    """The public reference as released: the values and each exercise's points. Timings are
    this machine's and change every run, so they stay out of what is committed. A check with a
    ``derive`` ships what the judge derives (see :func:`published`), never its artefacts."""
    out = {k: v for k, v in refs.items() if k not in ("timings", "calibration_s")}
    checks = {c.id: c for c in assignment.checkset(hidden=False).checks}
    out["checks"] = {cid: published(checks.get(cid), obs) for cid, obs in refs.get("checks", {}).items()}
    if "mistakes" in refs:
        out["mistakes"] = {name: {**m, "checks": {cid: published(checks.get(cid), obs)
                                                  for cid, obs in m.get("checks", {}).items()}}
                           for name, m in refs["mistakes"].items()}
    if "swapped" in refs:  # public checks only (see autograder.runs.reference.swapped_references)
        out["swapped"] = {cid: {**s, "observation": published(checks.get(cid), s.get("observation"))}
                          for cid, s in refs["swapped"].items() if cid in checks}
    out["points"] = worth(assignment.checkset(hidden=True))
    return out


def published(check, observation: dict) -> dict:
    """One observation as a public reference holds it. For a check with a ``derive``: the values
    the judge derives from the recorded artefacts, and the recorded values that are not artefacts
    themselves (a recorded graph or network: plain dicts, or lists of them), marked ``derived``.
    So the self-check judges as the grader does, and a trained network, which could be handed in
    as it is, never ships."""
    from autograder.checks.judge import reference_values
    from autograder.checks.plaindata import encode

    if check is None or check.derive is None or not isinstance(observation, dict) \
            or observation.get("status") != "ok" or observation.get("derived") is True:
        return observation
    recorded = observation.get("values") or {}
    values = reference_values(check, observation)
    return {"status": "ok", "derived": True,
            "values": {k: encode(v) for k, v in sorted(values.items()) if not _artefact(recorded.get(k))}}


def _artefact(plain) -> bool:
    if not isinstance(plain, dict):
        return False
    if plain.get("t") == "dict":
        return True
    return plain.get("t") in ("list", "tuple") and any(isinstance(x, dict) and x.get("t") == "dict"
                                                       for x in plain.get("items") or [])
