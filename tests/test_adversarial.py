"""Every hostile submission of tests/adversarial.py, graded on both backends.

One batch per backend (two jobs in parallel, as instructors run it). Each attack must
get its honest score (the score of the same notebook without the attack), lose only
its own exercises with the stated outcome, and leave nothing behind: no forged file
stands, no process survives, no payload runs on the host, nothing confidential
reaches the feedback. ``test_the_table`` writes the case / backend / outcome table.
"""

import json
import subprocess
import time

import pytest

from tests.adversarial import ATTACKS, FULL, A
from tests.conftest import json_lines, processes_with

BY_NAME = {a.name: a for a in ATTACKS}
STUDENT_FILES = ("feedback/{a}/{s}.html", "feedback/{a}/{s}.json", "feedback/{a}/{s}.txt",
                 "exports/gradescope/{a}/{s}/results.json")


def _secrets(cache_dir) -> list[str]:
    """What only the grader holds: the data of hidden-check reference values of exercises the
    spy runs before (so no correct answer has computed them yet), and the cache's path."""
    refs = json.loads(next((cache_dir / "references").glob(f"{A}-*.json")).read_text())
    blobs = []
    for cid in ("evaluate.matmul_graph", "feed_placeholder.custom_parameters"):
        blobs.append(refs["checks"][cid]["values"]["value"]["npy"][-24:])
    return blobs + [str(cache_dir / "references")]


def grade_suite(backend, tmp_path_factory, run_cli, cache_dir):
    subs = tmp_path_factory.mktemp(f"adversarial_{backend}")
    out = tmp_path_factory.mktemp(f"adversarial_{backend}_out")
    mark = tmp_path_factory.mktemp("mark") / "PWNED"
    from tests import nbfactory

    warm = nbfactory.make(subs.parent / f"warm_{backend}" / "solution.ipynb", A)
    proc = run_cli("grade", A, warm, "--out", out.parent / f"warm_{backend}_out", "--backend", "local")
    assert proc.returncode == 0, proc.stderr[-2000:]  # fills the reference cache the spies search for
    secrets = _secrets(cache_dir)
    attacks = [a for a in ATTACKS if backend in a.backends]
    for attack in attacks:
        attack.build(subs, out, mark, secrets)
    started = time.monotonic()
    proc = run_cli("grade", A, subs, "--json", "--jobs", "2", "--out", out, "--backend", backend,
                   "--check-timeout", "15", "--cell-timeout", "120")
    wall = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    time.sleep(1.0)  # anything still rewriting files would show now
    return {"backend": backend, "results": json_lines(proc.stdout), "out": out, "mark": mark,
            "attacks": attacks, "wall": wall, "stdout": proc.stdout}


@pytest.fixture(scope="module")
def local_suite(tmp_path_factory, run_cli, cache_dir):
    return grade_suite("local", tmp_path_factory, run_cli, cache_dir)


@pytest.fixture(scope="module")
def docker_suite(engine, tmp_path_factory, run_cli, cache_dir):
    return grade_suite("docker", tmp_path_factory, run_cli, cache_dir)


