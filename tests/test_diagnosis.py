"""Naming a mistake from the numbers (autograder.checks.diagnosis through the rules): each kind of
realistic mistake, written as the value a student's function would return, gets a sentence
that names it; an unrelated wrong value, a passing value and a hidden check get none."""

import math

import numpy as np
import pytest

from autograder.checks.judge import HIDDEN_MESSAGES, judge_check
from autograder.checks.plaindata import encode
from autograder.checks.rules import Close, Equal
from autograder.checks.spec import Check

EXP = np.array([0.2, -1.5, 3.25, 0.8], dtype=np.float64)
PROBS = np.array([0.1, 0.75, 0.5, 0.9])


def public(rule, actual, expected):
    return rule.judge({rule.key: actual}, {rule.key: expected})


def hidden(rule, actual, expected):
    """The message of a hidden check: the judge's, whatever the rule says."""
    check = Check("f", "c", probe=lambda s: {}, rules=[rule], hidden=True)
    return judge_check(check, {"status": "ok", "values": {rule.key: encode(actual)}},
                       {"status": "ok", "values": {rule.key: encode(expected)}}).message


@pytest.mark.parametrize("actual, expected, words", [
    (-EXP, EXP, "is the negative of the expected value: a sign is flipped"),
    (1 - PROBS, PROBS, "sigmoid(-z) = 1 - sigmoid(z)"),
    (np.array(0.25), np.array(0.75), "an error rate where an accuracy is asked"),
    (np.array(75.0), np.array(0.75), "a percentage where a fraction is expected"),
    (np.array(-3.5), np.array(3.5), "is the negative of the expected value"),
    (np.array(3.5 / math.log(10)), np.array(3.5), "a base-10 logarithm"),
    (EXP / math.log(10), EXP, "a base-10 logarithm where the natural one is expected"),
    (EXP * 2, EXP, "exactly twice the expected value"),
    (EXP / 2, EXP, "exactly half the expected value"),
    (EXP / 4, EXP, "is exactly 1/4 of the expected value: a mean over 4 values where their sum is expected"),
    (EXP * 5, EXP, "is exactly 5 times the expected value: a sum where a mean over 5 values is expected"),
    (EXP * 0.3, EXP, "is the expected value times 0.3: one constant factor is off (a rate applied twice"),
    (EXP * 0.1, EXP, "is exactly 1/10 of the expected value"),
    (EXP + 1, EXP, "is the expected value plus 1 everywhere: a constant term is added or missing"),
    (np.round(np.array([0.123, 4.567]), 2), np.array([0.123, 4.567]), "rounded to 2 decimal(s)"),
    (np.array([1e-5, 0.3, 1 - 1e-5]), np.array([0.0, 0.3, 1.0]), "clipped away from 0 and 1 (an epsilon)"),
    (np.array([[1.0, 3.0], [2.0, 4.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]), "transposed"),
])
def test_an_exact_transform_of_the_expected_value_is_named(actual, expected, words):
    message = public(Close("v", rtol=1e-5, atol=1e-6), actual, expected)
    assert message is not None and "This value " in message and words in message, message


@pytest.mark.parametrize("actual, expected, words", [
    (EXP.reshape(4, 1), EXP, "as a column of shape (4, 1) where a vector of shape (4,) is expected: flatten it"),
    (EXP.reshape(1, 4), EXP, "as a row of shape (1, 4)"),
    (EXP, EXP.reshape(4, 1), "as a vector where a column of shape (4, 1) is expected"),
    (np.arange(6.0).reshape(2, 3).T, np.arange(6.0).reshape(2, 3), "transposed ((3, 2))"),
    (EXP[:-1], EXP, "the last step is missing (an off-by-one"),
    (EXP[1:], EXP, "the first value is missing"),
    (np.append(EXP, 9.0), EXP, "one step too many at the end"),
    (np.insert(EXP, 0, 9.0), EXP, "one value too many at the start"),
])
def test_a_wrong_shape_holding_the_expected_values_is_named(actual, expected, words):
    message = public(Close("v"), actual, expected)
    assert message.startswith("`v`: expected shape") and words in message, message


def test_nan_exactly_where_the_expected_value_is_zero_is_a_division_by_zero():
    a = np.array([-2.0, 0.0, 3.0])
    with np.errstate(invalid="ignore"):
        message = public(Close("v"), a / np.abs(a), np.sign(a))
    assert "NaN exactly where the expected value is 0: a division by zero" in message


def test_two_outputs_swapped_are_named():
    rule = Close("w", rtol=1e-5, atol=1e-6)
    message = rule.judge({"w": np.array([5.0, 6.0]), "b": np.array([1.0, 2.0])},
                         {"w": np.array([1.0, 2.0]), "b": np.array([5.0, 6.0])})
    assert "holds what `b` should hold: two outputs are swapped" in message


def test_values_where_a_shape_is_asked_and_parts_in_the_wrong_order():
    assert "holds values where their shape is asked" in public(Equal("s"), [[1, 2, 3], [4, 5, 6]], (2, 3))
    assert "the two parts in the opposite order" in public(Equal("s"), ("b", "a"), ("a", "b"))


@pytest.mark.parametrize("actual", [
    np.array([0.21, -1.4, 3.3, 0.7]),          # near, but no exact relation
    np.array([9.0, 1.0, -4.0, 2.0]),           # unrelated
    np.array([0.2, -1.5, 3.25, 0.0]),          # one value wrong
    EXP * np.array([2.0, 2.0, 2.0, 3.0]),      # almost a factor, not quite
    np.array(7.0),                             # a single number: 2 times 3.5, but no telling factor
])
def test_no_relation_no_diagnosis(actual):
    message = public(Close("v", rtol=1e-5, atol=1e-6), actual, EXP if actual.ndim else np.array(3.5))
    assert message is not None and "This value" not in message


def test_a_passing_value_and_a_hidden_check_are_never_diagnosed():
    rule = Close("v", rtol=1e-3, atol=1e-6)
    assert public(rule, EXP * (1 + 1e-5), EXP) is None   # within the tolerance: a valid answer
    message = hidden(rule, -EXP, EXP)
    assert message == HIDDEN_MESSAGES["wrong"].format(fn="`f`") and "This value" not in message
    assert "negative" not in message
    assert "This value" not in hidden(Close("v"), EXP.reshape(4, 1), EXP)


def test_the_finite_values_are_diagnosed_when_the_expected_ones_hold_nan():
    exp = np.array([1.3863, 2.1972, np.nan, -0.6931])
    with np.errstate(invalid="ignore"):
        message = public(Close("log", rtol=1e-5, atol=1e-6), exp / math.log(10), exp)
    assert "a base-10 logarithm" in message


def test_values_where_a_list_of_shapes_is_asked():
    message = public(Equal("shapes"), [(0, 1, 2, 3), (0,)], [(4,), (1,)])
    assert "holds values where their shape is asked" in message
    assert "This value" not in public(Equal("shapes"), [(3,), (1,)], [(4,), (1,)])
