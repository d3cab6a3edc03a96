from autograder.hints import hint_for
from autograder.judge import judge_check
from autograder.spec import Check


def test_graph_session_mixup_is_named():
    msg = "Tensor Tensor(\"add:0\", shape=(), dtype=float32) is not an element of this graph."
    assert "graph/session mix-up" in hint_for("ValueError", msg)
    assert hint_for("ValueError", "something else entirely") is None


def test_hint_is_added_to_public_and_hidden_messages_without_the_raw_hidden_message():
    check = Check("evaluate", "x", probe=lambda s: {}, hidden=True)
    obs = {"status": "error", "kind": "student", "exc_type": "RuntimeError",
           "message": "The Session graph is empty. secret-input-42"}
    result = judge_check(check, obs, {})
    assert "graph/session mix-up" in result.message and "secret-input-42" not in result.message
    assert not result.passed and result.outcome == "error"
