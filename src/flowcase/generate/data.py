"""Concrete data for a test: the first feasible values in domain order, or pairwise / n-wise variants."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowcase.generate import assemble
from flowcase.generate.guards import Found, indices, lowest
from flowcase.generate.pairwise import covering_array
from flowcase.generate.suite import TestCase
from flowcase.model.expr import Value
from flowcase.model.types import Scalar

if TYPE_CHECKING:
    from flowcase.generate.engine import Context

MAX_VARIANT_CANDIDATES = 4096
VARIANT_EFFORT = 50_000  # per test: data variants stay quick


def first_data(ctx: Context, found: Found) -> dict[str, Scalar]:
    chosen = found.space.assignment(lowest(found.mask))
    return {p.name: chosen.get(p.name, p.values[0]) for p in ctx.model.parameters}


def variants(ctx: Context, found: Found) -> tuple[dict[str, Scalar], ...]:
    """A covering array (strength 2 or n) over all parameters, limited to the values that keep the path feasible."""
    params = ctx.model.parameters
    if not params:
        return ()
    strength = 2 if ctx.options.data == "pairwise" else ctx.options.strength
    space = found.space
    allowed_rows = [space.rows[i] for i in indices(found.mask)][:MAX_VARIANT_CANDIDATES]
    relevant = {name: k for k, name in enumerate(space.params)}
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

    first = first_data(ctx, found)
    seed = tuple(next(i for i, v in enumerate(p.values) if _same(v, first[p.name])) for p in params)
    rows = covering_array(
        [len(p.values) for p in params], min(strength, len(params)), allowed, seed=seed, effort=VARIANT_EFFORT
    )
    return tuple({p.name: p.values[r[c]] for c, p in enumerate(params)} for r in rows)


def _same(a: Value, b: Value) -> bool:
    return type(a) is type(b) and a == b


def make_test(ctx: Context, found: Found) -> TestCase:
    rows: tuple[dict[str, Scalar], ...] = ()
    if ctx.options.data != "one":
        rows = variants(ctx, found)
    data = rows[0] if rows else first_data(ctx, found)
    return assemble.build_test(ctx.graph, found.walk, data, rows)
