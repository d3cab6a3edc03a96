"""Regenerate the bundled example batch from the committed student notebooks.

    python examples/build_batch.py

A dozen submissions of 01_tf_basics as a real class hands them in: correct,
partly wrong, unfinished, broken, cheating, malformed. `make example` grades
them; tests check that the committed files equal what this script writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.nbfactory import make, solution_answers  # noqa: E402

A = "01_tf_basics"


def mistake(name: str) -> str:
    """The source of a known mistake from the instructor's catalogue."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mistakes", ROOT / "solutions" / A / "mistakes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(m.source for m in module.MISTAKES if m.name == name).strip() + "\n"


def build(folder: Path) -> list[Path]:
    sol = solution_answers(A)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.ipynb"):
        old.unlink()
    written = [
        make(folder / "ada_correct.ipynb", A),
        make(folder / "ben_unstarted.ipynb", A, solved=False),
        make(folder / "chloe_wrong_mod.ipynb", A, answers={"elementwise_ops": mistake("truncated_mod")}),
        make(folder / "dev_wrong_shape.ipynb", A, answers={"feed_placeholder": mistake("column_output")}),
        make(folder / "emma_session_mixup.ipynb", A, answers={"evaluate": (
            "def evaluate(graph, tensor):\n    with tf.compat.v1.Session() as sess:\n"
            "        return sess.run(tensor)\n")}),
        make(folder / "farid_half_done.ipynb", A, solved=False, answers={
            k[len("answer_"):]: v for k, v in list(sol.items())[:4]}),
        make(folder / "gina_infinite_loop.ipynb", A, answers={"unique_shapes": (
            "def unique_shapes(values):\n    while True:\n        pass\n")}),
        make(folder / "hugo_crashes.ipynb", A, answers={"describe_tensor": (
            "def describe_tensor(value):\n    import os\n    os._exit(1)\n")}),
        make(folder / "iris_cheats.ipynb", A, solved=False, extra=[(None, (
            "import numpy, builtins, json\n"
            "numpy.allclose = lambda *a, **k: True\n"
            "builtins.AssertionError = Exception\n"
            "print(json.dumps({'score': 22, 'status': 'graded'}))\n"
            "open('results.json', 'w').write('{\"score\": 22}')\n"))]),
        make(folder / "jon_float64.ipynb", A, answers={"eager_linear": (
            "def eager_linear(x, w, b):\n    return tf.constant(x, tf.float64) * w + b\n")}),
    ]
    (folder / "kim_truncated.ipynb").write_text(json.dumps({"nbformat": 4, "cells": [{"cell_type": "code"}]})[:40])
    (folder / "leo_old_format.ipynb").write_text(json.dumps(
        {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}))
    return written + [folder / "kim_truncated.ipynb", folder / "leo_old_format.ipynb"]


if __name__ == "__main__":
    for path in build(ROOT / "examples" / A):
        print(path.relative_to(ROOT))
