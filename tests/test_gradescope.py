"""The Gradescope bundle (autograder gradescope) and what it runs inside Gradescope.

Fast: the bundle of the scaffold course built with the fake sandbox, and its run_autograder
logic in-process. Docker: the bundle of 02 unpacked into Gradescope's layout in a fresh
container of the offline base image, set up without a network, then run on a solution, a
stub, a corpus mistake and bad submissions, against `autograder grade`'s scores."""

import json
import os
import stat
import subprocess
import time
import zipfile

import jsonschema
import pytest

from autograder.lms import gradescope
from autograder.assignments.course import find_assignment
from tests import fakes, nbfactory
from tests.conftest import ROOT, json_lines
from tests.corpus import linear_classifier

SCHEMA = json.loads((ROOT / "tests" / "gradescope_results.schema.json").read_text())


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    fakes.course(tmp_path / "course")
    assignment = find_assignment(fakes.NAME, tmp_path / "course")
    out = gradescope.build(assignment, tmp_path / "bundle.zip", fakes.FakeSandbox(), hidden_visibility="hidden",
                           report=lambda line: None)
    source = tmp_path / "source"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(source)
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    monkeypatch.setattr("autograder.sandbox.registry.make_sandbox",
                        lambda *a, **k: fakes.FakeSandbox({"you": {fakes.PUBLIC: fakes.WRONG}}))
    return {"zip": out, "source": source, "modes": modes, "assignment": assignment, "tmp": tmp_path}


def _run(bundle, files):
    sub = bundle["tmp"] / "submission"
    sub.mkdir(exist_ok=True)
    for name, content in files.items():
        (sub / name).write_text(content) if isinstance(content, str) else (sub / name).write_bytes(content)
    results = bundle["tmp"] / "results" / "results.json"
    status = gradescope.run(bundle["source"], sub, results)
    data = json.loads(results.read_text())
    jsonschema.validate(data, SCHEMA)
    return status, data


def test_the_bundle_holds_what_gradescope_runs_and_the_course(bundle):
    names = set(bundle["modes"])
    assert {"setup.sh", "run_autograder", "requirements.txt", "reference.json", "autograder.json"} <= names
    assert stat.S_IMODE(bundle["modes"]["setup.sh"]) & 0o111 and stat.S_IMODE(bundle["modes"]["run_autograder"]) & 0o111
    assert f"course/solutions/{fakes.NAME}/hidden_checks.py" in names
    assert f"course/assignments/{fakes.NAME}/checks.py" in names and "engine/autograder/lms/gradescope.py" in names
    assert not any("__pycache__" in n or n.startswith("wheels/") for n in names)
    refs = json.loads((bundle["source"] / "reference.json").read_text())
    assert set(refs["checks"]) == {fakes.PUBLIC, fakes.HIDDEN} and "adds_factor" in refs["mistakes"]
    settings = json.loads((bundle["source"] / "autograder.json").read_text())
    assert settings["assignment"] == fakes.NAME and settings["version"] == bundle["assignment"].version
    assert "tensorflow-cpu==" in (bundle["source"] / "requirements.txt").read_text()
    assert "--find-links wheels" in (bundle["source"] / "setup.sh").read_text()


def test_run_autograder_grades_the_notebook_with_the_shipped_reference(bundle):
    notebook = bundle["assignment"].solution_notebook.read_text()
    status, data = _run(bundle, {f"{fakes.NAME}.ipynb": notebook})
    assert status == 0 and data["score"] == 1.0
    assert [(t["status"], t["visibility"]) for t in data["tests"]] == [("failed", "visible"), ("passed", "hidden")]
    assert "Public checks: 0 / 1" in data["output"] and "[FAIL] scale: 0/1 checks passed  0/1 pts" in data["output"]
    assert "Hidden checks (1 points): their results, and your total score, show to the course staff only." \
        in data["output"]
    assert data["visibility"] == "hidden"  # the total tells the hidden checks' results: it shows when they do
    assert data["output"].rstrip().endswith("Graded in the fake sandbox: no namespaces.")  # which confinement applied
    assert gradescope.describe_confinement({"backend": "local", "confined": True, "landlock_abi": 7, "seccomp": True,
                                            "own_uid": True, "namespaces": []}) == (
        "Graded in the local sandbox: Landlock ABI 7, seccomp, its own uid, no namespaces.")
    assert fakes.HIDDEN.split(".")[1] not in json.dumps(data)  # a hidden check's name never shows


