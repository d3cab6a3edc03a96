"""``autograder new``: the files of a new assignment, with every piece of metadata in place.

A course folder holds, per assignment NAME:

* ``solutions/NAME/NAME.ipynb``: the instructor notebook. Its cells carry nbgrader's
  metadata: the setup cell (``grade_id: setup``, locked), one answer cell per exercise
  (``grade_id: answer_<function>``, ``solution: true``, the solution between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``), one test cell per exercise
  (``grade_id: test_<function>``, ``grade: true``, ``points`` = the exercise's points),
  and the notebook's ``metadata.autograder.assignment`` = NAME;
* ``assignments/NAME/checks.py`` (public checks), ``solutions/NAME/hidden_checks.py``
  and ``solutions/NAME/mistakes.py``.

From an existing notebook (``--from-notebook``), each code cell that defines a function
becomes that function's answer cell (its body the solution) followed by a test cell; the
first other code cell is the setup cell, the rest run before grading as instructor cells.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat

from autograder.errors import UsageError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _code(source: str, metadata: dict) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata.update(metadata)
    return cell


def _test_source(function: str) -> str:
    return (f"# The checks of `{function}` (autograder release writes this cell for students;\n"
            "# in the solution notebook it is yours: a quick assertion helps).\n"
            f"assert callable({function})")


STARTER_SOLUTION = '''def scale(x, factor):
    """Return the array x multiplied by the number factor, as a float32 NumPy array."""
    ### BEGIN SOLUTION
    return np.asarray(x, dtype=np.float32) * np.float32(factor)
    ### END SOLUTION'''

STARTER_CHECKS = '''"""Public checks of {name}: students get this file with their notebook.

A probe runs inside the sandbox: it calls the student's function and returns plain
values (numbers, arrays, strings). The grader runs the same probe on the solution, and
the rules compare the two, outside the sandbox. Never put expected values here.
See docs/authoring.md for every rule and option.
"""

from autograder.authoring import Check, Close, Limits

# Upper bounds; each check's own limit is derived from the solution's time on it.
LIMITS = Limits(check_timeout_s=30, cell_timeout_s=60)


def scale_probe(student, x, factor):
    return {{"value": student.scale(x, factor)}}


CHECKS = [
    # exercise (the function), the check's name, the probe, its inputs, the rules, the points.
    Check("scale", "small_vector", scale_probe, args=([1.0, 2.0, 3.0], 2.0),
          rules=[Close("value", rtol=1e-6, atol=1e-7, dtype="float32", why="float32 arithmetic")],
          points=1, explain="scale([1, 2, 3], 2) against the solution's result"),
]
'''

STARTER_HIDDEN = '''"""Hidden checks of {name}: never shipped to students.

Their inputs reach the sandbox only while grading. Students see a hidden check as
"hidden 1", "hidden 2"... of its exercise, and its messages never quote a value.
"""

from checks import scale_probe  # the public check file is importable as `checks`

from autograder.authoring import Check, Close

CHECKS = [
    Check("scale", "negative_factor", scale_probe, args=([-4.0, 0.5, 10.0], -3.0),
          rules=[Close("value", rtol=1e-6, atol=1e-7, dtype="float32")], points=1, hidden=True),
]
'''

STARTER_MISTAKES = '''"""Known mistakes of {name}: each one redefines a function the wrong way.

A student whose failing answer gives the same values gets the message. Each mistake
must fail a public check of its exercise (release and validate refuse one that does not),
unless hidden_only="the reason" says why it cannot.
"""

from autograder.authoring import Mistake

MISTAKES = [
    Mistake("scale", "adds_factor", "the factor was added to x; scaling multiplies by it",
            """
def scale(x, factor):
    return np.asarray(x, dtype=np.float32) + np.float32(factor)
