"""The package's shape: imports go one way (ARCHITECTURE.md's layers), with no cycle, and the
command line stays light to import. Reads the source only: fast, no TensorFlow."""

import ast
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "autograder"
# The submission service (a Django app, every module of it, migrations included): a front end on the
# library API, below the command line, which imports it lazily.
SERVICE = {".".join(p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
           for p in (PACKAGE / "service").rglob("*.py")}

# Lowest first. A module may import its own layer or a lower one, never a higher one.
LAYERS = [
    # foundations: formats and helpers with no knowledge of grading
    {"autograder", "errors", "files", "result", "plaindata", "probing", "hints", "timelimits", "pages", "settings", "diagnosis"},
    # the check model, the notebook format, the sandbox's boundary (both sides of it)
    {"rules", "spec", "artefacts", "observe", "judge", "feedback", "checkfile_errors", "checkfiles", "authoring",
     "notebook", "archives", "sandbox.events", "sandbox.linux"},
    # a course on disk, the store, what runs inside a sandbox, the notebook's self-check
    {"course", "coursefile", "roster", "gradebook", "record", "selfcheck", "notebook_checks", "sandbox.base",
     "sandbox.datafiles", "sandbox.process", "sandbox.worker", "sandbox.forkserver", "sandbox.supervisor",
     "sandbox.containerserver"},
    # backends, jobs, intake, and the files made from results
    {"jobs", "intake", "sandbox.local", "sandbox.docker", "sandbox.registry", "feedback_files", "exports", "report",
     "lms_exports", "released", "similarity"},
    {"reference"},
    {"grading"},
    {"validate"},
    {"release", "batch", "cluster", "outputs", "scaffold", "gradescope"},
    # the library API every front end calls
    {"api"},
    SERVICE,
    {"cli", "__main__"},
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    name = ".".join(p for p in parts if p != "__init__")
    return name or "autograder"


def imports(path: Path, known: set[str]) -> set[str]:
    """Every package module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name == "autograder" or name.startswith("autograder."):
                short = name.removeprefix("autograder.") if name != "autograder" else "autograder"
                if short in known:
                    found.add(short)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imports(path, set(files)) - {name} for name, path in files.items()}


def test_every_module_has_a_layer():
    placed = set().union(*LAYERS)
    assert set(graph()) == placed, f"unplaced: {set(graph()) - placed}, gone: {placed - set(graph())}"


def upward(deps: dict[str, set[str]]) -> list[str]:
    rank = {m: i for i, layer in enumerate(LAYERS) for m in layer}
    return [f"{m} (layer {rank[m]}) imports {d} (layer {rank[d]})"
            for m, found in deps.items() for d in sorted(found) if rank[d] > rank[m]]


def test_no_module_imports_upwards():
    assert upward(graph()) == []


def test_there_is_no_import_cycle():
    deps = graph()
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for d in sorted(deps[node]):
            if state.get(d) == 1:
                raise AssertionError("cycle: " + " -> ".join(path[path.index(d):] + [d]))
            if d not in state:
                visit(d, path + [d])
        state[node] = 2

    for node in sorted(deps):
        if node not in state:
            visit(node, [node])


def test_the_layer_check_sees_lazy_imports_and_can_fail(tmp_path):
    # A function-level import counts, and an upward one is reported: the rule is not vacuous.
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from autograder.batch import run_batch\n")
    found = imports(module, set(graph()))
    assert found == {"batch"}
    assert upward({**graph(), "judge": found}) == ["judge (layer 1) imports batch (layer 7)"]


def test_the_command_line_imports_no_numpy_nbformat_or_tensorflow():
    code = ("import os, sys, autograder.cli; "
            "print(sorted(m for m in ('numpy', 'nbformat', 'jinja2', 'tensorflow') if m in sys.modules), "
            "os.environ['OPENBLAS_NUM_THREADS'])")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    # numpy loads later, with one BLAS thread (see autograder/cli.py: no BLAS threads for a fork to stop)
    assert out.stdout.strip() == "[] 1"


def test_python_dash_m_autograder_is_the_command_line():
    out = subprocess.run([sys.executable, "-m", "autograder", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "usage: autograder" in out.stdout
