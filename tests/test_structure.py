"""The package's shape: imports go one way (ARCHITECTURE.md's layers), with no cycle, and the
command line stays light to import. Reads the source only: fast, no TensorFlow."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "autograder"

ARCHITECTURE = ROOT / "ARCHITECTURE.md"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    name = ".".join(p for p in parts if p != "__init__")
    return name or "autograder"


def read_layers() -> list[set[str]]:
    """ARCHITECTURE.md's layer table, lowest first: the one source of the layers."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    table = text[text.index("| layer | modules |"):].split("\n\n", 1)[0].splitlines()[2:]
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    layers = []
    for row in table:
        names = set()
        for name in re.findall(r"`([\w.*]+)`", row.split("|")[2]):  # `service.*`: every module below it
            names |= {m for m in modules if m.startswith(name[:-1])} if name.endswith(".*") else {name}
        layers.append(names)
    return layers


# A module may import its own layer or a lower one, never a higher one.
LAYERS = read_layers()


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


def test_the_top_level_holds_a_dozen_modules_and_every_subpackage_says_what_it_holds():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top
    packages = [p for p in PACKAGE.iterdir() if p.is_dir() and any(p.glob("*.py"))]
    assert len(packages) >= 6, packages
    for folder in packages:
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "\n" not in doc.strip(), f"{folder.name}: a one-line docstring says what it holds"


def test_the_layer_table_is_read_from_architecture_md():
    assert len(LAYERS) >= 8 and "api" in LAYERS[-3] and "cli" in LAYERS[-1] and "errors" in LAYERS[0]
    assert "service.views" in LAYERS[-2] and "service.migrations.0001_initial" in LAYERS[-2]


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
    module.write_text("def f():\n    from autograder.runs.batch import run_batch\n")
    found = imports(module, set(graph()))
    assert found == {"runs.batch"}
    assert upward({**graph(), "checks.judge": found}) == ["checks.judge (layer 1) imports runs.batch (layer 7)"]


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


def test_a_check_file_of_the_old_layout_still_loads_with_a_warning():
    # Courses written before the subpackages import autograder.rules, .spec, .artefacts, .probing.
    code = ("import warnings; warnings.simplefilter('error')\n"
            "try:\n    import autograder.rules\nexcept DeprecationWarning as e:\n    print('warned', e)\n"
            "warnings.simplefilter('ignore')\n"
            "from autograder.rules import Close\nfrom autograder.probing import unpack\n"
            "from autograder.authoring import Close as C, unpack as u\nprint(Close is C and unpack is u)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["warned autograder.rules is now autograder.checks.rules: check files import "
                                       "autograder.authoring", "True"], out.stdout + out.stderr
