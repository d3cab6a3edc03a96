"""``autograder validate``: is an assignment ready to grade? One line per problem.

Static problems (no sandbox; :func:`static_problems`, which ``release`` runs first):

* a check file that does not load or is malformed (see :mod:`autograder.checks.problems`);
* the solution notebook's ``metadata.autograder.assignment`` names another assignment;
* an exercise with checks but no answer cell ``answer_<exercise>``, an answer cell with no
  checks, an exercise whose test cell's ``points`` differ from its checks' points;
* a hidden check with the inputs of a public check of the same probe (students know them),
  or whose name is shown (``name_shown``) while it quotes one of its inputs;
* with ``released``: a student notebook or public reference that is not what
  ``release`` would write now.

Problems found by running (:func:`run_problems`): the solution must get full marks on
every check, the student notebook's stubs 0 points, and each known mistake must lose
points on its exercise (and fail one of its public checks, unless ``hidden_only``).
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

from autograder.checks.problems import CheckFileError
from autograder.assignments.course import Assignment
from autograder.notebooks.reading import cell_role, nbgrader_meta
from autograder.checks.spec import Check, CheckSet


def _scalars(value, out: list) -> list:
    """The numbers and strings inside a check's inputs."""
    if isinstance(value, dict):
        for k, v in value.items():
            _scalars(k, out)
            _scalars(v, out)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            _scalars(v, out)
    elif isinstance(value, (bool, int, float, str)):
        out.append(value)
    elif hasattr(value, "tolist"):  # a NumPy array or number
        _scalars(value.tolist(), out)
    return out


def quoted_inputs(check: Check) -> list[str]:
    """The inputs of ``check`` that its name spells out (0 and 1 excepted: too common in names
    to tell anything). A hidden check's ``explain`` is never shown, so it may say anything."""
    text = check.name
    numbers = {float(m) for m in re.findall(r"\d+(?:\.\d+)?(?:e-?\d+)?", text)}
    found = []
    for v in _scalars(check.args, []):
        if isinstance(v, bool):
            continue
        if isinstance(v, (int, float)) and math.isfinite(v) and abs(v) not in (0, 1) and abs(v) in numbers:
            found.append(f"{v:g}")
        elif isinstance(v, str) and len(v) >= 3 and v.lower() in text.lower():
            found.append(repr(v))
    return sorted(set(found))


