"""The check cells of a student notebook, generated at release from the assignment's checks.

``checks.py`` is the one definition of the public checks. At release, the student
notebook gets (see :mod:`autograder.notebooks.selfcheck` for what runs in the kernel):

* a helper cell after the setup cell: a bundle (zlib-compressed JSON, base64) of the
  judging modules, the public check file and the public reference values, and a short
  loader that serves the bundled modules as ``autograder`` (nothing to install);
* in each exercise's test cell (nbgrader ``grade: true``, ``grade_id`` ``test_NAME``)
  one call printing the exercise's verdict, as ``autograder check`` words it;
* a last cell printing the summary (what ``autograder check`` prints at its end);
* a line under each exercise's section heading with its points, public and hidden apart;
* each exploration cell (``metadata.autograder.skip``) wrapped so that an error in it (an
  exercise above not done yet) is printed, not raised: Run All reaches the last cell.

Generated cells carry ``metadata.autograder.generated``: their content is the release's,
so grading never runs them as a student's extra cells. The output is deterministic
(sorted JSON, fixed cell ids), so a stale student notebook shows as a difference.
"""

from __future__ import annotations

import base64
import json
import textwrap
import zlib
from pathlib import Path

import nbformat

from autograder.notebooks.reading import cell_role, nbgrader_meta
from autograder.notebooks.selfcheck import BUNDLED

PACKAGE = Path(__file__).resolve().parent.parent
HELPER_ID = "autograder-checks-helper"
SUMMARY_ID = "autograder-checks-summary"
SUMMARY_TITLE_ID = "autograder-checks-summary-title"

# The loader: the only code of the helper cell a student reads; the rest is the bundle.
_LOADER = '''
def _autograder_load(blob, namespace):
    """Serve the bundled modules as the package `autograder`, then set up the checks."""
    import base64, importlib.abc, importlib.machinery, json, sys, zlib

    data = json.loads(zlib.decompress(base64.b64decode("".join(blob))))
    modules = data["modules"]

    class Bundle(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path=None, target=None):
            if name not in modules:
                return None
            package = any(m.startswith(name + ".") for m in modules)
            return importlib.machinery.ModuleSpec(name, self, is_package=package)

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            exec(compile(modules[module.__name__], "<autograder " + module.__name__ + ">", "exec"),
                 module.__dict__)

    for name in [m for m in sys.modules if m == "autograder" or m.startswith("autograder.")]:
        del sys.modules[name]  # this notebook's own version of the checks, whatever is installed
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "Bundle"]
    sys.meta_path.insert(0, Bundle())
    from autograder.notebooks.selfcheck import NotebookChecks

    return NotebookChecks(namespace, data)


autograder_checks = _autograder_load(_AUTOGRADER_BUNDLE, globals())
print("Public checks of {assignment} are ready: each exercise's check cell prints PASS or FAIL.")
'''


def bundle(assignment, reference: dict) -> dict:
    """What the helper cell carries: judging modules, the public check file, the reference."""
    from autograder.checks.loading import module_files

    modules = {name: (PACKAGE / rel).read_text(encoding="utf-8") if rel else ""
               for name, rel in BUNDLED.items()}
    name, path = module_files(assignment.name, assignment.public_checks, None)[0]
    return {"assignment": assignment.name, "module": name, "path": f"<{assignment.name} checks.py>",
            "checks": Path(path).read_text(encoding="utf-8"), "reference": reference, "modules": modules}


def helper_source(assignment_name: str, data: dict) -> str:
    blob = base64.b64encode(zlib.compress(json.dumps(data, sort_keys=True).encode(), 9)).decode()
    lines = "\n".join(f'    "{chunk}"' for chunk in textwrap.wrap(blob, 96))
    head = (f"#@title Public checks of {assignment_name} (run this cell once; there is nothing to read in it)\n"
            "# Written with the course's notebooks: please do not edit. It holds the public checks, their\n"
            "# expected values and the code that judges them (it needs only TensorFlow and numpy), so each\n"
            "# check cell below gives the verdict the course's grader gives, in the same words.\n")
    return head + f"_AUTOGRADER_BUNDLE = (\n{lines}\n)\n" + _LOADER.replace("{assignment}", assignment_name)


def check_source(exercise: str) -> str:
    return (f"# Public checks of `{exercise}`: the same checks, and words, as the course's grader.\n"
            'if "autograder_checks" in globals():\n'
            f'    autograder_checks.check("{exercise}")\n'
            "else:\n"
            f'    print("[FAIL] {exercise}: run the public checks\' cell near the top of the notebook first")')


SUMMARY_SOURCE = ("# All public checks again, as your functions are now, and the points of each exercise.\n"
                  'if "autograder_checks" in globals():\n'
                  "    autograder_checks.summary()\n"
                  "else:\n"
                  "    print(\"Run the public checks' cell near the top of the notebook first, then this one.\")")


def worth(checkset) -> dict:
    """exercise -> {"public": points, "hidden": points} of its checks."""
    out: dict = {}
    for c in checkset.checks:
        entry = out.setdefault(c.exercise, {"public": 0.0, "hidden": 0.0})
        entry["hidden" if c.hidden else "public"] += c.points
    return out


def points_line(exercises: list[str], points: dict) -> str:
    def one(e: str) -> str:
        p = points[e]
        return (f"{p['public'] + p['hidden']:g} points ({p['public']:g} in public checks, "
                f"{p['hidden']:g} in hidden checks)")

    if len(exercises) == 1:
        return f"*Points: {one(exercises[0])}.*"
    return "*Points: " + "; ".join(f"`{e}` {one(e)}" for e in exercises) + ".*"


