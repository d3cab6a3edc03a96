"""End to end: a batch of submissions of 01_tf_basics through `autograder grade --json`.

One batch (graded once per test session, two jobs in parallel) holds the
solution, the stub, one submission per failure mode and the invalid files;
each test asserts on its part of the result.
"""

import json
import os
import re

import pytest

from tests import nbfactory
from tests.conftest import json_lines, processes_with

pytestmark = pytest.mark.slow

A = "01_tf_basics"
FULL = 22.0
POINTS = {"build_linear_graph": 3, "evaluate": 3, "variables_model": 3, "feed_placeholder": 3,
          "describe_tensor": 3, "unique_shapes": 2, "elementwise_ops": 3, "eager_linear": 2}
SOL = nbfactory.solution_answers(A)


def variant(fn: str, new_body: str) -> str:
    """The solution's answer for ``fn`` with a statement put before its body."""
    src = SOL[f"answer_{fn}"]
    head, _, rest = src.partition(":\n")
    return f"{head}:\n    {new_body}\n{rest}"


def replace_return(fn: str, old: str, new: str) -> str:
    src = SOL[f"answer_{fn}"]
    assert old in src
    return src.replace(old, new)


CHEAT_TOP = r"""
import builtins, json, os, sys
import numpy
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda *a, **k: True
builtins.AssertionError = type("AssertionError", (Exception,), {})
fake = {"student": "cheater", "assignment": "01_tf_basics", "status": "graded", "score": 22.0, "max_score": 22.0}
for d in (os.getcwd(), os.path.expanduser("~"), "/tmp", os.environ.get("TMPDIR", "/tmp"), OUT_RESULTS):
    try:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "cheater.json"), "w") as fh:
            json.dump(fake, fh)
    except OSError:
        pass
print(json.dumps(fake))
sys.stdout.write("Score: 22/22\n")
"""

DAEMON = r"""
import os, subprocess
subprocess.Popen(["sleep", "987654"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "987655"])
    os._exit(0)
"""


