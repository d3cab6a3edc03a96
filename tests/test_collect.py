"""Who a notebook belongs to: ids from the layout, never from a notebook's name in someone's folder.

Fast: only files are made, nothing is graded.
"""

import os

from autograder.lms.intake import collect as collect3
from tests import nbfactory


def collect(paths, assignment):
    items, ignored, _ = collect3(paths, assignment)
    return items, ignored


A = "02_linear_classifier"


def by_student(items):
    out = {}
    for item in items:
        assert item.student not in out, f"two items for {item.student}"
        out[item.student] = item
    return out


def test_a_notebook_planted_in_another_students_folder_takes_nobody_s_grade(tmp_path):
    """The red team's id takeover: mallory writes alice.ipynb in her own nbgrader folder, later."""
    root = tmp_path / "submitted"
    alice = nbfactory.make(root / "alice" / A / f"{A}.ipynb", A)
    os.utime(alice, (1_000_000, 1_000_000))
    mallory = nbfactory.make(root / "mallory" / A / f"{A}.ipynb", A, solved=False)
    nbfactory.make(root / "mallory" / A / "alice.ipynb", A, solved=False)
    items, ignored = collect([str(root)], A)
    students = by_student(items)
    assert set(students) == {"alice", "mallory"}
    assert students["alice"].path == alice and students["alice"].problem is None
    assert students["mallory"].path == mallory and students["mallory"].problem is None
    assert students["mallory"].notes == ["other notebooks of this submission were not graded: alice.ipynb"]
    assert any("alice.ipynb (not the notebook of mallory)" in text for text in ignored)


def test_nbgrader_folder_with_one_notebook_of_another_name_and_with_several(tmp_path):
    root = tmp_path / "submitted"
    only = nbfactory.make(root / "bob" / A / "my work.ipynb", A)
    nbfactory.make(root / "carol" / A / "one.ipynb", A)
    nbfactory.make(root / "carol" / A / "two.ipynb", A)
    nbfactory.make(root / "stray.ipynb", A)
    items, ignored = collect([str(root)], A)
    students = by_student(items)
    assert students["bob"].path == only and students["bob"].problem is None
    assert students["carol"].problem.startswith("not graded: several notebooks and none named")
    assert "one.ipynb, two.ipynb" in students["carol"].problem and students["carol"].status == "invalid"
    assert students["stray"].problem is None  # outside the layout: its stem, as before


def test_two_notebooks_claiming_one_id_are_both_reported_and_neither_graded(tmp_path):
    first = nbfactory.make(tmp_path / "a" / "alice.ipynb", A)
    second = nbfactory.make(tmp_path / "b" / "alice.ipynb", A)
    os.utime(first, (1_000_000, 1_000_000))  # no "latest wins": modification times mean nothing here
    items, _ = collect([str(tmp_path)], A)
    assert len(items) == 2 and {i.student for i in items} == {"alice"}
    for item in items:
        assert item.status == "error" and "2 submissions claim the id alice" in item.problem
        assert str(first) in item.problem and str(second) in item.problem


def test_the_same_file_given_twice_is_one_submission(tmp_path):
    nb = nbfactory.make(tmp_path / "alice.ipynb", A)
    items, _ = collect([str(nb), str(tmp_path)], A)
    assert len(items) == 1 and items[0].problem is None


def test_a_flat_folder_named_like_the_assignment_is_not_nbgrader_layout(tmp_path):
    folder = tmp_path / A
    nbfactory.make(folder / "ada.ipynb", A)
    nbfactory.make(folder / "ben.ipynb", A)
    items, ignored = collect([str(folder)], A)
    assert sorted(i.student for i in items) == ["ada", "ben"] and not ignored


def test_links_are_reported_never_followed(tmp_path):
    """A link could hand in the solution, or another student's notebook under one's own name."""
    root = tmp_path / "submitted"
    alice = nbfactory.make(root / "alice" / A / f"{A}.ipynb", A)
    (root / "mallory" / A).mkdir(parents=True)
    (root / "mallory" / A / f"{A}.ipynb").symlink_to(nbfactory.ROOT / "solutions" / A / f"{A}.ipynb")
    (root / "eve" / A).mkdir(parents=True)
    (root / "eve" / A / f"{A}.ipynb").symlink_to(alice)
    (root / "trudy").symlink_to(root / "alice")       # a linked student folder
    items, _ = collect([str(root)], A)
    students = by_student(items)
    assert set(students) == {"alice", "mallory", "eve"}
    assert students["alice"].problem is None and students["alice"].path == alice
    for name in ("mallory", "eve"):
        assert students[name].problem.startswith("not graded: a symbolic link") and students[name].status == "invalid"


def test_a_link_given_directly_is_invalid_too(tmp_path):
    from autograder.notebooks.reading import InvalidSubmission, read_notebook
    import pytest

    link = tmp_path / "bob.ipynb"
    link.symlink_to(nbfactory.ROOT / "solutions" / A / f"{A}.ipynb")
    items, _ = collect([str(link)], A)
    assert items[0].problem.startswith("not graded: a symbolic link")
    with pytest.raises(InvalidSubmission, match="symbolic link"):
        read_notebook(link)  # and the reader itself never follows one
    fifo = tmp_path / "fifo.ipynb"
    os.mkfifo(fifo)
    with pytest.raises(InvalidSubmission, match="not a regular file"):
        read_notebook(fifo)  # nor blocks on a pipe
