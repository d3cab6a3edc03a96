"""Judging rules: tolerance, exact shapes, NaN, dtype, and messages."""

import numpy as np

from autograder.checks.judge import HIDDEN_MESSAGES, judge_check
from autograder.checks.plaindata import encode
from autograder.checks.rules import Close, Equal, number
from autograder.checks.spec import Check


def judge(rule, actual, expected, hidden=False):
    """The message a student sees: a rule's own, or the judge's fixed text for a hidden check."""
    if not hidden:
        return rule.judge({"v": actual}, {"v": expected})
    check = Check("f", "c", probe=lambda s: {}, rules=[rule], hidden=True)
    result = judge_check(check, {"status": "ok", "values": {"v": encode(actual)}},
                         {"status": "ok", "values": {"v": encode(expected)}})
    return None if result.passed else result.message


def test_within_tolerance_passes_and_outside_fails_with_errors_and_shapes():
    rule = Close("v", rtol=1e-5, atol=1e-6)
    assert judge(rule, np.array([1.0, 2.0 + 1e-6]), np.array([1.0, 2.0], np.float32)) is None
    msg = judge(rule, np.array([1.0, 2.5]), np.array([1.0, 2.0], np.float32))
    assert "max abs error 0.5" in msg and "max rel error 0.25" in msg
    assert "expected [1., 2.]" in msg and "got [1. , 2.5]" in msg and "shape (2,)" in msg


def test_wrong_shape_never_passes_by_broadcasting():
    rule = Close("v")
    msg = judge(rule, np.array([[7.5], [13.5]]), np.array([7.5, 13.5]))
    assert "expected shape (2,), got (2, 1)" in msg
    assert "expected shape (3,), got (1,)" in judge(rule, np.array([1.0]), np.ones(3))
    assert "expected shape (3,), got ()" in judge(rule, 1.0, np.ones(3))


def test_nan_where_a_number_is_expected_fails_and_matching_nan_passes():
    rule = Close("v")
    assert "NaN at 1 position" in judge(rule, np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    assert judge(rule, np.array([1.0, np.nan]), np.array([1.0, np.nan])) is None
    assert "where NaN is expected" in judge(rule, np.array([1.0, 0.0]), np.array([1.0, np.nan]))
    assert "infinities" in judge(rule, np.array([np.inf]), np.array([-np.inf]))


def test_scalar_accepts_any_single_number_and_dtype_is_checked_when_asked():
    assert judge(Close("v", scalar=True), np.array([7.5], np.float32), 7.5) is None
    assert judge(Close("v", scalar=True), np.array(7.5), 7.5) is None
    assert "single number" in judge(Close("v", scalar=True), np.ones(2), 7.5)
    assert "expected dtype float32, got float64" in judge(Close("v", dtype="float32"), np.ones(2), np.ones(2, np.float32))


def test_non_numbers_fail_clearly():
    assert "expected numbers" in judge(Close("v"), "7.5", 7.5)
    assert "expected numbers" in judge(Close("v"), None, 7.5)


def test_hidden_messages_do_not_quote_values():
    msg = judge(Close("v"), np.array([1.0, 2.5]), np.array([1.0, 123.0]), hidden=True)
    assert msg == HIDDEN_MESSAGES["wrong"].format(fn="`f`") and "123" not in msg and "expected [" not in msg
    msg = judge(Equal("v"), [1, 2], [1, 789], hidden=True)
    assert "wrong" in msg and "789" not in msg


def test_equal_treats_tuples_and_lists_alike():
    assert judge(Equal("v"), [None, 4], (None, 4)) is None
    assert "expected (4,), got (3,)" in judge(Equal("v"), (3,), (4,))


def test_number_helper():
    assert number(np.array([[2.0]])) == 2.0
    assert number(np.ones(2)) is None and number("x") is None


def test_same_shape_ignores_values():
    from autograder.checks.rules import SameShape

    assert judge(SameShape("v"), np.ones((2, 1)), np.zeros((2, 1))) is None
    assert "expected shape (2, 1), got (2,)" in judge(SameShape("v"), np.ones(2), np.zeros((2, 1)))
