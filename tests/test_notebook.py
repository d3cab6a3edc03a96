"""Reading submissions: bad input is named clearly; instructor cells come from the solution."""

import json

import nbformat
import pytest

from autograder.notebooks.reading import InvalidSubmission, assemble, read_notebook, student_id
from tests import nbfactory

A = "01_tf_basics"


def read(tmp_path, content: bytes | str, name="sub.ipynb"):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return read_notebook(p)


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"{not json", "invalid JSON"),
    (b"\xff\xfe\x00binary", "not UTF-8"),
    (json.dumps({"nbformat": 4, "metadata": {}}), "no 'cells'"),
    (json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": [], "metadata": {}}), "nbformat 3"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "bogus"}]}),
     "not a valid nbformat 4"),
])
def test_bad_files_are_invalid_with_a_message(tmp_path, content, words):
    with pytest.raises(InvalidSubmission, match=words):
        read(tmp_path, content)


def test_oversized_notebook_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr("autograder.notebooks.reading.MAX_NOTEBOOK_BYTES", 100)
    with pytest.raises(InvalidSubmission, match="over the"):
        read(tmp_path, json.dumps({"nbformat": 4, "cells": [], "metadata": {"x": "y" * 200}}))


def _assemble(tmp_path, **kwargs):
    path = nbfactory.make(tmp_path / "s.ipynb", A, **kwargs)
    nb, _ = read_notebook(path)
    return assemble(nbfactory.solution_notebook(A), nb, A)


def test_deleted_answer_cell_is_invalid(tmp_path):
    def drop(nb):
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "answer_evaluate"]

    with pytest.raises(InvalidSubmission, match="'answer_evaluate' missing"):
        _assemble(tmp_path, edit=drop)


def test_another_assignments_notebook_is_invalid(tmp_path):
    def relabel(nb):
        nb.metadata["autograder"] = {"assignment": "02_linear_classifier"}

    with pytest.raises(InvalidSubmission, match="assignment '02_linear_classifier', not '01_tf_basics'"):
        _assemble(tmp_path, edit=relabel)

    def unrelated(nb):
        nb.metadata.pop("autograder")
        for c in nb.cells:
            c.metadata.pop("nbgrader", None)

    with pytest.raises(InvalidSubmission, match="right assignment"):
        _assemble(tmp_path, edit=unrelated)


def test_instructor_cells_come_from_the_solution_and_tests_are_not_run(tmp_path):
    def tamper(nb):
        for c in nb.cells:
            meta = c.metadata.get("nbgrader", {})
            if meta.get("grade_id") == "setup":
                c.source = "import numpy as np\nnp.allclose = lambda *a, **k: True"
            if meta.get("grade"):
                c.source = "print('all passed')"
                meta["points"] = 1000

    plan, _ = _assemble(tmp_path, edit=tamper)
    setup = next(c for c in plan if c.label == "setup")
    assert "allclose" not in setup.source and "import tensorflow as tf" in setup.source
    assert not any(c.label.startswith("test_") for c in plan)
    assert all("all passed" not in c.source for c in plan)


def test_extra_cells_run_in_place_and_duplicates_are_ignored(tmp_path):
    def duplicate(nb):
        copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[2])))
        copy.source = "DUPLICATE = True"
        nb.cells.append(copy)

    plan, notes = _assemble(tmp_path, extra=[("answer_evaluate", "helper = 1"), (None, "top = 1")],
                            edit=duplicate)
    labels = [c.label for c in plan]
    assert labels[0] == "extra cell 1" and plan[0].source == "top = 1"
    i = labels.index("answer_evaluate")
    assert plan[i + 1].source == "helper = 1"
    assert any("duplicate" in n for n in notes)
    assert all("DUPLICATE" not in c.source for c in plan)


def test_student_id_from_file_or_nbgrader_layout(tmp_path):
    assert student_id(tmp_path / "alice.ipynb", A) == "alice"
    assert student_id(tmp_path / "bob" / A / f"{A}.ipynb", A) == "bob"


def test_exploration_cells_are_not_run_when_grading(tmp_path):
    plan, _ = _assemble(tmp_path)
    solution_explore = [c for c in nbfactory.solution_notebook(A).cells
                        if c.metadata.get("autograder", {}).get("skip")]
    assert solution_explore, "the notebook has exploration cells"
    assert not any(c.label.startswith("explore_") for c in plan)
