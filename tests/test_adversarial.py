"""Every hostile submission of tests/adversarial.py, graded on both backends.

One batch per backend (two jobs in parallel, as instructors run it). Each attack must
get its honest score (the score of the same notebook without the attack), lose only
its own exercises with the stated outcome, and leave nothing behind: no forged file
stands, no process survives, no payload runs on the host, nothing confidential
reaches the feedback. ``test_the_table`` writes the case / backend / outcome table.
"""

import csv
import glob
import json
import os
import re
import socket
import subprocess
import threading
import time

import pytest

from autograder.assignments.course import find_assignment
from autograder.checks.judge import HIDDEN_MESSAGES
from autograder.files import safe_name
from tests.adversarial import ATTACKS, COURSES, LAYOUT_ATTACKS, A
from tests.conftest import ROOT, json_lines, processes_of_grader

BY_NAME = {a.name: a for a in ATTACKS}
STUDENT_FILES = ("feedback/{a}/{s}.html", "feedback/{a}/{s}.json", "feedback/{a}/{s}.txt",
                 "exports/gradescope/{a}/{s}/results.json")


def _secrets(cache_dir) -> list[str]:
    """What only the grader holds: the data of hidden-check reference values of exercises the
    spy runs before (so no correct answer has computed them yet), and the cache's path."""
    ids = ("evaluate.matmul_graph", "feed_placeholder.custom_parameters")
    # The references with the hidden checks (a shared cache may also hold the public ones).
    refs = next(r for r in (json.loads(p.read_text()) for p in sorted((cache_dir / "references").glob(f"{A}-*.json")))
                if all(cid in r["checks"] for cid in ids))
    blobs = []
    for cid in ids:
        blobs.append(refs["checks"][cid]["values"]["value"]["npy"][-24:])
    return blobs + [str(cache_dir / "references")]


class LoopbackServer(threading.Thread):
    """A TCP server on the host's loopback that counts who connects (no run may)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def host_facts(backend, out, mark, cache_dir) -> dict:
    """What an attacker on this machine could know or guess, for the escape attacks."""
    from autograder.sandbox import linux

    left = mark.parent / "left_in_tmp.txt"  # as another run or user would leave it in /tmp
    left.write_text("another run's file")
    return {"BACKEND": backend, "ROOT": str(ROOT), "CACHE": str(cache_dir), "HOME": os.path.expanduser("~"), "LEFT_IN_TMP": str(left),
            "TOKEN": f"AUTOGRADER-ESCAPE-MARKER-{os.getpid()}",
            "PID_NAMESPACE": backend == "docker" or "pid" in linux.probe()["namespaces"]}


def escape_markers(facts) -> list[str]:
    """Marker files an escaped run created (removed here: they must not stay)."""
    found = []
    for folder in ("/", "/etc", "/tmp", "/var/tmp", "/dev/shm", facts["CACHE"], os.path.join(facts["CACHE"], "references"),
                   facts["HOME"], facts["ROOT"], os.path.join(facts["ROOT"], "solutions"),
                   os.path.join(facts["ROOT"], "autograder"), os.getcwd()):
        for path in glob.glob(os.path.join(folder, facts["TOKEN"] + "-*")):
            found.append(path)
            os.unlink(path)
    return found


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
    (mark.parent / "canary").mkdir()
    (mark.parent / "canary" / "keep.txt").write_text("the cleanup must never follow a link here")
    facts = host_facts(backend, out, mark, cache_dir)
    server = LoopbackServer()
    server.start()
    victim = subprocess.Popen(["sleep", "600"])
    facts.update(PORT=server.port, VICTIM=victim.pid)
    results, stdout, pids, started = {}, "", [], time.monotonic()
    try:
        for assignment in dict.fromkeys(a.assignment for a in attacks):
            folder = subs / assignment
            for attack in attacks:
                if attack.assignment == assignment:
                    attack.build(folder, out, mark, secrets, facts)
            proc = run_cli("grade", assignment, folder, "--json", "--jobs", "2", "--out", out, "--backend", backend,
                           "--check-timeout", "15", "--cell-timeout", "120")
            assert proc.returncode == 0, proc.stderr[-3000:]
            results.update(json_lines(proc.stdout))
            stdout += proc.stdout
            pids.append(proc.pid)
        wall = time.monotonic() - started
        time.sleep(1.0)  # anything still rewriting files would show now
        victim_alive = victim.poll() is None
    finally:
        victim.kill()
        server.sock.close()
    return {"backend": backend, "results": {a.name: results[a.student] for a in attacks}, "out": out,
            "mark": mark, "attacks": attacks, "wall": wall, "stdout": stdout, "pids": pids, "facts": facts,
            "markers": escape_markers(facts), "connections": server.connections, "victim_alive": victim_alive}


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
    assert r["max_score"] == COURSES[attack.assignment].full
    assert r["score"] == attack.honest(suite["backend"]), (lost(r), [c["message"] for c in r["checks"] if not c["passed"]])
    for exercise, outcome in attack.expected_lost(suite["backend"]).items():
        allowed = outcome if isinstance(outcome, tuple) else (outcome,)
        assert outcome_of(r, exercise) in allowed, [c for c in r["checks"] if c["exercise"] == exercise]


def test_forged_files_do_not_stand_and_stdout_stays_clean(suite):
    results_dir = suite["out"] / "results" / A
    for name in ("forges_result_files", "atexit_hook_rewrites", "detached_rewriter", "prints_fake_scores"):
        stored = json.loads((results_dir / f"{name}.json").read_text())
        assert stored["score"] == 0.0 and stored["sha256"] == suite["results"][name]["sha256"], name
    assert not (results_dir / "result.json").exists() or json.loads((results_dir / "result.json").read_text()).get(
        "sha256"), "a forged file in the results folder"
    assert "Score: 22/22" not in suite["stdout"] and "All tests passed" not in suite["stdout"]


def test_no_process_survives_the_batch(suite):
    """Counts only this suite's graders' processes and containers (others may run beside it)."""
    before = (suite["out"] / "results" / A / "detached_rewriter.json").read_text()
    time.sleep(0.5)
    assert (suite["out"] / "results" / A / "detached_rewriter.json").read_text() == before
    for pid in suite["pids"]:
        left = [cmd for cmd in processes_of_grader(pid) if b"autograder.sandbox" in cmd]
        assert not left, f"a sandbox process of grader {pid} outlived it: {left}"
        if suite["backend"] == "docker":
            import socket as _socket

            label = f"autograder.grader={_socket.gethostname()}:{pid}"
            containers = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"],
                                        capture_output=True, text=True).stdout.split()
            assert not containers, "a container outlived the grader"


def test_escapes_leave_nothing_on_the_host(suite):
    """The escape attacks' footprints: markers, connections, the victim, planted modules."""
    assert not suite["markers"], suite["markers"]
    assert suite["connections"] == 0, "a run reached a server on the host's loopback"
    assert suite["victim_alive"]
    left = os.stat(suite["facts"]["LEFT_IN_TMP"])
    assert oct(left.st_mode & 0o777) != "0o777" and left.st_size and left.st_mtime > 10**9
    assert not suite["mark"].exists(), "a planted module ran"
    import sqlite3

    db = sqlite3.connect(suite["out"] / "gradebook.sqlite")
    assert not db.execute("SELECT * FROM overrides").fetchall(), "a run wrote into the gradebook"
    for name in ("network_access", "searches_filesystem_for_solutions", "writes_outside_scratch_setuid_mount",
                 "reads_grader_files", "sees_host_processes", "tampers_with_the_grader",
                 "leaves_files_for_the_next_run", "uses_the_kernel_keyrings", "changes_file_metadata"):
        log = (suite["out"] / "logs" / A / f"{name}.log").read_text()
        assert "ESCAPED" not in log, (name, log[-2000:])


