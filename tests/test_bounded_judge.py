"""The judge's work on one submission is bounded, whatever the recorded artefacts (issue 28).

The attacks are built directly as the plain data a sandbox would send (``plaindata.encode``
of a graph or model description), so these tests need no TensorFlow. Each one cost the
grader minutes of CPU or gigabytes of memory before the bounds (see the report of issue
28); here each check's judging must stay under ``CPU_S`` seconds of CPU and ``MEMORY``
bytes of Python-allocated memory (numpy's arrays included), and fail with a clear message.
"""

from __future__ import annotations

import json
import time
import tracemalloc

import numpy as np
import pytest

from autograder.checks import artefacts
from autograder.assignments.course import find_assignment
from autograder.checks.judge import judge_all, judge_check
from autograder.checks.plaindata import encode

CPU_S = 10.0           # the bound stated in the docs, per submission
MEMORY = 1 << 30       # 1 GB


def _checks(name: str) -> tuple[dict, dict]:
    assignment = find_assignment(name)
    checks = {c.id: c for c in assignment.checkset(False).checks}
    reference = json.loads(assignment.public_reference.read_text())
    return checks, reference


def _measured(fn):
    """(result, CPU seconds, peak bytes) of fn()."""
    tracemalloc.start()
    cpu = time.process_time()
    try:
        result = fn()
        return result, time.process_time() - cpu, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _graph_observation(reference: dict, nodes: list[dict], target: str) -> dict:
    values = dict(reference["values"])
    values["graph"] = encode({"target": target, "nodes": nodes})
    return {"status": "ok", "values": values}


def _const(name: str, value: np.ndarray) -> dict:
    return {"name": name, "op": "Const", "inputs": [], "dtype": value.dtype.name, "value": value}


def _judged_graph(nodes: list[dict], target: str):
    checks, reference = _checks("01_tf_basics")
    cid = "build_linear_graph.lecture_example"
    obs = _graph_observation(reference["checks"][cid], nodes, target)
    return _measured(lambda: judge_check(checks[cid], obs, reference["checks"][cid]))


def test_a_graph_of_a_hundred_large_products_stops_at_the_work_budget():
    # 98 nodes: add_n over 95 products of [1000, 200] x [200, 1000] int64 matrices (80 s before).
    a = np.ones((1000, 200), dtype=np.int64)
    nodes = [_const("a", a), _const("b", a.T.copy())]
    nodes += [{"name": f"p{i}", "op": "MatMul", "inputs": ["a", "b"], "dtype": "int64"} for i in range(95)]
    nodes.append({"name": "y", "op": "AddN", "inputs": [f"p{i}" for i in range(95)], "dtype": "int64"})
    result, cpu, peak = _judged_graph(nodes, "y:0")
    assert not result.passed and result.outcome == "error"
    assert "more computation than the exercise ever does" in result.message
    assert cpu < CPU_S and peak < MEMORY, (cpu, peak)


@pytest.mark.parametrize("n", [300, 9000])
def test_a_graph_of_more_nodes_than_the_sandbox_records_is_rejected_at_once(n):
    # n distinct 1000 x 1000 float64 values: 2.4 GB kept at n = 300 before, ~70 GB at 9,000.
    nodes = [_const("a", np.ones((1000, 1000)))]
    nodes += [{"name": f"m{i}", "op": "Mul", "inputs": ["a", "a"], "dtype": "float64"} for i in range(n - 2)]
    nodes.append({"name": "y", "op": "AddN", "inputs": [f"m{i}" for i in range(n - 2)], "dtype": "float64"})
    result, cpu, peak = _judged_graph(nodes, "y:0")
    assert not result.passed
    assert f"more than {artefacts.MAX_NODES} operations" in result.message
    assert cpu < CPU_S and peak < MEMORY, (cpu, peak)


def test_a_graph_of_many_large_live_values_is_stopped_by_the_memory_cap():
    # Within the node cap: 98 distinct 1M-element values all read by one add_n (800 MB before).
    nodes = [_const("a", np.ones((1000, 1000)))]
    nodes += [{"name": f"m{i}", "op": "Mul", "inputs": ["a", "a"], "dtype": "float64"} for i in range(98)]
    nodes.append({"name": "y", "op": "AddN", "inputs": [f"m{i}" for i in range(98)], "dtype": "float64"})
    result, cpu, peak = _judged_graph(nodes, "y:0")
    assert not result.passed
    assert "far larger than the exercise needs at once" in result.message
    assert cpu < CPU_S and peak < 300 * 2**20, (cpu, peak)


def test_a_long_chain_frees_each_value_after_its_last_reader():
    # 99 nodes in a chain of 1M-element values: each is dropped once read, so it evaluates.
    a = np.full((1000, 1000), 1.0)
    nodes = [_const("n0", a)]
    nodes += [{"name": f"n{i}", "op": "Identity", "inputs": [f"n{i - 1}"], "dtype": "float64"} for i in range(1, 99)]
    value, dtype, ops = _measured(lambda: artefacts.evaluate_graph({"target": "n98:0", "nodes": nodes}))[0]
    assert value.shape == (1000, 1000) and dtype == "float64" and ops == {"Const", "Identity"}


