"""Concrete data for a test: the first feasible values in domain order, or pairwise / n-wise variants."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

from flowcase.generate import assemble
from flowcase.generate.guards import Found, indices, lowest
from flowcase.generate.pairwise import covering_array, put_first
from flowcase.generate.suite import TestCase
from flowcase.generate.targets import in_focus
from flowcase.model.expr import Value
from flowcase.model.types import Parameter, Scalar

if TYPE_CHECKING:
    from flowcase.generate.engine import Context

MAX_VARIANT_CANDIDATES = 4096
VARIANT_EFFORT = 50_000  # per test: data variants stay quick


def first_data(ctx: Context, found: Found) -> dict[str, Scalar]:
    chosen = found.space.assignment(lowest(found.mask))
    return {p.name: chosen.get(p.name, p.values[0]) for p in ctx.model.parameters}


def variants(ctx: Context, found: Found, mode: str | None = None) -> tuple[dict[str, Scalar], ...]:
    """A covering array (strength 2 or n) over all parameters, limited to the values that keep the path feasible.

    When the path's conditions only narrow each parameter to some of its values (no condition ties two parameters
    together; the usual case, and always the case for parameters no condition reads), the array is built over
    the narrowed domains by the unconstrained constructions, which are far smaller than a constrained greedy
    (2^100: 10 rows). Only real constraints between parameters go to the constraint-aware greedy.
    """
    params = ctx.model.parameters
    if not params:
        return ()
    mode = mode or ctx.options.data
    strength = 2 if mode == "pairwise" else ctx.options.strength
    space = found.space
    allowed_rows = [space.rows[i] for i in indices(found.mask)][:MAX_VARIANT_CANDIDATES]
    relevant = {name: k for k, name in enumerate(space.params)}
    first = first_data(ctx, found)
    partial = space.truncated or found.mask.bit_count() > len(allowed_rows)
    domains = _narrowed(params, space.params, allowed_rows, partial)
    if domains is not None:
        return _unconstrained(params, domains, strength, first)
    value_masks: dict[tuple[int, int], int] = {}
    for col, p in enumerate(params):
        k = relevant.get(p.name)
        if k is None:
            continue
        for vi, value in enumerate(p.values):
            mask = 0
            for ri, row in enumerate(allowed_rows):
                if _same(row[k], value):
                    mask |= 1 << ri
            value_masks[(col, vi)] = mask
    everything = (1 << len(allowed_rows)) - 1

    def allowed(partial: dict[int, int]) -> bool:
        mask = everything
        for col, vi in partial.items():
            m = value_masks.get((col, vi))
            if m is not None:
                mask &= m
                if not mask:
                    return False
        return True

    seed = tuple(next(i for i, v in enumerate(p.values) if _same(v, first[p.name])) for p in params)
    rows = covering_array(
        [len(p.values) for p in params], min(strength, len(params)), allowed, seed=seed, effort=VARIANT_EFFORT
    )
    return tuple({p.name: p.values[r[c]] for c, p in enumerate(params)} for r in rows)


def _narrowed(
    params: tuple[Parameter, ...], read: tuple[str, ...], rows: list[tuple[Value, ...]], partial: bool
) -> list[list[Value]] | None:
    """Each parameter's allowed values when the allowed rows are exactly a product of per-parameter value sets
    (the conditions narrow parameters one by one); None when a condition ties parameters together or when only
    part of the candidates was enumerated (then nothing can be concluded)."""
    if partial:
        return None
    position = {name: k for k, name in enumerate(read)}
    allowed_sets = [{row[k] for row in rows} for k in range(len(read))]
    if math.prod(len(values) for values in allowed_sets) != len(rows):
        return None
    domains: list[list[Value]] = []
    for p in params:
        k = position.get(p.name)
        keep = p.values if k is None else [v for v in p.values if any(_same(v, a) for a in allowed_sets[k])]
        domains.append(list(keep))
    return domains


def _unconstrained(
    params: tuple[Parameter, ...], domains: list[list[Value]], strength: int, first: dict[str, Scalar]
) -> tuple[dict[str, Scalar], ...]:
    """The covering array of the free columns (two or more values) with the fixed ones filled in; ``first``
    (the test's own data) is its first row."""
    free = [c for c, values in enumerate(domains) if len(values) > 1]
    fixed = {params[c].name: domains[c][0] for c in range(len(params)) if len(domains[c]) == 1}
    if not free:
        return ({**first, **fixed},) if fixed or first else ()
    seed = tuple(next((i for i, v in enumerate(domains[c]) if _same(v, first[params[c].name])), 0) for c in free)
    sizes = tuple(len(domains[c]) for c in free)
    rows = put_first(list(_array(sizes, min(strength, len(free)))), seed, sizes)
    out = []
    for r in rows:
        row: dict[str, Scalar] = dict(fixed)
        row.update({params[c].name: domains[c][r[i]] for i, c in enumerate(free)})
        out.append({p.name: row[p.name] for p in params})
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _array(sizes: tuple[int, ...], strength: int) -> tuple[tuple[int, ...], ...]:
    """The library's covering array for these sizes (same rows as ``pairwise()``), computed once per suite
    shape: every test of a suite usually has the same free parameters, only its first row differs."""
    return tuple(tuple(r) for r in covering_array(list(sizes), strength))


def _same(a: Value, b: Value) -> bool:
    return type(a) is type(b) and a == b


def make_test(ctx: Context, found: Found, key: str | None = None) -> TestCase:
    """The test of a found walk; ``key`` is its :func:`assemble.path_key` when the caller has it already."""
    rows: tuple[dict[str, Scalar], ...] = ()
    if ctx.options.data != "one":
        rows = variants(ctx, found)
    elif (
        ctx.options.focus
        and ctx.options.focus_data != "one"
        and any(in_focus(ctx.graph.edges[e], ctx.options) for e in found.walk)
    ):  # risk-based strength: stronger data on the tests that pass a decision in focus
        rows = variants(ctx, found, ctx.options.focus_data)
    data = rows[0] if rows else first_data(ctx, found)
    return assemble.build_test(ctx.graph, found.walk, data, rows, key)
