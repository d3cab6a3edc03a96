"""One student's upload against the class, graded end to end on both backends.

The downloads are built by the LMS's own rules (see tests/test_lms_sources.py for the rules
and their sources). Each attacker tries to take a classmate's grade or to sink the whole
download; every classmate must be graded from their own file, and only the attacker's
submission may be invalid. Nothing is written outside the test's folder (the zip-slip
member only names a marker path, checked absent).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests import nbfactory
from tests.test_lms_sources import blackboard_attempt, canvas_name

A = "01_tf_basics"
FULL = 22.0


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def canvas_class(tmp: Path) -> Path:
    """Alice and Bob hand in the solution; four attackers upload zips."""
    solved = nbfactory.make(tmp / "solved.ipynb", A).read_bytes()
    blank = nbfactory.make(tmp / "blank.ipynb", A, solved=False).read_bytes()
    members = {
        canvas_name("Alice, A", "111", 500, f"{A}.ipynb"): solved,
        canvas_name("Bob, B", "112", 501, f"{A}.ipynb"): solved,
    }
    attacks = {
        # names a classmate's Canvas id inside an upload
        ("Mallory, M", "201"): {f"alice_111_99999_{A}.ipynb": blank, f"bob_112_99998_{A}.ipynb": blank},
        # zip slip inside an upload
        ("Oscar, O", "202"): {f"../escaped_{A}.ipynb": blank},
        # two names of one file on a case-insensitive system
        ("Trudy, T", "203"): {"A.ipynb": blank, "a.ipynb": blank},
        # four tiny files named like Blackboard's, to flip the layout
        ("Eve, E", "204"): {f"Lab_u{i}_attempt_2026-01-01-00-00-0{i}_{A}.ipynb": b"{}" for i in range(4)},
    }
    for n, ((sortable, uid), inner) in enumerate(attacks.items()):
        nested = _zip(tmp / f"upload{n}.zip", inner)
        members[canvas_name(sortable, uid, 600 + n, "sub.zip")] = nested.read_bytes()
    return _zip(tmp / "download.zip", members)


def blackboard_class(tmp: Path) -> Path:
    root = tmp / "bb"
    root.mkdir()
    blackboard_attempt(root, "Lab 1", "alice", "Alice A", "2026-11-01-10-00-00", {f"{A}.ipynb": True})
    blackboard_attempt(root, "Lab 1", "mallory", "Mallory M", "2026-11-01-11-00-00",
                       {f"x_alice_attempt_2099-12-31-23-59-59_{A}.ipynb": False})
    return root


def _grade(run_cli, source: Path, out: Path, backend: str) -> dict:
    proc = run_cli("grade", A, source, "--json", "--out", out, "--backend", backend, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {r["student"]: r for r in map(json.loads, proc.stdout.splitlines())}


def _check(tmp_path: Path, run_cli, backend: str) -> None:
    results = _grade(run_cli, canvas_class(tmp_path), tmp_path / "out", backend)
    assert sorted(results) == ["111", "112", "201", "202", "203", "204"]
    for student in ("111", "112"):
        assert results[student]["score"] == FULL and f"_{student}_" in results[student]["submission"]
    assert "several notebooks" in results["201"]["message"]
    assert "could not be opened" in results["202"]["message"] and "outside the archive" in results["202"]["message"]
    assert "could not be opened" in results["203"]["message"] and "two members" in results["203"]["message"]
    assert results["204"]["status"] == "invalid"
    assert not list(tmp_path.parent.glob(f"escaped_{A}.ipynb")) and not (tmp_path / f"escaped_{A}.ipynb").exists()
    bb = _grade(run_cli, blackboard_class(tmp_path), tmp_path / "out_bb", backend)
    graded = {s: r for s, r in bb.items() if not r.get("not_graded")}
    assert graded["alice"]["score"] == FULL and "Lab 1_alice_attempt_2026-11-01-10-00-00" in graded["alice"]["submission"]
    assert graded["mallory"]["score"] == 0.0


@pytest.mark.slow
def test_attacks_on_the_class_on_the_local_backend(tmp_path, run_cli):
    _check(tmp_path, run_cli, "local")


@pytest.mark.slow
@pytest.mark.docker
def test_attacks_on_the_class_on_the_docker_backend(tmp_path, run_cli, engine):
    _check(tmp_path, run_cli, "docker")