def _model_observation(reference: dict, layers: list[dict]) -> dict:
    values = dict(reference["values"])
    values["first"] = encode({"layers": layers, "loss": "binary_crossentropy", "compiled": True})
    return {"status": "ok", "values": values}


def _wide_model(activations: int) -> list[dict]:
    # PROBE_POINTS has 10 rows: a Dense layer of 100,000 units gives 1M values.
    return ([{"kind": "InputLayer"},
             {"kind": "Dense", "units": 100_000, "use_bias": False, "activation": "linear",
              "weights": [np.ones((2, 100_000), dtype=np.float32)]}]
            + [{"kind": "Activation", "activation": "tanh"}] * activations)


def test_a_model_of_thousands_of_activation_layers_is_rejected_at_once():
    # ~10,000 activation layers over 1M values: 6 min 13 s of grader CPU before.
    checks, reference = _checks("03_deep_network")
    cid = "build_mlp.one_hidden_layer"
    obs = _model_observation(reference["checks"][cid], _wide_model(9_990))
    result, cpu, peak = _measured(lambda: judge_check(checks[cid], obs, reference["checks"][cid]))
    assert not result.passed
    assert f"more than {artefacts.MAX_LAYERS} layers" in result.message
    assert cpu < CPU_S and peak < MEMORY, (cpu, peak)


def test_a_model_within_the_layer_cap_stays_within_the_budget():
    checks, reference = _checks("03_deep_network")
    cid = "build_mlp.one_hidden_layer"
    obs = _model_observation(reference["checks"][cid], _wide_model(artefacts.MAX_LAYERS - 2))
    result, cpu, peak = _measured(lambda: judge_check(checks[cid], obs, reference["checks"][cid]))
    assert not result.passed
    assert cpu < CPU_S and peak < MEMORY, (cpu, peak)


def test_the_work_budget_fails_the_check_even_where_derive_catches_the_error():
    # linear_vs_deep's derive skips models it cannot measure: a thousand of them must not cost
    # a thousand measures, and the check says why it failed.
    checks, reference = _checks("03_deep_network")
    cid = "linear_vs_deep.ring"
    model = {"layers": [{"kind": "InputLayer"},
                        {"kind": "Dense", "units": 1000, "use_bias": False, "activation": "relu",
                         "weights": [np.ones((2, 1000), dtype=np.float32)]},
                        {"kind": "Dense", "units": 1, "use_bias": False, "activation": "sigmoid",
                         "weights": [np.ones((1000, 1), dtype=np.float32)]}],
             "loss": "binary_crossentropy", "compiled": True}
    values = dict(reference["checks"][cid]["values"])
    values["models"] = encode([model] * 1000)
    obs = {"status": "ok", "values": values}
    result, cpu, peak = _measured(lambda: judge_check(checks[cid], obs, reference["checks"][cid]))
    assert not result.passed and "more computation than the exercise ever does" in result.message
    assert cpu < CPU_S and peak < MEMORY, (cpu, peak)


def test_one_check_out_of_budget_costs_only_that_check():
    checks, reference = _checks("01_tf_basics")
    a = np.ones((1000, 200), dtype=np.int64)
    nodes = [_const("a", a), _const("b", a.T.copy())]
    nodes += [{"name": f"p{i}", "op": "MatMul", "inputs": ["a", "b"], "dtype": "int64"} for i in range(3)]
    nodes.append({"name": "y", "op": "AddN", "inputs": ["p0", "p1", "p2"], "dtype": "int64"})
    cid = "build_linear_graph.lecture_example"
    observations = {c: dict(reference["checks"][c]) for c in reference["checks"]}
    observations[cid] = _graph_observation(reference["checks"][cid], nodes, "y:0")
    refs = {"checks": reference["checks"], "mistakes": reference.get("mistakes", {})}
    results = {r.id: r for r in judge_all(list(checks.values()), observations, refs)}
    assert not results[cid].passed
    assert all(r.passed for r in results.values() if r.id != cid)


