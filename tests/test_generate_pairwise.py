"""Covering arrays: full coverage verified for every benchmark configuration, sizes near the known bounds."""

from __future__ import annotations

import itertools

import pytest

from flowcase.generate import pairwise
from flowcase.generate.pairwise import covering_array, lower_bound


def missing_tuples(sizes: list[int], rows: list[tuple[int, ...]], strength: int = 2) -> int:
    missing = 0
    for cols in itertools.combinations(range(len(sizes)), strength):
        seen = {tuple(r[c] for c in cols) for r in rows}
        missing += len(list(itertools.product(*(range(sizes[c]) for c in cols)))) - len(seen)
    return missing


# (sizes, most rows accepted): published best tools reach 9, 15, 29-41, 10, 180-231 (pairwise.org table)
CONFIGS = {
    "3^4": ([3] * 4, 9),
    "3^13": ([3] * 13, 16),
    "4^15 3^17 2^29": ([4] * 15 + [3] * 17 + [2] * 29, 35),
    "4^1 3^39 2^35": ([4] + [3] * 39 + [2] * 35, 25),
    "2^100": ([2] * 100, 10),
    "10^20": ([10] * 20, 195),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_benchmark_configurations_are_fully_covered(name: str) -> None:
    sizes, most = CONFIGS[name]
    rows = covering_array(sizes)
    assert missing_tuples(sizes, rows) == 0
    assert lower_bound(sizes) <= len(rows) <= most
    assert all(0 <= v < s for r in rows for v, s in zip(r, sizes, strict=True))


@pytest.mark.parametrize("q", [2, 3, 4, 5, 7, 8, 9])
def test_orthogonal_arrays_are_optimal_for_prime_powers(q: int) -> None:
    sizes = [q] * (q + 1)
    rows = covering_array(sizes)
    assert len(rows) == q * q
    assert missing_tuples(sizes, rows) == 0


@pytest.mark.parametrize(("k", "n"), [(3, 4), (4, 5), (10, 6), (15, 7), (35, 8), (126, 10)])
def test_binary_construction_meets_the_exact_bound(k: int, n: int) -> None:
    rows = covering_array([2] * k)
    assert len(rows) == n
    assert missing_tuples([2] * k, rows) == 0


def test_public_api_with_constraints_on_partial_rows() -> None:
    domains = {"os": ["linux", "mac", "win"], "browser": ["chrome", "safari", "edge"], "lang": ["en", "fr"]}

    def ok(row: dict[str, object]) -> bool:
        return not (row.get("os") == "linux" and row.get("browser") in ("safari", "edge")) and not (
            row.get("os") == "mac" and row.get("browser") == "edge"
        )

    rows = pairwise(domains, constraints=ok)
    assert all(ok(r) for r in rows)
    for a, b in itertools.combinations(domains, 2):
        wanted = {(x, y) for x in domains[a] for y in domains[b] if ok({a: x, b: y})}
        assert {(r[a], r[b]) for r in rows} == wanted
    assert rows == pairwise(domains, constraints=ok)


def test_strength_three_and_seeded_first_row() -> None:
    sizes = [3, 3, 2, 2, 3]
    rows = covering_array(sizes, strength=3, seed=(2, 1, 1, 0, 2))
    assert rows[0] == (2, 1, 1, 0, 2)
    assert missing_tuples(sizes, rows, 3) == 0
    seeded = covering_array([3] * 4, seed=(1, 2, 0, 1))
    assert seeded[0] == (1, 2, 0, 1) and len(seeded) == 9 and missing_tuples([3] * 4, seeded) == 0


def test_degenerate_inputs() -> None:
    assert covering_array([]) == [()]
    assert covering_array([4]) == [(0,), (1,), (2,), (3,)]
    assert len(covering_array([5, 1, 1])) == 5
    with pytest.raises(ValueError, match="at least one value"):
        pairwise({"x": []})
