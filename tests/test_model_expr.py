"""The condition and assignment language: parsing, evaluation, errors with columns."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowcase.model.expr import (
    EvalError,
    ExprError,
    evaluate,
    format_value,
    names,
    parse_assignments,
    parse_condition,
)

ENV = {"attempts": 2, "card": "visa", "locked": False, "amount": 150, "rate": 0.5}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("attempts < 3", True),
        ("attempts >= 3", False),
        ('card == "visa"', True),
        ("card == 'visa' and not locked", True),
        ("card = 'visa'", True),  # a single '=' reads as equality in conditions
        ("card != 'visa' or locked", False),
        ("card in ['visa', 'amex']", True),
        ("card not in ['visa', 'amex']", False),
        ("amount + 50 > 199", True),
        ("amount - 2 * 25 == 100", True),
        ("(amount - 2) * 25 == 3700", True),
        ("7 / 2 == 3 and -7 / 2 == -3", True),
        ("7 % 3 == 1", True),
        ("rate * 2 == 1.0", True),
        ("-attempts == -2", True),
        ("not not locked", False),
        ("locked && true || !locked", True),
        ("true", True),
        ("False", False),
        ("", True),
        ("   ", True),
        ('card + "!" == "visa!"', True),
        ('"a\\"b" == \'a"b\'', True),
    ],
)
def test_conditions_evaluate(source: str, expected: bool) -> None:
    assert evaluate(parse_condition(source), ENV) is expected


def test_precedence_and_binds_tighter_than_or() -> None:
    assert evaluate(parse_condition("true or false and false"), {}) is True
    assert evaluate(parse_condition("(true or false) and false"), {}) is False


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("attempts <", "expression ends too early", 11),
        ("attempts < 3 )", "unexpected ')'", 14),
        ("card == 'visa", "unterminated string", 9),
        ("a < b < c", "comparisons cannot be chained; use 'and'", 7),
        ("amount $ 3", "unexpected character '$'", 8),
        ("card in [1, 2", "expected ']' but found end of expression", 14),
    ],
)
def test_parse_errors_point_at_the_column(source: str, message: str, column: int) -> None:
    with pytest.raises(ExprError) as info:
        parse_condition(source)
    assert info.value.message == message
    assert info.value.column == column


def test_assignments_parse_in_order() -> None:
    parsed = parse_assignments("attempts = attempts + 1; locked = attempts >= 2;")
    assert [a.target for a in parsed] == ["attempts", "locked"]
    assert evaluate(parsed[0].expr, ENV) == 3
    assert evaluate(parsed[1].expr, ENV) is True


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("attempts + 1", "expected '=' but found '+'"),
        ("= 3", "expected a variable name but found '='"),
        ("a = 1; a = 2", "variable 'a' is assigned twice"),
    ],
)
def test_assignment_errors(source: str, message: str) -> None:
    with pytest.raises(ExprError, match=re.escape(message)):
        parse_assignments(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing == 1", "unknown name 'missing'"),
        ("card < 3", "'<' needs numbers"),
        ("attempts and locked", "expected true or false, got 2"),
        ("attempts / 0 == 1", "by zero"),
        ("card in 'visa'", "needs a list"),
    ],
)
def test_evaluation_errors_are_clear(source: str, message: str) -> None:
    with pytest.raises(EvalError, match=message):
        evaluate(parse_condition(source), ENV)


def test_never_uses_python_eval() -> None:
    # Python syntax that would be dangerous under eval() is simply not part of the language.
    for hostile in ("__import__('os').system('true')", "card.__class__", "[x for x in y]", "lambda: 1"):
        with pytest.raises((ExprError, EvalError)):
            evaluate(parse_condition(hostile), ENV)


def test_names_lists_every_read() -> None:
    expr = parse_condition("a < 1 and (b == 'x' or c in [d, 2])")
    assert [n.name for n in names(expr)] == ["a", "b", "c", "d"]


def test_booleans_are_not_numbers() -> None:
    assert evaluate(parse_condition("flag == 1"), {"flag": True}) is False


@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6).filter(lambda v: v != 0))
def test_integer_arithmetic_matches_truncating_division(a: int, b: int) -> None:
    env = {"a": a, "b": b}
    expected_quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b > 0) else -1)
    quotient = evaluate(parse_condition("a / b"), env)
    remainder = evaluate(parse_condition("a % b"), env)
    assert isinstance(quotient, int) and isinstance(remainder, int)
    assert quotient == expected_quotient
    assert quotient * b + remainder == a


@given(st.one_of(st.booleans(), st.integers(-1000, 1000), st.text(max_size=12)))
def test_format_value_round_trips_through_the_parser(value: bool | int | str) -> None:
    assert evaluate(parse_condition(format_value(value)), {}) == value
