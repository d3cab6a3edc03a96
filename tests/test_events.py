"""The event channel read as an adversary writes it: bounded, linear, in one order only.

Fast: the grader's reader is fed through a pipe; no sandbox, no TensorFlow.
"""

import json
import os
import threading
import time

import pytest

from autograder.sandbox.base import Job, RunRecord
from autograder.sandbox.events import (CellRecord, Fault, LineReader, Malformed, Observation, Schedule, StepStatus,
                                       Violation, cell_record, observation, parse)
from autograder.sandbox.process import ProcessSandbox, Started
from autograder.checks.spec import Limits


def line(event: dict) -> bytes:
    return ("\n" + json.dumps(event) + "\n").encode()


def test_line_reader_is_linear_and_bounded():
    reader = LineReader(max_line=1000)
    started = time.process_time()
    assert reader.feed(b"\n" * 2**20) == []            # a flood of newlines: nothing to parse
    assert reader.feed(b"x\n" * 2**19) == [b"x"] * 2**19
    assert time.process_time() - started < 1.0
    assert reader.feed(b"a" * 600) == [] and not reader.overflow
    assert reader.feed(b"b" * 600) == [] and reader.overflow   # an unterminated line past the bound
    reader = LineReader(max_line=10)
    assert reader.feed(b"ok\n" + b"y" * 50 + b"\nok2\n") == [b"ok", b"<oversized line>", b"ok2"]


@pytest.mark.parametrize("raw", [b"[" * 200000 + b"]" * 200000, b"not json", b"[1, 2]", b'"text"', b"{",
                                 b'{"ev": "check_end", "values": [' + b"[]," * 1_000_001 + b"[]]}"])
def test_parse_rejects_what_is_not_an_event_object(raw):
    with pytest.raises(Malformed):
        parse(raw)


def test_schedule_accepts_one_order_only():
    steps = [("cell", 0), ("cell", 2), ("check", "f.a"), ("check", "f.b")]
    s = Schedule(steps)
    with pytest.raises(Violation) as exc:
        s.take({"ev": "cell_start", "i": 0})
    assert exc.value.blame is None  # before ready: no student code has run yet
    s = Schedule(steps)
    assert s.take({"ev": "ready"}) == ("ready",)
    assert s.take({"ev": "cell_start", "i": 0}) == ("start", ("cell", 0))
    with pytest.raises(Violation) as exc:
        s.take({"ev": "ready"})   # a second ready
    assert exc.value.blame == ("cell", 0)


@pytest.mark.parametrize("event, blame", [
    ({"ev": "check_start", "id": "f.a"}, ("check", "f.a")),           # re-sent to reset its deadline
    ({"ev": "check_end", "id": "f.b"}, ("check", "f.a")),             # the end of another check
    ({"ev": "done"}, ("check", "f.a")),                                # done in the middle of a check
    ({"ev": "cell_end", "i": True}, ("check", "f.a")),
])
def test_out_of_order_events_are_charged_to_the_check_in_progress(event, blame):
    s = Schedule([("check", "f.a"), ("check", "f.b")])
    s.take({"ev": "ready"})
    s.take({"ev": "check_start", "id": "f.a"})
    with pytest.raises(Violation) as exc:
        s.take(event)
    assert exc.value.blame == blame


def test_a_duplicate_end_is_charged_to_the_check_it_repeats():
    """A forged check_end, then the real one: the check that ended is the one that fails."""
    s = Schedule([("check", "f.a"), ("check", "f.b")])
    s.take({"ev": "ready"})
    s.take({"ev": "check_start", "id": "f.a"})
    assert s.take({"ev": "check_end", "id": "f.a"}) == ("end", ("check", "f.a"), False)
    with pytest.raises(Violation) as exc:
        s.take({"ev": "check_end", "id": "f.a"})
    assert exc.value.blame == ("check", "f.a")


def test_garbage_taints_the_step_in_progress_only():
    s = Schedule([("check", "f.a"), ("check", "f.b")])
    s.take({"ev": "ready"})
    s.take({"ev": "check_start", "id": "f.a"})
    s.taint()
    assert s.take({"ev": "check_end", "id": "f.a"}) == ("end", ("check", "f.a"), True)
    s.take({"ev": "check_start", "id": "f.b"})
    assert s.take({"ev": "check_end", "id": "f.b"}) == ("end", ("check", "f.b"), False)
    assert s.take({"ev": "done"}) == ("done",)


@pytest.mark.parametrize("event", [
    {"status": "ok", "values": [1]}, {"status": "ok"}, {"status": "weird"},
    {"status": "error", "kind": "made_up"}, {"status": "error"},
])
def test_observations_of_the_wrong_shape_are_malformed(event):
    assert observation(event) == Observation(StepStatus.ERROR, kind=Fault.MALFORMED)


def test_observation_fields_get_their_types_and_bounds():
    obs = observation({"status": "error", "kind": "student", "exc_type": {"x": 1}, "message": "m" * 10**6,
                       "where": {"line": 1}, "function": 3, "extra": "dropped"})
    assert obs == Observation(StepStatus.ERROR, kind=Fault.STUDENT, exc_type="", message="m" * 500, where=[],
                              function="", origin="")
    assert observation({"status": "error", "kind": "student", "where": ["a", 1, "b" * 999]}).where == ["a", "b" * 200]
    assert cell_record({"status": "ok", "where": "x"}) == CellRecord(StepStatus.OK, exc_type="", message="", where=[])


