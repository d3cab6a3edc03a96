"""Loading an assignment's check files, the same way in the sandbox and the grader.

``checks.py`` (public, shipped with the student notebook) is loaded first;
``hidden_checks.py`` (instructor only) is loaded second and may
``from checks import ...`` to reuse the public probes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from autograder.checks.spec import Check, CheckSet, Limits


def _load(path: str, module_name: str, source: str | None = None) -> ModuleType:
    if source is not None:  # sent inline (warm containers mount no check files)
        module = ModuleType(module_name)
        module.__file__ = path
        sys.modules[module_name] = module
        exec(compile(source, path, "exec"), module.__dict__)  # noqa: S102 - instructor code
        return module
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load check file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_modules(files: list[tuple], explain: bool = False) -> list[ModuleType]:
    """Load (module name, path[, source]) entries in order; the first is importable as ``checks``.
    ``explain`` (grading side): a file that fails to load raises a CheckFileError naming its line."""
    modules: list[ModuleType] = []
    previous = sys.modules.get("checks")
    try:
        for name, path, *source in files:
            try:
                module = _load(path, name, source[0] if source else None)
            except Exception as exc:
                if not explain:
                    raise
                from autograder.checks.problems import load_error

                raise load_error(path, exc) from None
            if not modules:
                sys.modules["checks"] = module
            modules.append(module)
    finally:
        if previous is not None:
            sys.modules["checks"] = previous
        else:
            sys.modules.pop("checks", None)
    return modules


def module_files(assignment_name: str, public: Path, hidden: Path | None) -> list[tuple[str, str]]:
    """The check files a sandbox run loads: the public ones, and the hidden ones when asked."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in assignment_name)
    files = [(f"_autograder_checks_{safe}", str(public))]
    if hidden is not None:
        files.append((f"_autograder_hidden_checks_{safe}", str(hidden)))
    return files


def load_checkset(files: list[tuple[str, str]], mistakes: Path | None = None) -> CheckSet:
    """The checks of ``files`` and, in the grading process only, the known-mistake catalogue.
    Each file is validated first (see :mod:`autograder.checks.problems`)."""
    from autograder.checks.problems import CheckFileError, validate_module

    modules = load_modules(files, explain=True)
    checks: list[Check] = []
    for n, (module, (_, path)) in enumerate(zip(modules, files)):
        validate_module(module, path, "public" if n == 0 else "hidden")
        checks.extend(module.CHECKS)
    catalogue: list = []
    if mistakes is not None:
        safe = files[0][0].replace("_autograder_checks_", "")
        module = load_modules([(f"_autograder_mistakes_{safe}", str(mistakes))], explain=True)[0]
        validate_module(module, str(mistakes), "mistakes")
        catalogue = list(module.MISTAKES)
        exercises = {c.exercise for c in checks}
        for m in catalogue if len(files) > 1 else ():  # an exercise may have hidden checks only
            if m.exercise not in exercises:
                raise CheckFileError(mistakes, None, f"mistake {m.name}: no check of exercise {m.exercise!r}")
    limits = getattr(modules[0], "LIMITS", Limits())
    public_dir = Path(files[0][1]).parent
    data = [(name, str(public_dir / name)) for name in getattr(modules[0], "DATA", [])]
    ids = [c.id for c in checks]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise CheckFileError(files[-1][1], None, f"duplicate check ids: {', '.join(sorted(duplicates))}")
    # Public checks first, then hidden, each in file order, grouped by exercise order.
    order = []
    for c in checks:
        if c.exercise not in order:
            order.append(c.exercise)
    checks.sort(key=lambda c: (order.index(c.exercise), c.hidden))
    return CheckSet(checks, limits, catalogue, data)