def test_the_exercises_artefacts_are_far_inside_the_budget():
    f32 = np.float32
    graph = {"target": "add:0", "nodes": [
        _const("x", np.array(1.0, f32)), _const("w", np.array(6.0, f32)), _const("b", np.array(1.5, f32)),
        {"name": "mul", "op": "Mul", "inputs": ["x", "w"], "dtype": "float32"},
        {"name": "add", "op": "AddV2", "inputs": ["mul", "b"], "dtype": "float32"}]}
    with artefacts.work_budget() as budget:
        value, dtype, ops = artefacts.evaluate_graph(graph)
    assert (float(value), dtype, ops) == (7.5, "float32", {"Const", "Mul", "AddV2"})
    assert budget.limit - budget.left < 100
    rng = np.random.default_rng(0)
    dense = [{"kind": "Dense", "units": n, "use_bias": True, "activation": act,
              "weights": [rng.normal(size=(m, n)).astype(f32), np.zeros(n, f32)]}
             for m, n, act in ((2, 16, "relu"), (16, 16, "relu"), (16, 1, "sigmoid"))]
    with artefacts.work_budget() as budget:
        p = artefacts.predict({"layers": [{"kind": "InputLayer"}, *dense]}, rng.normal(size=(1000, 2)))
    assert p.shape == (1000,) and ((p >= 0) & (p <= 1)).all()
    assert budget.limit - budget.left < budget.limit / 100, budget.limit - budget.left


def _attack(reference: dict, derive) -> dict:
    """The costliest artefacts the tests above send, under the names ``derive`` reads."""
    values = dict(reference["values"])
    keys = {"graph_values": ["graph"], "mlp_values": ["first", "again", "other"], "training_values": ["model"],
            "comparison_values": ["models"]}[derive.__name__]
    if "graph" in keys:
        nodes = [_const("a", np.ones((1000, 1000)))]
        nodes += [{"name": f"m{i}", "op": "Mul", "inputs": ["a", "a"], "dtype": "float64"} for i in range(98)]
        nodes.append({"name": "y", "op": "AddN", "inputs": [f"m{i}" for i in range(98)], "dtype": "float64"})
        values["graph"] = encode({"target": "y:0", "nodes": nodes})
    for key in ("first", "again", "other", "model"):  # past the layer cap, and the most within it
        if key in keys:
            layers = _wide_model(9_990 if key == "first" else artefacts.MAX_LAYERS - 2)
            values[key] = encode({"layers": layers, "loss": "mse", "compiled": True})
    if "models" in keys:
        wide = {"layers": [{"kind": "Dense", "units": 1000, "use_bias": False, "activation": "relu",
                            "weights": [np.ones((2, 1000), dtype=np.float32)]},
                           {"kind": "Dense", "units": 1, "use_bias": False, "activation": "sigmoid",
                            "weights": [np.ones((1000, 1), dtype=np.float32)]}]}
        values["models"] = encode([wide] * 1000)
    return {"status": "ok", "values": values}


@pytest.mark.parametrize("name", ["01_tf_basics", "03_deep_network"])
def test_a_submission_attacking_every_artefact_check_costs_the_judge_less_than_the_bound(name):
    """Every check that evaluates artefacts, hidden ones too, gets the costliest artefacts:
    the whole submission's judging stays under CPU_S seconds of CPU and MEMORY bytes."""
    assignment = find_assignment(name)
    checks = assignment.checkset(True).checks
    public = json.loads(assignment.public_reference.read_text())["checks"]
    # A hidden check's reference: the public one of its exercise that derives the same way
    # (what matters here is the cost of the student's side).
    by_derive = {c.derive: public[c.id] for c in checks if c.id in public and c.derive is not None}
    refs = {"checks": {}, "mistakes": {}}
    observations = {}
    for c in checks:
        reference = public.get(c.id) or (by_derive.get(c.derive) if c.derive is not None else None)
        if reference is None:
            continue
        refs["checks"][c.id] = reference
        observations[c.id] = _attack(reference, c.derive) if c.derive is not None else reference
    judged = [c for c in checks if c.id in refs["checks"]]
    assert sum(c.derive is not None for c in judged) >= 3
    results, cpu, peak = _measured(lambda: judge_all(judged, observations, refs))
    print(f"{name}: {sum(c.derive is not None for c in judged)} artefact checks judged in {cpu:.2f} s CPU, "
          f"peak {peak / 2**20:.0f} MB")
    derived = {c.id for c in judged if c.derive is not None}
    assert all(not r.passed for r in results if r.id in derived), results
    assert cpu < CPU_S and peak < MEMORY, (cpu, peak)


def test_an_observation_of_many_small_arrays_is_rejected_before_they_are_all_parsed():
    # Each array costs a parse whatever its size: 10,000 of them in one value, or spread
    # over many values, are refused past MAX_ARRAYS per observation.
    from autograder.checks.judge import decode_values
    from autograder.checks.plaindata import MAX_ARRAYS, DecodeError

    tiny = encode(np.zeros(1))
    for values in ({"x": {"t": "list", "items": [tiny] * 10_000}},
                   {f"x{i}": {"t": "list", "items": [tiny] * 1_000} for i in range(10)}):
        with pytest.raises(DecodeError, match=f"more than {MAX_ARRAYS} arrays"):
            _measured(lambda: decode_values({"values": values}))
    assert len(decode_values({"values": {"x": {"t": "list", "items": [tiny] * MAX_ARRAYS}}})["x"]) == MAX_ARRAYS
