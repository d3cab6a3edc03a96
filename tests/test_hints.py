from autograder.hints import hint_for
from autograder.judge import judge_check
from autograder.spec import Check


def test_graph_session_mixup_is_named():
    msg = "Tensor Tensor(\"add:0\", shape=(), dtype=float32) is not an element of this graph."
    assert "graph/session mix-up" in hint_for("ValueError", msg)
    assert hint_for("ValueError", "something else entirely") is None


def test_hint_is_added_to_public_messages_only():
    """A hint is picked by the exception's message: for a hidden input, the student's code chose it."""
    obs = {"status": "error", "kind": "student", "exc_type": "RuntimeError",
           "message": "The Session graph is empty. secret-input-42"}
    public = judge_check(Check("evaluate", "x", probe=lambda s: {}), obs, {})
    assert "graph/session mix-up" in public.message and "secret-input-42" in public.message
    hidden = judge_check(Check("evaluate", "x", probe=lambda s: {}, hidden=True), obs, {})
    assert hidden.message == "`evaluate` raised an exception for a hidden input"
    assert not hidden.passed and hidden.outcome == "error"


def test_a_failing_answer_matching_a_known_mistake_gets_its_message():
    import numpy as np

    from autograder.judge import judge_all
    from autograder.plaindata import encode
    from autograder.rules import Close

    check = Check("eager_linear", "x", probe=lambda s: {}, rules=[Close("value", scalar=True)])
    obs = lambda v: {"status": "ok", "values": {"value": encode(v)}}  # noqa: E731
    refs = {"checks": {check.id: obs(7.5)},
            "mistakes": {"missing_bias": {"exercise": "eager_linear", "message": "the bias is missing",
                                          "checks": {check.id: obs(6.0)}}}}
    [wrong] = judge_all([check], {check.id: obs(np.float32(6.0))}, refs)
    assert not wrong.passed and wrong.message.startswith("`eager_linear`: Likely mistake: the bias is missing. ")
    [other] = judge_all([check], {check.id: obs(5.0)}, refs)
    assert not other.passed and "Likely mistake" not in other.message
    [right] = judge_all([check], {check.id: obs(7.5)}, refs)
    assert right.passed