"""),
]
'''


def _starter(name: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {name}\n\nWrite each function in its answer cell, then run the check "
                                      "cell below it."),
        _code("import numpy as np", _meta("setup")),
        nbformat.v4.new_markdown_cell("## 1. Scaling an array\n\n`scale(x, factor)` returns `x` multiplied by "
                                      "`factor`, as a float32 NumPy array."),
        _code(STARTER_SOLUTION, _meta("answer_scale", solution=True)),
        _code(_test_source("scale"), _meta("test_scale", grade=True, points=2)),
    ]
    return nb


def _with_markers(source: str, function: ast.FunctionDef) -> str:
    """The cell with the function's body (after its docstring) between solution markers."""
    if "### BEGIN SOLUTION" in source:
        return source
    lines = source.splitlines()
    body = function.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    start, end = body[0].lineno - 1, function.end_lineno
    indent = re.match(r"\s*", lines[start]).group(0)
    return "\n".join(lines[:start] + [indent + "### BEGIN SOLUTION"] + lines[start:end]
                     + [indent + "### END SOLUTION"] + lines[end:])


def _from_notebook(path: Path, name: str) -> tuple[nbformat.NotebookNode, list[str]]:
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds on a bad file
        raise UsageError(f"{path}: not a readable notebook ({type(exc).__name__}: {exc})") from None
    functions: list[str] = []
    cells = []
    setup_done = False
    for n, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "nbgrader" in cell.metadata:
            cells.append(cell)
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            raise UsageError(f"{path}: cell {n + 1} does not parse ({exc.msg}, line {exc.lineno})") from None
        defined = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        if defined:
            fn = defined[0]
            if fn.name in functions:
                raise UsageError(f"{path}: cell {n + 1} defines {fn.name} again")
            functions.append(fn.name)
            cell.source = _with_markers(cell.source, fn)
            cell.metadata.update(_meta(f"answer_{fn.name}", solution=True))
            cells += [cell, _code(_test_source(fn.name), _meta(f"test_{fn.name}", grade=True, points=1))]
        elif not setup_done:
            setup_done = True
            cell.metadata.update(_meta("setup"))
            cells.append(cell)
        else:
            cell.metadata.update(_meta(f"cell_{n + 1}"))
            cells.append(cell)
    if not functions:
        raise UsageError(f"{path}: no code cell defines a function: nothing to grade")
    nb.cells = cells
    return nb, functions


def _checks_for(name: str, functions: list[str]) -> str:
    probes = "\n\n".join(f"def {fn}_probe(student, *args):\n    return {{\"value\": student.{fn}(*args)}}"
                         for fn in functions)
    checks = "\n".join(f"    Check(\"{fn}\", \"first\", {fn}_probe, args=(),  # TODO: the inputs of {fn}\n"
                       f"          rules=[Close(\"value\")], points=1),"
                       for fn in functions)
    head = STARTER_CHECKS.split("from autograder.authoring")[0].format(name=name)
    return (f"{head}from autograder.authoring import Check, Close, Limits\n\n"
            "LIMITS = Limits(check_timeout_s=30, cell_timeout_s=60)\n\n\n"
            f"{probes}\n\n\nCHECKS = [\n{checks}\n]\n")


def scaffold(root: Path, name: str, from_notebook: Path | None = None) -> list[Path]:
    """Write a new assignment NAME under the course folder ``root``; returns the files."""
    if not NAME_RE.match(name):
        raise UsageError(f"{name!r}: an assignment name is letters, digits, '_' and '-' (e.g. 04_relu)")
    solution_dir, release_dir = root / "solutions" / name, root / "assignments" / name
    for folder in (solution_dir, release_dir):
        if folder.exists():
            raise UsageError(f"{folder} already exists: choose another name or remove it")
    if from_notebook is not None:
        nb, functions = _from_notebook(from_notebook, name)
        files = {release_dir / "checks.py": _checks_for(name, functions),
                 solution_dir / "hidden_checks.py": None, solution_dir / "mistakes.py": None}
    else:
        nb = _starter(name)
        files = {release_dir / "checks.py": STARTER_CHECKS.format(name=name),
                 solution_dir / "hidden_checks.py": STARTER_HIDDEN.format(name=name),
                 solution_dir / "mistakes.py": STARTER_MISTAKES.format(name=name)}
    nb.metadata.setdefault("autograder", {})["assignment"] = name
    nb.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    solution_dir.mkdir(parents=True)
    release_dir.mkdir(parents=True)
    notebook = solution_dir / f"{name}.ipynb"
    nbformat.write(nb, notebook)
    written = [notebook]
    for path, text in files.items():
        if text is not None:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