@pytest.mark.parametrize("files, words, status", [
    ({}, "no Jupyter notebook (.ipynb) in your submission: upload 04_scale.ipynb", 0),
    ({"answers.py": "x = 1"}, "no Jupyter notebook (.ipynb) in your submission (found: answers.py)", 0),
    ({"04_scale.ipynb": "{"}, "04_scale.ipynb: not a notebook: invalid JSON", 0),
    ({"a.ipynb": "{}", "b.ipynb": "{}"}, "2 notebooks handed in (a.ipynb, b.ipynb): upload only one, named "
                                         "04_scale.ipynb", 0),
])
def test_a_submission_that_cannot_be_graded_gets_a_clear_results_json(bundle, files, words, status):
    got, data = _run(bundle, files)
    assert got == status and data["score"] == 0.0 and data["tests"] == []
    assert data["output"].startswith("Your submission could not be graded: ") and words in data["output"]


def test_a_grader_failure_writes_no_results_so_it_is_never_a_zero(bundle, monkeypatch, capsys):
    broken = fakes.FakeSandbox(infrastructure={"you": 99})
    monkeypatch.setattr("autograder.sandbox.registry.make_sandbox", lambda *a, **k: broken)
    sub = bundle["tmp"] / "submission"
    sub.mkdir()
    (sub / f"{fakes.NAME}.ipynb").write_text(bundle["assignment"].solution_notebook.read_text())
    results = bundle["tmp"] / "results" / "results.json"
    assert gradescope.run(bundle["source"], sub, results) == 1
    assert not results.exists() and "grading failed, not the student's fault" in capsys.readouterr().out


def test_of_several_notebooks_the_one_named_after_the_assignment_is_graded(bundle):
    notebook = bundle["assignment"].solution_notebook.read_text()
    status, data = _run(bundle, {f"{fakes.NAME}.ipynb": notebook, "scratch.ipynb": "{}"})
    assert status == 0 and data["score"] == 1.0
    assert f"2 notebooks handed in (04_scale.ipynb, scratch.ipynb); graded {fakes.NAME}.ipynb" in data["output"]


def test_the_command_refuses_a_bad_out_path(run_cli, tmp_path):
    proc = run_cli("gradescope", "02_linear_classifier", "--out", tmp_path / "bundle.tar")
    assert proc.returncode == 2 and "Gradescope takes a .zip" in proc.stderr


# ------------------------------------------------------------------------------- in a container
A = "02_linear_classifier"
BASE = os.environ.get("BASE_TAG", "tf-autograder-base:bookworm")