class _Reader(ProcessSandbox):
    name = "test"


def _read(payload: bytes, checks=("f.a",), cells=(0,)):
    """What the grader records of a run whose worker wrote ``payload``; and the grader's CPU time."""
    job = Job("t", [(i, "") for i in cells], [], list(checks), {c: "f" for c in checks},
              limits=Limits(check_timeout_s=5, cell_timeout_s=5))
    r, w = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(w, payload) if len(payload) < 65536 else
                                              [os.write(w, payload[i:i + 65536]) for i in range(0, len(payload), 65536)],
                                              os.close(w)))
    writer.start()
    record = RunRecord()
    steps = [("cell", i) for i in cells] + [("check", c) for c in checks]
    cpu = time.process_time()
    outcome = _Reader()._read_events(job, Started(None, r, None, "token"), record, time.monotonic() + 30,
                                     Schedule(steps))
    cpu = time.process_time() - cpu
    writer.join()
    os.close(r)
    return record, outcome, cpu


RUN = [{"ev": "ready"}, {"ev": "cell_start", "i": 0}, {"ev": "cell_end", "i": 0, "status": "ok"},
       {"ev": "check_start", "id": "f.a"}]
END = [{"ev": "check_end", "id": "f.a", "status": "ok", "values": {}}, {"ev": "done"}]


def test_a_newline_flood_costs_the_grader_well_under_a_second():
    """The red team's 1 MiB of newlines took 174 s of grader CPU with the old reader."""
    payload = b"".join(map(line, RUN)) + b"\n" * 2**20 + b"".join(map(line, END))
    record, outcome, cpu = _read(payload)
    assert outcome.finished and record.observations == {"f.a": Observation(StepStatus.OK, {})}
    assert cpu < 1.0, cpu
    # A violation per line costs more (each is decoded and recorded): 1.6 s of CPU on a slow
    # 2-core machine. The bound still tells a linear reader from the old quadratic one (174 s).
    payload = b"".join(map(line, RUN)) + b"garbage\n" * 2**17 + b"".join(map(line, END))
    record, outcome, cpu = _read(payload)
    assert record.observations["f.a"].kind == "protocol" and cpu < 5.0, cpu


def test_grader_error_triggers_become_a_failed_check():
    nested = b"\n" + b"[" * 200000 + b"]" * 200000 + b"\n"
    record, outcome, _ = _read(b"".join(map(line, RUN)) + nested + b"".join(map(line, END)))
    assert outcome.finished and record.observations["f.a"].kind == "protocol"
    forged = {"ev": "check_end", "id": "f.a", "status": "error", "kind": "student", "where": {"a": 1}}
    record, outcome, _ = _read(b"".join(map(line, RUN + [forged])))   # then the process is gone
    assert record.observations["f.a"].where == [] and not outcome.finished


def test_a_re_sent_start_ends_the_check_at_once():
    record, outcome, _ = _read(b"".join(map(line, RUN + [{"ev": "check_start", "id": "f.a"}])))
    assert outcome.reason == "protocol" and outcome.where == ("check", "f.a")


def test_the_real_end_of_a_check_whose_end_was_forged_fails_it_even_later():
    """Forged end of f.a and start of f.b; then f.a's real end arrives: both checks fail."""
    s = Schedule([("check", "f.a"), ("check", "f.b")])
    s.take({"ev": "ready"})
    s.take({"ev": "check_start", "id": "f.a"})
    s.take({"ev": "check_end", "id": "f.a"})
    s.take({"ev": "check_start", "id": "f.b"})
    with pytest.raises(Violation) as exc:
        s.take({"ev": "check_end", "id": "f.a"})
    assert exc.value.blame == ("check", "f.b") and exc.value.also == ("check", "f.a")


def test_a_process_dying_between_two_steps_is_charged_to_the_step_that_ended():
    forged_end = {"ev": "check_end", "id": "f.a", "status": "ok", "values": {}}
    record, outcome, _ = _read(b"".join(map(line, RUN + [forged_end])), checks=("f.a", "f.b"))
    assert outcome.where == ("check", "f.a") and not outcome.finished


def test_the_judge_never_computes_a_value_far_larger_than_its_artefact():
    """A 3-node graph of an [n,1] and a [1,n] constant describes an n*n result; a Dense layer of a
    million units a [300, 1e6] one: both are refused before anything is computed."""
    import numpy as np

    from autograder.checks.artefacts import ArtefactError, evaluate_graph, predict

    n = 45_000
    graph = {"target": "mul:0", "nodes": [
        {"name": "x", "op": "Const", "inputs": [], "dtype": "float32", "value": np.ones((n, 1), np.float32)},
        {"name": "w", "op": "Const", "inputs": [], "dtype": "float32", "value": np.ones((1, n), np.float32)},
        {"name": "mul", "op": "Mul", "inputs": ["x", "w"], "dtype": "float32"}]}
    with pytest.raises(ArtefactError, match="far larger"):
        evaluate_graph(graph)
    model = {"layers": [{"kind": "Dense", "units": 10**6, "use_bias": False, "activation": "relu",
                         "weights": [np.zeros((2, 10**6), np.float32)]}]}
    with pytest.raises(ArtefactError, match="far larger"):
        predict(model, np.zeros((300, 2)))
