"""Running notebooks as a student would: a Jupyter kernel that cannot import this package.

The kernel is the test environment's Python (TensorFlow, numpy, ipykernel), started from an
empty folder with the editable install's import hook and the repository removed from its
import path, so a notebook's check cells work only if they bring what they need.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "autograder-plain"

_BOOT = (
    "import sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in getattr(f, '__module__', '') "
    "and 'editable' not in type(f).__name__.lower()]; "
    f"sys.path[:] = [p for p in sys.path if p not in ('', {str(ROOT)!r}) and 'editable' not in p]; "
    "[sys.modules.pop(m) for m in list(sys.modules) if m.startswith('__editable__')]; "
    "from ipykernel import kernelapp; kernelapp.launch_new_instance()"
)


def install_kernelspec(folder: Path) -> Path:
    """A kernelspec named :data:`KERNEL` under ``folder`` (put it on JUPYTER_PATH)."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", _BOOT, "-f", "{connection_file}"],
        "display_name": "Python (without autograder)", "language": "python",
        "env": {"PYTHONPATH": "", "TF_CPP_MIN_LOG_LEVEL": "3"}}))
    return folder


def _client(path: Path, workdir: Path, timeout: int, drop_explorations: bool):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if drop_explorations:  # the grader skips them too; they only cost time here
        nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and c.metadata.get("autograder", {}).get("skip"))]
    probe = nbformat.v4.new_code_cell("import importlib.util as _u\nprint('PACKAGE VISIBLE' if _u.find_spec('autograder') else 'no package')")
    probe["id"] = "probe-package"
    nb.cells.insert(0, probe)
    return nb, NotebookClient(nb, kernel_name=KERNEL, timeout=timeout, allow_errors=True,
                              resources={"metadata": {"path": str(workdir)}})


def run(path: Path, workdir: Path, timeout: int = 600, drop_explorations: bool = False) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom (errors are kept in outputs, not raised)."""
    nb, client = _client(path, workdir, timeout, drop_explorations)
    client.execute()
    return nb


def run_many(paths: dict[str, Path], workdir: Path, at_once: int = 2, timeout: int = 600,
             drop_explorations: bool = False) -> dict[str, nbformat.NotebookNode]:
    """:func:`run` on each notebook, each in its own fresh kernel and its own folder under
    ``workdir``, ``at_once`` kernels at a time (a kernel's start-up and TensorFlow's import
    wait on one core while another kernel computes)."""
    import asyncio

    async def one(label: str, path: Path, gate: asyncio.Semaphore):
        folder = workdir / f"kernel-{label}"
        folder.mkdir(parents=True, exist_ok=True)
        nb, client = _client(path, folder, timeout, drop_explorations)
        async with gate:
            await client.async_execute()
        return label, nb

    async def all_of_them():
        gate = asyncio.Semaphore(at_once)
        return dict(await asyncio.gather(*(one(label, path, gate) for label, path in paths.items())))

    done = asyncio.run(all_of_them())
    return {label: done[label] for label in paths}


def text_output(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stdout":
            out.append(o.get("text", ""))
    return "".join(out)


def errors(nb) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]