def _docker(*args, timeout=900, check=True):
    proc = subprocess.run(["docker", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return proc


@pytest.mark.docker
@pytest.mark.slow
def test_the_bundle_in_gradescopes_layout_grades_like_autograder_grade(engine, tmp_path, run_cli):
    if _docker("image", "inspect", BASE, check=False).returncode != 0:
        pytest.fail(f"no {BASE} image: docker/build-offline.sh makes it")
    started = time.monotonic()
    out = tmp_path / "bundle.zip"
    built = run_cli("gradescope", A, "--out", out, "--offline", "--wheelhouse", ROOT / "docker" / "wheelhouse",
                    timeout=1500)
    assert built.returncode == 0, built.stderr[-3000:]
    build_s = time.monotonic() - started
    source = tmp_path / "source"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(source)
        for info in zf.infolist():  # zipfile drops modes on extraction
            os.chmod(source / info.filename, (info.external_attr >> 16) or 0o644)

    # Gradescope's image build: the zip in /autograder/source, setup.sh run, run_autograder copied.
    image = f"autograder-gradescope-test:{os.getpid()}"
    cid = _docker("create", "--network", "none", BASE, "bash", "-c",
                  "bash /autograder/source/setup.sh && cp /autograder/source/run_autograder /autograder/").stdout.strip()
    try:
        # The zip's contents at /autograder/source, as Gradescope places them (with their modes).
        subprocess.run(["docker", "cp", "-", f"{cid}:/"], input=_tar(source, "autograder/source"), check=True,
                       timeout=300)
        t0 = time.monotonic()
        setup = _docker("start", "-a", cid, timeout=1500)
        setup_s = time.monotonic() - t0
        assert "setup.sh: ready (Python 3.11" in setup.stdout, setup.stdout + setup.stderr
        _docker("commit", cid, image)
    finally:
        _docker("rm", "-f", cid, check=False)

    subs = tmp_path / "subs"
    mistake, (exercise, wrong, _) = next(iter(linear_classifier.MISTAKES.items()))
    nbfactory.make(subs / "solution.ipynb", A)
    nbfactory.make(subs / "stub.ipynb", A, solved=False)
    nbfactory.make(subs / "mistake.ipynb", A, answers={exercise: wrong})
    (subs / "malformed.ipynb").write_text('{"cells": [')
    # A student who tries to read the instructor's files and to write the results: marker files only.
    probe = ("for _p in ('/autograder/source/reference.json', '/autograder/source/course/solutions'):\n"
             "    try:\n        open(_p).read(64); print('READ-OK', _p)\n"
             "    except Exception as _e:\n        print('READ-DENIED', _p, type(_e).__name__)\n"
             "try:\n    open('/autograder/results/tampered', 'x').write('x'); print('WRITE-OK')\n"
             "except Exception as _e:\n    print('WRITE-DENIED', type(_e).__name__)\n")
    nbfactory.make(subs / "snoop.ipynb", A, extra=[(None, probe)])
    graded = run_cli("grade", A, subs, "--json", "--jobs", "2", "--backend", "local", "--out", tmp_path / "graded")
    assert graded.returncode == 0, graded.stderr[-2000:]
    expected = json_lines(graded.stdout)

    found, times = {}, {}
    try:
        for name in ("solution", "stub", "mistake", "malformed", "snoop"):
            sub, res = tmp_path / "run" / name / "submission", tmp_path / "run" / name / "results"
            sub.mkdir(parents=True)
            res.mkdir(parents=True)
            (sub / f"{A}.ipynb").write_bytes((subs / f"{name}.ipynb").read_bytes())
            t0 = time.monotonic()
            run = _docker("run", "--rm", "--network", "none", "-v", f"{sub}:/autograder/submission",
                          "-v", f"{res}:/autograder/results", "-w", "/autograder", image, "/autograder/run_autograder",
                          timeout=600, check=False)
            times[name] = time.monotonic() - t0
            data = json.loads((res / "results.json").read_text())
            jsonschema.validate(data, SCHEMA)
            found[name] = (run.returncode, data)
            if name == "snoop":
                assert "READ-DENIED /autograder/source/reference.json" in run.stdout, run.stdout[-3000:]
                assert "READ-OK" not in run.stdout and "WRITE-OK" not in run.stdout
                assert not (res / "tampered").exists()
    finally:
        _docker("rmi", "-f", image, check=False)

    for name in ("solution", "stub", "mistake", "snoop"):
        status, data = found[name]
        assert status == 0 and data["score"] == expected[name]["score"], (name, data["score"], expected[name]["score"])
        hidden = [t for t in data["tests"] if ": hidden" in t["name"]]
        assert hidden and all(t["visibility"] == "after_published" for t in hidden)
        assert all(t["visibility"] == "visible" for t in data["tests"] if t not in hidden)
        assert "Graded in the local sandbox: Landlock ABI" in data["output"] and "its own uid" in data["output"]
        assert "their results, and your total score, show once grades are published" in data["output"]
        assert data["visibility"] == "after_published"  # the total, which includes hidden points, too
    assert found["solution"][1]["score"] == expected["solution"]["max_score"]
    assert found["stub"][1]["score"] == 0
    status, data = found["malformed"]
    assert status == 0 and data["score"] == 0 and expected["malformed"]["status"] == "invalid"
    assert "could not be graded" in data["output"] and "not a notebook" in data["output"]
    print(f"\nGradescope bundle of {A}: {out.stat().st_size / 2**20:.0f} MB, built in {build_s:.0f} s; "
          f"setup.sh offline {setup_s:.0f} s; run_autograder per submission: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))


def _tar(folder, arcname):
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        tf.add(folder, arcname=arcname)
    return buf.getvalue()