ENV_PROBE = r"""
import json, os
print("ENV_REPORT " + json.dumps({"pid": os.getpid(), "env": sorted(os.environ), "cwd": os.getcwd(),
                                  "home": os.environ.get("HOME")}))
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory, run_cli):
    subs = tmp_path_factory.mktemp("subs")
    out = tmp_path_factory.mktemp("out")
    make = lambda name, **kw: nbfactory.make(subs / f"{name}.ipynb", A, **kw)  # noqa: E731
    make("solution")
    make("stub", solved=False)
    make("wrong_evaluate", answers={"evaluate": replace_return("evaluate", "sess.run(tensor)", "sess.run(tensor) + 1")})
    make("raises_feed", answers={"feed_placeholder": variant("feed_placeholder", "raise ValueError('boom')")})
    make("loops_variables", answers={"variables_model": variant("variables_model", "while True: pass")})
    make("exits_describe", answers={"describe_tensor": variant("describe_tensor", "import os; os._exit(3)")})
    make("sysexit_unique", answers={"unique_shapes": variant("unique_shapes", "import sys; sys.exit(0)")})
    make("segfault_eager", answers={"eager_linear": variant("eager_linear", "import ctypes; ctypes.string_at(0)")})
    make("kills_self_ops", answers={"elementwise_ops": variant("elementwise_ops",
                                                               "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")})
    make("kills_parent", answers={"eager_linear": variant(
        "eager_linear", "import os, signal, time; os.kill(os.getppid(), signal.SIGKILL); time.sleep(1000)")})
    make("memory_bomb", answers={"build_linear_graph": variant("build_linear_graph", "_x = bytearray(64 * 2**30)")})
    make("within_tolerance", answers={"eager_linear": replace_return("eager_linear", "float(y.numpy())",
                                                                     "float(y.numpy()) + 1e-7")})
    make("wrong_shape", answers={"feed_placeholder": replace_return(
        "feed_placeholder", "return sess.run(", "return sess.run(").replace(
        "np.float32).reshape(-1)})", "np.float32).reshape(-1)}).reshape(-1, 1)")})
    make("nan_answer", answers={"eager_linear": replace_return("eager_linear", "float(y.numpy())", "float('nan')")})
    make("tensor_answer", answers={"eager_linear": replace_return("eager_linear", "float(y.numpy())", "y")})
    make("hangs_at_top", extra=[(None, "while True:\n    pass")])
    make("exits_at_top", extra=[("answer_evaluate", "import os\nos._exit(0)")])
    make("daemon", extra=[("setup", DAEMON)])
    make("probe_env", extra=[("setup", ENV_PROBE)])
    make("cheater", solved=False,
         extra=[(None, CHEAT_TOP.replace("OUT_RESULTS", repr(str(out / "results" / A)))),
                ("answer_eager_linear", "import sys\nsys.exit(0)")])
    (subs / "empty.ipynb").write_bytes(b"")
    (subs / "not_json.ipynb").write_text("this is not a notebook")
    (subs / "nbformat3.ipynb").write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                                      "worksheets": []}))

    def drop_answer(nb):
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "answer_unique_shapes"]

    make("deleted_answer", edit=drop_answer)
    make("other_assignment", edit=lambda nb: nb.metadata.update(autograder={"assignment": "02_linear_classifier"}))

    proc = run_cli("grade", A, subs, "--json", "--jobs", "2", "--out", out, "--check-timeout", "8",
                   "--cell-timeout", "8", "--backend", "local")
    return {"proc": proc, "results": json_lines(proc.stdout), "out": out, "subs": subs}


def exercise_points(result: dict) -> dict:
    pts: dict = {}
    for c in result["checks"]:
        pts[c["exercise"]] = pts.get(c["exercise"], 0) + c["points"]
    return pts


def messages(result: dict, exercise: str) -> str:
    return " | ".join(c["message"] for c in result["checks"] if c["exercise"] == exercise)


def test_exit_status_and_one_clean_json_line_per_submission(batch):
    proc, results = batch["proc"], batch["results"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(results) == len(list(batch["subs"].glob("*.ipynb")))
    keys = {"student", "assignment", "submission", "sha256", "status", "message", "score", "max_score",
            "checks", "backend", "device", "duration_s"}
    for r in results.values():
        assert keys <= set(r), r
        for c in r["checks"]:
            assert {"id", "exercise", "points", "max_points", "passed", "hidden", "message"} <= set(c)
    assert results["solution"]["backend"] == "local" and results["solution"]["device"] == "cpu"


def test_solution_gets_full_marks(batch):
    r = batch["results"]["solution"]
    assert r["status"] == "graded" and r["score"] == r["max_score"] == FULL, r


def test_stub_gets_zero_with_not_implemented_per_exercise(batch):
    r = batch["results"]["stub"]
    assert r["status"] == "graded" and r["score"] == 0 and r["max_score"] == FULL
    for exercise in POINTS:
        assert "is not implemented yet" in messages(r, exercise)


@pytest.mark.parametrize("student, exercise, words", [
    ("wrong_evaluate", "evaluate", "outside the allowed error"),
    ("raises_feed", "feed_placeholder", "raised ValueError: boom"),
    ("loops_variables", "variables_model", "did not finish within the time limit"),
    ("exits_describe", "describe_tensor", "ended the Python process"),
    ("sysexit_unique", "unique_shapes", "raised SystemExit"),
    ("segfault_eager", "eager_linear", "ended the Python process"),
    ("kills_self_ops", "elementwise_ops", "killed by signal 9"),
    ("kills_parent", "eager_linear", "`eager_linear`"),
    ("memory_bomb", "build_linear_graph", "MemoryError"),
    ("wrong_shape", "feed_placeholder", "expected shape (4,), got (4, 1)"),
    ("nan_answer", "eager_linear", "NaN"),
])
def test_one_bad_exercise_loses_exactly_its_points(batch, student, exercise, words):
    r = batch["results"][student]
    assert r["status"] == "graded", r
    pts = exercise_points(r)
    assert pts[exercise] == 0, messages(r, exercise)
    assert r["score"] == FULL - POINTS[exercise], {e: p for e, p in pts.items() if p != POINTS[e]}
    assert words in messages(r, exercise)


def test_outside_tolerance_message_gives_errors_shapes_and_values(batch):
    msg = messages(batch["results"]["wrong_evaluate"], "evaluate")
    assert re.search(r"max abs error 1\b", msg) and "max rel error" in msg
    assert "expected 13. with shape ()" in msg and "got 14." in msg


def test_a_known_mistake_is_named(batch):
    msg = messages(batch["results"]["wrong_shape"], "feed_placeholder")
    assert "Likely mistake: the result has shape [n, 1]" in msg


def test_within_tolerance_and_tensor_answers_pass(batch):
    for student in ("within_tolerance", "tensor_answer"):
        assert batch["results"][student]["score"] == FULL, batch["results"][student]


def test_a_hanging_or_exiting_top_level_cell_costs_nothing_else(batch):
    for student in ("hangs_at_top", "exits_at_top"):
        assert batch["results"][student]["score"] == FULL, batch["results"][student]
    log = (batch["out"] / "logs" / A / "hangs_at_top.log").read_text()
    assert "extra cell 1 (extra): timeout" in log


def test_hidden_check_messages_do_not_leak_inputs(batch):
    r = batch["results"]["raises_feed"]
    hidden = [c for c in r["checks"] if c["hidden"] and c["exercise"] == "feed_placeholder"]
    assert hidden and all("boom" not in c["message"] and "-1.5" not in c["message"] for c in hidden)


def test_cheating_gets_no_points_and_forged_files_are_overwritten(batch):
    r = batch["results"]["cheater"]
    assert r["status"] == "graded" and r["score"] == 0, r
    stored = json.loads((batch["out"] / "results" / A / "cheater.json").read_text())
    assert stored["score"] == 0 and stored["sha256"] == r["sha256"]
    assert "Score: 22/22" not in batch["proc"].stdout


def test_no_student_process_survives_the_batch(batch):
    alive = processes_with(b"98765")
    assert batch["results"]["daemon"]["score"] == FULL
    assert not alive


@pytest.mark.parametrize("student, words", [
    ("empty", "the file is empty"),
    ("not_json", "invalid JSON"),
    ("nbformat3", "nbformat 3 is not supported"),
    ("deleted_answer", "'answer_unique_shapes' missing"),
    ("other_assignment", "notebook of assignment '02_linear_classifier'"),
])
def test_invalid_input_is_reported_and_the_rest_is_graded(batch, student, words):
    r = batch["results"][student]
    assert r["status"] == "invalid" and words in r["message"] and "\n" not in r["message"]
    assert batch["results"]["solution"]["score"] == FULL


def test_rerun_reuses_unchanged_results_unless_forced(batch, run_cli):
    subs, out = batch["subs"], batch["out"]
    proc = run_cli("grade", A, subs / "solution.ipynb", subs / "stub.ipynb", "--json", "--out", out)
    again = json_lines(proc.stdout)
    assert proc.returncode == 0
    assert again["solution"].get("reused") and again["stub"].get("reused")
    assert again["solution"]["score"] == FULL
    proc = run_cli("grade", A, subs / "stub.ipynb", "--json", "--out", out, "--force")
    forced = json_lines(proc.stdout)["stub"]
    assert not forced.get("reused")
    # Grading twice gives identical results.
    strip = lambda r: [(c["id"], c["points"], c["message"]) for c in r["checks"]]  # noqa: E731
    assert strip(forced) == strip(batch["results"]["stub"])


def test_student_code_runs_in_its_own_process_with_a_scrubbed_env_and_scratch_dir(batch):
    log = (batch["out"] / "logs" / A / "probe_env.log").read_text()
    report = json.loads(log.split("ENV_REPORT ", 1)[1].splitlines()[0])
    assert report["pid"] != os.getpid()
    assert report["cwd"] == report["home"] and "autograder-" in report["cwd"]
    assert not os.path.exists(report["cwd"]), "scratch space must be wiped after the run"
    # Nothing of the grader's environment leaks in (the grader itself runs with
    # AUTOGRADER_CACHE set, which tells where reference values live).
    leaked = (set(report["env"]) & (set(os.environ) | {"AUTOGRADER_CACHE"})) - {
        "PATH", "HOME", "TMPDIR", "LANG", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONNOUSERSITE",
        "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND", "USER",
        "LOGNAME"}  # set by the sandbox
    assert not leaked, leaked
    assert batch["results"]["probe_env"]["score"] == FULL
