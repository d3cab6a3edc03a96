"""docs/authoring.md's tutorial, run as written in a folder outside this repository: a new
course from a plain notebook, `new`, `validate` (first a problem, then clean), `release`,
and a batch of three notebooks (solved, a known mistake, the untouched stub)."""

import json
import os
import re
import shlex
import subprocess
import sys

import nbformat
import pytest

from tests.conftest import ROOT

DOC = ROOT / "docs" / "authoring.md"
BLOCK = re.compile(r"(?:<!-- (?P<directive>[^>]*?) -->\n+)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def steps(text: str) -> list[tuple[str, str, str]]:
    """(directive, language, body) of each fenced block of the tutorial, and each lone
    directive (``points:``) as a step of its own, in document order."""
    tutorial = text.split("## Tutorial", 1)[1].split("\n## ", 1)[0]
    found = []
    for m in re.finditer(r"<!-- (points: [^>]*) -->|" + BLOCK.pattern, tutorial, re.S):
        if m.group(1):
            found.append((m.group(1), "", ""))
        else:
            found.append((m.group("directive") or "", m.group("lang"), m.group("body")))
    return found


def percent_notebook(source: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for chunk in re.split(r"^# %%", source, flags=re.M)[1:]:
        head, _, body = chunk.partition("\n")
        body = body.strip("\n")
        if head.strip() == "[markdown]":
            nb.cells.append(nbformat.v4.new_markdown_cell(re.sub(r"^# ?", "", body, flags=re.M)))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(body))
    return nb


def _grade_cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.mark.slow
def test_the_authoring_tutorial_runs_as_written(tmp_path, cache_dir):
    assert not str(tmp_path).startswith(str(ROOT))
    bin_dir = tmp_path / "bin"  # `autograder` as the installed console script would run
    bin_dir.mkdir()
    (bin_dir / "autograder").write_text(f"#!/bin/sh\nexec {sys.executable} -m autograder.cli \"$@\"\n")
    (bin_dir / "autograder").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", AUTOGRADER_CACHE=str(cache_dir))
    cwd = tmp_path
    ran = []
    for directive, lang, body in steps(DOC.read_text()):
        if directive.startswith("not run"):
            continue
        if lang == "console":
            for line in body.splitlines():
                if not line.startswith("$ "):
                    continue
                command, _, comment = line[2:].partition("  # ")
                command = command.strip()
                if command.startswith("cd "):
                    cwd = cwd / shlex.split(command)[1]
                    continue
                proc = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True,
                                      timeout=900)
                expected = 1 if comment.strip() == "exits 1" else 0
                assert proc.returncode == expected, f"{command}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
                ran.append((command, proc))
        elif directive.startswith("notebook: "):
            nbformat.write(percent_notebook(body), cwd / directive.split(": ", 1)[1])
        elif directive.startswith("file: "):
            (cwd / directive.split(": ", 1)[1]).write_text(body)
        elif directive.startswith("points: "):
            path, grade_id, points = directive.split(": ", 1)[1].split()
            nb = nbformat.read(cwd / path, 4)
            _grade_cell(nb, grade_id).metadata["nbgrader"]["points"] = float(points)
            nbformat.write(nb, cwd / path)
        elif directive.startswith("answer: "):
            source, target, grade_id = directive.split(": ", 1)[1].split()
            nb = nbformat.read(cwd / source, 4)
            _grade_cell(nb, grade_id).source = body.rstrip("\n")
            (cwd / target).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, cwd / target)
        else:
            assert lang in ("", "python", "toml"), f"a tutorial block the test does not know: {directive!r} {lang}"

    commands = [c for c, _ in ran]
    assert commands[:2] == ["mkdir my-course", "autograder new 04_relu --from-notebook relu.ipynb"]
    first, second = [p for c, p in ran if c == "autograder validate 04_relu"]
    assert "its test cell is worth 1 points but its checks are worth 3" in first.stderr
    assert "ready to release and grade" in second.stdout and "stubs get 0 points" in second.stdout
    course = tmp_path / "my-course"
    assert (course / "assignments" / "04_relu" / "04_relu.ipynb").exists()
    results = {p.stem: json.loads(p.read_text()) for p in (course / "grades" / "results" / "04_relu").glob("*.json")}
    assert {s: (r["status"], r["score"], r["max_score"]) for s, r in results.items()} == {
        "alice": ("graded", 3.0, 3.0), "bob": ("graded", 0.0, 3.0), "carol": ("graded", 0.0, 3.0)}
    bob = (course / "grades" / "feedback" / "04_relu" / "bob.txt").read_text()
    assert "Likely mistake: abs(x) keeps the size of negative inputs" in bob
    carol = (course / "grades" / "feedback" / "04_relu" / "carol.txt").read_text()
    assert "not implemented yet" in carol
    assert not (ROOT / "assignments" / "04_relu").exists() and not (ROOT / "solutions" / "04_relu").exists()