def _shown(value) -> str:
    """A reference value as an exercise's text shows it: each number as the shortest text that
    reads back as the same value of its type (float32 values as float32), arrays with dtype and shape."""
    import numpy as np

    if isinstance(value, np.ndarray):
        text = np.array2string(value, separator=", ", max_line_width=88, threshold=200,
                               formatter={"float_kind": str} if value.dtype.kind == "f" else None)
        return text + f"  ({value.dtype}, shape {tuple(value.shape)})"
    if isinstance(value, np.generic):
        return str(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, (np.ndarray, np.generic)) for v in value):
        inner = ", ".join(_shown(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return repr(value)


def example_text(checks: list, reference: dict) -> str:
    """The exercise's public examples, from the public checks and the released reference: each
    check's inputs and the values it expects (under the rules' labels). A check judged by
    properties only shows what it asks. Generated, so it cannot drift from the checks."""
    from autograder.checks.plaindata import decode
    from autograder.checks.rules import Close, Equal

    parts = []
    for check in checks:
        head = f"**Expected output** (public check `{check.name}`"
        head += f": {check.explain})" if check.explain else ")"
        shown_args = ", ".join(_shown(a) for a in check.args)
        lines = [f"inputs of the check: ({shown_args})"]
        observation = reference.get("checks", {}).get(check.id) or {}
        values = observation.get("values") if observation.get("status") == "ok" else None
        for rule in check.rules:
            if isinstance(rule, (Close, Equal)) and isinstance(values, dict) and rule.key in values:
                label = (rule.label or rule.key).strip("'`")
                lines.append(f"{label}: {_shown(decode(values[rule.key]))}")
        if len(lines) == 1:
            lines.append("judged by the properties described above, not against fixed values")
        parts.append(head + ":\n\n```text\n" + "\n".join(lines) + "\n```")
    return "\n\n".join(parts)


def guarded(source: str) -> str:
    """An exploration cell's code, printing instead of raising what goes wrong in it."""
    if '"""' in source or "'''" in source or any(line.lstrip().startswith(("%", "!"))
                                                     for line in source.splitlines()):
        return source  # indenting would change a multi-line string or break a magic
    lines = source.rstrip().splitlines()
    comments = []
    while lines and lines[0].startswith("#"):
        comments.append(lines.pop(0))
    body = "\n".join(("    " + line) if line.strip() else "" for line in lines)
    return "\n".join(comments + ["try:", body or "    pass",
                                 "except Exception as _error:  # so Run All goes on: the checks below still run",
                                 '    print(f"This exploration needs the exercises above to work first '
                                 '({type(_error).__name__}: {_error})")'])


def _generated(cell: dict, kind: str) -> dict:
    cell.metadata["autograder"] = {"generated": kind}
    return cell


def add_check_cells(nb: nbformat.NotebookNode, assignment, reference: dict) -> nbformat.NotebookNode:
    """``nb`` (a copy of the solution notebook) with the generated cells; before nbgrader's
    preprocessors, which then lock and checksum the test cells as usual."""
    exercises = list(reference.get("points", {}))
    cells = nb.cells
    # Points under each section heading: the markdown cell before an exercise's answer cell.
    sections: dict[int, list[str]] = {}
    last_markdown = None
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            last_markdown = i
        gid = nbgrader_meta(cell).get("grade_id", "")
        if cell_role(cell) == "answer" and gid.startswith("answer_") and gid[7:] in exercises \
                and last_markdown is not None:
            sections.setdefault(last_markdown, []).append(gid[7:])
    public = assignment.checkset(hidden=False).checks
    for i, names in sections.items():
        examples = [example_text([c for c in public if c.exercise == name], reference) for name in names]
        cells[i].source = "\n\n".join([cells[i].source.rstrip(), *[e for e in examples if e],
                                         points_line(names, reference["points"])])
    for cell in cells:
        gid = nbgrader_meta(cell).get("grade_id", "")
        skip = cell.metadata.get("autograder", {})
        if cell.cell_type == "code" and isinstance(skip, dict) and skip.get("skip") is True:
            cell.source = guarded(cell.source)
        if cell_role(cell) == "test" and gid.startswith("test_") and gid[5:] in exercises:
            cell.source = check_source(gid[5:])
            _generated(cell, "check")
    helper = nbformat.v4.new_code_cell(helper_source(assignment.name, bundle(assignment, reference)))
    helper["id"] = HELPER_ID
    # Folded in Jupyter (source_hidden) and shown as a form in Colab (cellView, with the #@title line).
    helper.metadata.update({"editable": False, "deletable": False, "jupyter": {"source_hidden": True},
                            "cellView": "form"})
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), -1)
    cells.insert(first_code + 1, _generated(helper, "helper"))
    title = nbformat.v4.new_markdown_cell("## Your public checks, all together\n\n"
                                          "Every exercise's public checks again, on your functions as they are "
                                          "now: which exercises pass, and how many points each is worth in public "
                                          "and in hidden checks (the hidden ones run when your work is graded).")
    title["id"] = SUMMARY_TITLE_ID
    summary = nbformat.v4.new_code_cell(SUMMARY_SOURCE)
    summary["id"] = SUMMARY_ID
    summary.metadata.update({"editable": False, "deletable": False})
    cells += [_generated(title, "summary"), _generated(summary, "summary")]
    return nb