def _same_inputs(a: Check, b: Check) -> bool:
    try:
        return a.probe_name == b.probe_name and json.dumps(a.args, sort_keys=True, default=repr) \
            == json.dumps(b.args, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return False


def check_problems(checkset: CheckSet) -> list[str]:
    problems = []
    public = [c for c in checkset.checks if not c.hidden]
    for check in (c for c in checkset.checks if c.hidden):
        twin = next((p for p in public if p.exercise == check.exercise and _same_inputs(check, p)), None)
        if twin is not None:
            problems.append(f"hidden check {check.id} has the same inputs as public check {twin.id}: "
                            "students know them; give it inputs of its own")
        if check.sibling_of and not any(p.exercise == check.exercise and p.name == check.sibling_of for p in public):
            problems.append(f"hidden check {check.id} is the sibling of {check.sibling_of}, which is no public "
                            f"check of {check.exercise}")
        quoted = quoted_inputs(check) if check.name_shown else []
        if quoted:
            problems.append(f"hidden check {check.id} is shown to students by its name (name_shown=True), "
                            f"which quotes its input(s) {', '.join(quoted)}: rename it or drop name_shown")
    return problems


def notebook_problems(assignment: Assignment, checkset: CheckSet) -> list[str]:
    nb = assignment.load_solution()
    problems = []
    declared = nb.get("metadata", {}).get("autograder", {})
    declared = declared.get("assignment") if isinstance(declared, dict) else None
    if declared is not None and declared != assignment.name:
        problems.append(f"{assignment.solution_notebook.name}: metadata autograder.assignment is "
                        f"{declared!r}, not {assignment.name!r} (copied from another assignment?): students' "
                        "notebooks would be refused")
    answers, tests = set(), {}
    for cell in nb["cells"]:
        gid, role = nbgrader_meta(cell).get("grade_id", ""), cell_role(cell)
        if role == "answer" and gid.startswith("answer_"):
            answers.add(gid[len("answer_"):])
        elif role == "test" and gid.startswith("test_"):
            tests[gid[len("test_"):]] = nbgrader_meta(cell).get("points", 0)
    points: dict[str, float] = {}
    for c in checkset.checks:
        points[c.exercise] = points.get(c.exercise, 0.0) + c.points
    for exercise, total in points.items():
        if exercise not in answers:
            problems.append(f"exercise {exercise} has checks but the solution notebook has no answer cell "
                            f"(grade_id answer_{exercise}, solution: true)")
        if exercise not in tests:
            problems.append(f"exercise {exercise} has no test cell (grade_id test_{exercise}, grade: true, "
                            f"points: {total:g})")
        elif not isinstance(tests[exercise], (int, float)) or abs(tests[exercise] - total) > 1e-9:
            problems.append(f"exercise {exercise}: its test cell is worth {tests[exercise]} points but its "
                            f"checks are worth {total:g}: set the cell's points to {total:g} or change the checks")
    for exercise in sorted(answers - set(points)):
        problems.append(f"answer cell answer_{exercise} has no checks: add a Check(\"{exercise}\", ...) to "
                        "checks.py or hidden_checks.py")
    return problems


def release_problems(assignment: Assignment) -> list[str]:
    """What differs from what ``release`` would write from the committed public reference."""
    from autograder.assignments.student_files import releasable, stale

    if not assignment.public_reference.exists():
        return []  # not released yet: nothing can be stale
    committed = assignment.load_public_reference()
    problems = []
    public_ids = {c.id for c in assignment.checkset(hidden=False).checks}
    if set(committed.get("checks", {})) != public_ids \
            or committed.get("points") != releasable(assignment, {})["points"]:
        problems.append(f"{assignment.public_reference.name} is stale (its checks or points are not the "
                        f"current ones): run `autograder release {assignment.name}`")
    elif stale(assignment):
        problems.append(f"{assignment.student_notebook.name} is stale (not what release writes now): "
                        f"run `autograder release {assignment.name}`")
    return problems


def static_problems(assignment: Assignment, released: bool = True) -> list[str]:
    try:
        checkset = assignment.checkset(hidden=True)
    except CheckFileError as exc:
        return [str(exc)]
    problems = notebook_problems(assignment, checkset) + check_problems(checkset)
    if released and not problems:
        problems += release_problems(assignment)
    return problems


def run_problems(assignment: Assignment, sandbox, report=print) -> list[str]:
    """Run the solution (with the known mistakes) and the student notebook's stubs."""
    from autograder.runs.grading import Grader
    from autograder.checks.judge import judge_check
    from autograder.runs.reference import SolutionFailsChecks, references
    from autograder.assignments.student_files import catalogue, releasable, render, student_version

    checkset = assignment.checkset(hidden=True)
    try:
        refs = references(assignment, checkset, sandbox, hidden=True)
    except SolutionFailsChecks as exc:
        return [f"the solution does not get full marks: {exc}"]
    problems = []
    for m in checkset.mistakes:
        recorded = refs["mistakes"][m.name]["checks"]
        if all(judge_check(c, recorded.get(c.id), refs["checks"][c.id]).passed
               for c in checkset.checks if c.exercise == m.exercise):
            problems.append(f"known mistake {m.name} passes every check of {m.exercise}: it loses no points; "
                            "add a check with an input that catches it")
    found = catalogue(assignment, refs)
    problems += [f"known mistake {name} passes every public check of its exercise: give a public check an "
                 "input that catches it, or declare hidden_only='the reason' in mistakes.py"
                 for name in found.missed if not any(name in p for p in problems)]
    report(f"{assignment.name}: the solution gets full marks; {found.summary()}")
    if assignment.public_reference.exists():  # the values students check against, as released
        shipped = assignment.load_public_reference().get("checks", {})
        changed = [c.id for c in checkset.checks if not c.hidden and c.id in shipped
                   and not judge_check(c, refs["checks"][c.id], shipped[c.id]).passed]  # shipped: derived
        if changed:
            problems.append(f"{assignment.public_reference.name} is stale: the solution's values of "
                            f"{', '.join(changed)} changed since the release; run `autograder release "
                            f"{assignment.name}`")
    public = {k: v for k, v in refs.items() if k != "mistakes"}
    public["checks"] = {c.id: refs["checks"][c.id] for c in checkset.checks if not c.hidden}
    with tempfile.TemporaryDirectory(prefix="autograder-validate-") as tmp:
        stub = Path(tmp) / f"{assignment.name}.ipynb"
        stub.write_text(render(student_version(assignment, releasable(assignment, public))), encoding="utf-8")
        result = Grader(assignment, sandbox, references=refs).grade(stub, "stub").result
    score = result.score
    if result.status != "graded":
        problems.append(f"the student notebook could not be graded: {result.message}")
    elif score:
        passing = [c.id for c in result.checks if c.passed and c.points]
        problems.append(f"the student notebook's unfinished stubs score {score:g} points: checks "
                        f"{', '.join(passing)} pass without any work")
    else:
        report(f"{assignment.name}: the student notebook's stubs get 0 points")
    return problems


def validate(assignment: Assignment, sandbox, report=print) -> list[str]:
    problems = static_problems(assignment)
    try:
        assignment.checkset(hidden=True)
    except CheckFileError:
        return problems  # nothing can run
    if not assignment.public_reference.exists():
        report(f"{assignment.name}: not released yet (`autograder release {assignment.name}` writes the "
               "student notebook)")
    return problems + run_problems(assignment, sandbox, report)