@pytest.fixture(params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def suite(request):
    return request.getfixturevalue(f"{request.param}_suite")


def lost(result):
    pts = {}
    for c in result["checks"]:
        p = pts.setdefault(c["exercise"], [0.0, 0.0])
        p[0] += c["points"]
        p[1] += c["max_points"]
    return {e: m - p for e, (p, m) in pts.items() if p != m}


def outcome_of(result, exercise):
    return next(c["outcome"] for c in result["checks"] if c["exercise"] == exercise and not c["passed"])


pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", [a.name for a in ATTACKS])
def test_each_attack_gets_its_honest_score(suite, name):
    attack = BY_NAME[name]
    if suite["backend"] not in attack.backends:
        pytest.skip(f"{name} is not run on {suite['backend']} (see the catalogue)")
    r = suite["results"][name]
    assert r["status"] == "graded" and r["backend"] == suite["backend"], r
    assert r["max_score"] == FULL
    assert r["score"] == attack.honest(suite["backend"]), (lost(r), [c["message"] for c in r["checks"] if not c["passed"]])
    for exercise, outcome in attack.expected_lost(suite["backend"]).items():
        assert outcome_of(r, exercise) == outcome, [c for c in r["checks"] if c["exercise"] == exercise]


def test_forged_files_do_not_stand_and_stdout_stays_clean(suite):
    results_dir = suite["out"] / "results" / A
    for name in ("forges_result_files", "atexit_hook_rewrites", "detached_rewriter", "prints_fake_scores"):
        stored = json.loads((results_dir / f"{name}.json").read_text())
        assert stored["score"] == 0.0 and stored["sha256"] == suite["results"][name]["sha256"], name
    assert not (results_dir / "result.json").exists() or json.loads((results_dir / "result.json").read_text()).get(
        "sha256"), "a forged file in the results folder"
    assert "Score: 22/22" not in suite["stdout"] and "All tests passed" not in suite["stdout"]


def test_no_process_survives_the_batch(suite):
    before = (suite["out"] / "results" / A / "detached_rewriter.json").read_text()
    time.sleep(0.5)
    assert (suite["out"] / "results" / A / "detached_rewriter.json").read_text() == before
    assert not processes_with(b"autograder.sandbox"), "a sandbox process outlived the grader"
    if suite["backend"] == "docker":
        from autograder.sandbox import docker

        left = subprocess.run(["docker", "ps", "-aq", "--filter", f"ancestor={docker.DEFAULT_IMAGE}"],
                              capture_output=True, text=True).stdout.split()
        assert not left, "a container outlived the grader"


def test_no_payload_ran_on_the_host(suite):
    assert not suite["mark"].exists()
    r = suite["results"]["pickle_payload"]
    assert "could not be read" in " ".join(c["message"] for c in r["checks"] if c["exercise"] == "eager_linear")


def test_nothing_confidential_reaches_what_students_read(suite):
    out, log = suite["out"], (suite["out"] / "logs" / A / "smuggles_hidden_inputs.log").read_text()
    assert "ENVIRONMENT" in log and "PYTHONHASHSEED" in log  # the attack printed; the instructor log has it
    for template in STUDENT_FILES:
        text = (out / template.format(a=A, s="smuggles_hidden_inputs")).read_text()
        for needle in ("LEAK", "31337", "PYTHONHASHSEED", "2.25", "hello"):
            assert needle not in text, (template, needle)
    assert "SECRETS FOUND []" in (out / "logs" / A / "searches_memory_for_secrets.log").read_text()


def test_output_floods_are_drained_and_truncated(suite):
    log = (suite["out"] / "logs" / A / "gigabyte_of_output.log").read_text()
    size = int(log.split("--- output (")[1].split(" bytes")[0])
    assert size >= 2**30 and len(log) < 2**20
    log = (suite["out"] / "logs" / A / "hundred_thousand_displays.log").read_text()
    assert int(log.split("--- output (")[1].split(" bytes")[0]) > 100000


def test_the_table(suite):
    """The case / backend / what-the-grader-did table: printed (pytest -s) and written
    beside the batch's output folder."""
    s = suite
    lines = ["| case | backend | what the grader did |", "|---|---|---|"]
    for attack in ATTACKS:
        if s["backend"] in attack.backends:
            r = s["results"][attack.name]
            failed = {}
            for c in r["checks"]:
                if not c["passed"]:
                    failed.setdefault(c["exercise"], c["outcome"])
            did = (f"{r['score']:g}/{r['max_score']:g} (honest {attack.honest(s['backend']):g})"
                   + (": " + ", ".join(f"{e} {o}" for e, o in failed.items()) if failed and attack.solved else ""))
            lines.append(f"| {attack.name}: {attack.case} | {s['backend']} | {did} |")
    table = "\n".join(lines)
    (s["out"].parent / f"adversarial-table-{s['backend']}.md").write_text(table + "\n")
    print(f"\n{table}\n{s['backend']}: {len(s['attacks'])} attacks graded in {s['wall']:.1f} s")
    assert len(lines) == 2 + len(s["attacks"])