def test_no_payload_ran_on_the_host(suite):
    assert not suite["mark"].exists()
    r = suite["results"]["pickle_payload"]
    # Its forged observation is followed by the real one: it is never even decoded.
    assert "event channel" in " ".join(c["message"] for c in r["checks"] if c["exercise"] == "eager_linear")


def test_nothing_confidential_reaches_what_students_read(suite):
    out, log = suite["out"], (suite["out"] / "logs" / A / "smuggles_hidden_inputs.log").read_text()
    assert "ENVIRONMENT" in log and "PYTHONHASHSEED" in log  # the attack printed; the instructor log has it
    for template in STUDENT_FILES:
        text = (out / template.format(a=A, s="smuggles_hidden_inputs")).read_text()
        for needle in ("LEAK", "31337", "PYTHONHASHSEED", "2.25", "hello"):
            assert needle not in text, (template, needle)
    assert "SECRETS FOUND []" in (out / "logs" / A / "searches_memory_for_secrets.log").read_text()


def _student_files(suite, attack):
    name = safe_name(attack.student)
    return {t: (suite["out"] / t.format(a=attack.assignment, s=name)).read_text() for t in STUDENT_FILES}


def _hidden_only_numbers(assignment):
    """Numbers in hidden checks' inputs that no public check has."""
    def leaves(value):
        if isinstance(value, (list, tuple)):
            for v in value:
                yield from leaves(v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield value

    checks = COURSES[assignment].checks
    public = {float(x) for c in checks if not c.hidden for a in c.args for x in leaves(a)}
    hidden = {float(x) for c in checks if c.hidden for a in c.args for x in leaves(a)}
    return sorted(hidden - public - {0.0, 1.0, 2.0})


def test_no_student_visible_file_holds_a_mistake_source_or_a_hidden_input(suite):
    """Every student-visible file of the batch, scanned for each line of every known mistake's
    source and for every number that only hidden inputs have."""
    scanned = 0
    for attack in suite["attacks"]:
        mistakes = find_assignment(attack.assignment).checkset(hidden=True).mistakes
        lines = {line.strip() for m in mistakes for line in m.source.splitlines() if len(line.strip()) >= 24}
        # a failing public check shows its own inputs: a public -2.5 is not the hidden 2.5
        numbers = [re.compile(rf"(?<![\d.-]){re.escape(repr(x))}(?![\d])") for x in _hidden_only_numbers(attack.assignment)]
        for template, text in _student_files(suite, attack).items():
            # the scores are the grader's own numbers (one may equal a hidden input by chance)
            text = re.sub(r'"(score|max_score|points|max_points|final_score|counted_score|deduction)": -?[\d.]+', "", text)
            for line in lines:
                assert line not in text, (attack.name, template, line)
            for pattern in numbers:
                assert not pattern.search(text), (attack.name, template, pattern.pattern)
            scanned += 1
    assert scanned == 4 * len(suite["attacks"]) and lines and numbers


def test_instructor_data_never_enters_a_public_run(suite):
    log = (suite["out"] / "logs" / A / "reads_mistake_catalogue.log").read_text()
    assert "MISTAKES FOUND 0" in log and "MISTAKES FOUND 1" not in log
    r = suite["results"]["leaks_hidden_inputs_through_a_public_message"]
    public = [c for c in r["checks"] if c["exercise"] == "feed_placeholder" and not c["hidden"]]
    # No hidden input was there to find in the public run: its check passed there, and lost its points
    # only to its unpublished sibling (in the hidden run, where the attack did find inputs).
    assert public and all(c["passed"] or "matches the published example only" in c["message"] for c in public), \
        public
    for name in ("leaks_hidden_inputs_through_a_public_message", "signals_through_exception_classes",
                 "smuggles_hidden_inputs"):
        for c in suite["results"][name]["checks"]:
            if c["hidden"] and not c["passed"]:
                assert c["message"] == HIDDEN_MESSAGES[c["outcome"]].format(fn=f"`{c['exercise']}`"), c
                assert c["name"].startswith("hidden "), c


def test_event_channel_attacks_cost_only_their_check(suite):
    r = suite["results"]["resets_its_deadline"]
    lost_checks = [c for c in r["checks"] if c["exercise"] == "describe_tensor"]
    assert all(not c["passed"] and c["outcome"] == "error" for c in lost_checks)
    assert "event channel" in next(c["message"] for c in lost_checks if not c["hidden"])
    assert r["duration_s"] < 60, "re-announcing a check must not have bought it more time"
    for name in ("forged_huge_number", "forged_where_of_another_type", "forges_observation_then_returns",
                 "deeply_nested_event"):
        assert any("event channel" in c["message"] for c in suite["results"][name]["checks"]), name


def test_scratch_links_are_unlinked_never_followed(suite):
    canary = suite["mark"].parent / "canary" / "keep.txt"
    assert canary.read_text() == "the cleanup must never follow a link here"


def test_open_files_are_limited(suite):
    log = (suite["out"] / "logs" / A / "opens_20000_files.log").read_text()
    opened = [int(n) for n in re.findall(r"OPENED (\d+)", log)]
    assert opened and max(opened) < 5000, opened


def test_a_formula_shaped_student_id_is_text_in_every_csv(suite):
    attack = BY_NAME["formula_shaped_student_id"]
    for name in ("grades", "checks"):
        rows = list(csv.reader((suite["out"] / "exports" / f"{A}-{name}.csv").read_text().splitlines()))
        cells = [cell for row in rows for cell in row]
        assert f"'{attack.student}" in cells and attack.student not in cells
        assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_03_properties_come_from_the_models_not_from_the_students_process(suite):
    r = suite["results"]["lies_about_models"]
    messages = {c["exercise"]: c["message"] for c in r["checks"] if not c["passed"] and not c["hidden"]}
    assert "no trained Keras model was found" in messages["linear_vs_deep"]
    # judged from the recorded model and its optimizer (issue 28: a training check sees training)
    assert "no optimizer step changed the network's weights" in messages["train_mlp"]
    assert "ended the Python process" in messages["build_mlp"]


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


@pytest.mark.parametrize("attack", LAYOUT_ATTACKS, ids=lambda a: a.name)
def test_layout_attacks_get_their_honest_scores(attack, tmp_path, run_cli):
    """Ids come from the layout (the student's folder), never from a notebook's name."""
    import os

    from tests import nbfactory

    root = tmp_path / "submitted"
    for path, solved in attack.files.items():
        nbfactory.make(root / path, A, solved=solved)
    for path, target in attack.links.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).symlink_to(ROOT / "solutions" / A / f"{A}.ipynb" if target == "SOLUTION" else root / target)
    for path in attack.older:
        os.utime(root / path, (1_000_000, 1_000_000))
    proc = run_cli("grade", A, root, "--json", "--jobs", "2", "--out", tmp_path / "out", "--backend", "local")
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json_lines(proc.stdout)
    assert {s: (r["score"] if r["status"] == "graded" else None) for s, r in results.items()} == attack.honest
    if attack.name == "takes_another_students_grade":
        assert "alice.ipynb" in results["mallory"]["message"] and "ignored" in proc.stderr
    else:
        assert all("symbolic link" in results[s]["message"] for s, h in attack.honest.items() if h is None)
