"""Pairwise data through a model (``generate --data pairwise``), checked by a plain pair checker written here:
unconstrained parameters get the library's constructions (2^100 -> 10 rows), conditions that narrow parameters one
by one get them over the narrowed domains, and real constraints between parameters the constraint-aware greedy;
every row keeps the test's path feasible (the condition is evaluated here with Python, not with our evaluator)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from flowcase.generate import GenerateOptions, generate
from flowcase.model.types import Model

Row = dict[str, Any]


def model(sizes: list[int], condition: str | None = None) -> Model:
    params = [{"name": f"p{i}", "values": list(range(n))} for i, n in enumerate(sizes)]
    decisions: list[dict[str, Any]] = [{"id": "1", "action": "go", "next": "end"}]
    if condition:
        decisions = [
            {"id": "1", "when": condition, "action": "go", "next": "end"},
            {"id": "2", "when": f"not ({condition})", "action": "other", "next": "end"},
        ]
    return Model.model_validate(
        {
            "id": "m",
            "name": "m",
            "parameters": params,
            "workflows": [
                {
                    "id": "main",
                    "nodes": [
                        {"id": "start", "kind": "start", "next": "a"},
                        {"id": "a", "kind": "step", "name": "A", "decisions": decisions},
                        {"id": "end", "kind": "end"},
                    ],
                }
            ],
        }
    )


def rows_of(m: Model, decision: str = "1") -> list[Row]:
    suite = generate(m, GenerateOptions(data="pairwise"))
    test = next(t for t in suite.tests if any(s.decision == decision for s in t.steps if s.node == "a"))
    assert test.variants and test.variants[0] == test.data
    return [dict(r) for r in test.variants]


def uncovered_pairs(rows: list[Row], sizes: list[int], allowed: Callable[[Row], bool]) -> list[tuple[Any, ...]]:
    """Every pair of values of two parameters that some allowed full row holds, and no generated row holds."""
    names = [f"p{i}" for i in range(len(sizes))]
    seen = {
        (a, rows_a, b, rows_b)
        for r in rows
        for (a, rows_a), (b, rows_b) in itertools.combinations(((n, r[n]) for n in names), 2)
    }
    missing = []
    for (i, a), (j, b) in itertools.combinations(enumerate(names), 2):
        for va, vb in itertools.product(range(sizes[i]), range(sizes[j])):
            if (a, va, b, vb) in seen:
                continue
            if _completable(sizes, allowed, {a: va, b: vb}):
                missing.append((a, va, b, vb))
    return missing


def _completable(sizes: list[int], allowed: Callable[[Row], bool], fixed: Row) -> bool:
    # the constraints below read p0..p3 only: the other parameters never decide
    head = [f"p{i}" for i in range(min(4, len(sizes)))]
    for values in itertools.product(*(range(sizes[i]) for i in range(len(head)))):
        row = dict(zip(head, values, strict=True))
        if all(row.get(k, v) == v for k, v in fixed.items() if k in row) and allowed({**row, **fixed}):
            return True
    return False


@pytest.mark.parametrize(
    ("label", "sizes", "at_most"),
    [
        ("2^100", [2] * 100, 10),
        ("3^4", [3] * 4, 9),
        ("10^10", [10] * 10, 120),
        ("4^15 3^17 2^29", [4] * 15 + [3] * 17 + [2] * 29, 33),
    ],
)
def test_unconstrained_parameters_get_the_library_constructions(label: str, sizes: list[int], at_most: int) -> None:
    rows = rows_of(model(sizes))
    assert len(rows) <= at_most, f"{label}: {len(rows)} rows"
    assert uncovered_pairs(rows, sizes, lambda _r: True) == []


CONSTRAINED = [
    # (flowcase condition, the same in Python, sizes, PICT 3.7.4 rows on the same input, measured by
    # benchmarks/pairwise_pict.py)
    ("not (p0 == 0 and p1 == 0)", lambda r: not (r["p0"] == 0 and r["p1"] == 0), [5] * 10, 45),
    ("p0 != p1", lambda r: r["p0"] != r["p1"], [4] * 8, 27),
    (
        "(p0 != 0 or p1 == 0) and (p2 != 1 or p3 != 1)",
        lambda r: (r["p0"] != 0 or r["p1"] == 0) and (r["p2"] != 1 or r["p3"] != 1),
        [3] * 10,
        18,
    ),
    ("p0 < p1", lambda r: r["p0"] < r["p1"], [6] * 6, 52),
]


@pytest.mark.parametrize(("condition", "holds", "sizes", "pict"), CONSTRAINED)
def test_constraints_between_parameters(
    condition: str, holds: Callable[[Row], bool], sizes: list[int], pict: int
) -> None:
    rows = rows_of(model(sizes, condition))
    assert all(holds(r) for r in rows)  # every variant keeps the path feasible
    assert uncovered_pairs(rows, sizes, holds) == []
    assert len(rows) <= pict, f"{len(rows)} rows, PICT {pict}"


def test_a_condition_that_narrows_one_parameter_keeps_the_construction() -> None:
    rows = rows_of(model([2] * 60, "p0 == 1 and p1 != 0"))
    assert all(r["p0"] == 1 and r["p1"] == 1 for r in rows)
    assert len(rows) <= 10  # 58 free two-valued parameters: the binary construction, not a greedy
    assert uncovered_pairs(rows, [2] * 60, lambda r: r["p0"] == 1 and r["p1"] == 1) == []
