"""Maintenance: regenerate with as little churn as possible, and classify tests between two model versions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from flowcase.generate.cover import lower_bound
from flowcase.generate.engine import Context, PathGone, cover_targets, finish, generate, walk_of
from flowcase.generate.guards import Found
from flowcase.generate.options import GenerateOptions
from flowcase.generate.suite import Suite, TestCase
from flowcase.generate.targets import targets
from flowcase.model.types import Model


def still_valid(ctx: Context, test: TestCase) -> Found | None:
    """The test's path in the (new) model, when every step still exists, connects, and can be fed data."""
    try:
        walk = walk_of(ctx.graph, test)
    except PathGone:
        return None
    return ctx.feasible(walk)


def regenerate(model: Model, options: GenerateOptions | None, previous: Suite) -> Suite:
    """Like :func:`generate`, but keeps the previous tests that are still valid and still add coverage."""
    options = options or GenerateOptions.from_suite_options(previous.criterion, previous.options)
    if options.criterion in ("all-paths", "purposes"):
        return generate(model, options)  # ids come from paths: unchanged paths keep their ids anyway
    pins = [t for t in previous.tests if t.pinned]
    if pins:
        return generate(model, options, pins=pins)
    ctx = Context.create(model, options)
    kept = [f for f in (still_valid(ctx, t) for t in previous.tests) if f is not None]
    found, reasons, wanted = cover_targets(ctx, targets(ctx.graph, options), previous=kept)
    covered = [t for t in wanted if t.ref not in reasons]
    bound = lower_bound(ctx.graph, covered)
    if len(found) > bound:
        ctx.notes.append(f"kept previous tests to limit churn: {len(found)} tests where {bound} would suffice")
    return finish(ctx, found, reasons, bound, wanted)


class Diff(BaseModel):
    """Tests classified between a previous suite and the suite regenerated for the new model."""

    model_config = ConfigDict(frozen=True)

    unchanged: tuple[str, ...]
    updated: tuple[str, ...]
    new: tuple[str, ...]
    obsolete: tuple[str, ...]
    changes: dict[str, tuple[str, ...]]
    suite: Suite


def diff(
    old_model: Model, new_model: Model, previous: Suite | None = None, options: GenerateOptions | None = None
) -> Diff:
    """Classify tests as unchanged, updated (same path, other texts or data), new or obsolete."""
    if previous is None:
        previous = generate(old_model, options)
    options = options or GenerateOptions.from_suite_options(previous.criterion, previous.options)
    suite = regenerate(new_model, options, previous)
    before = {t.id: t for t in previous.tests}
    after = {t.id: t for t in suite.tests}
    unchanged, updated, changes = [], [], {}
    for test_id, test in after.items():
        old = before.get(test_id)
        if old is None:
            continue
        fields = tuple(f for f in TestCase.model_fields if getattr(old, f) != getattr(test, f))
        if fields:
            updated.append(test_id)
            changes[test_id] = fields
        else:
            unchanged.append(test_id)
    return Diff(
        unchanged=tuple(unchanged),
        updated=tuple(updated),
        new=tuple(i for i in after if i not in before),
        obsolete=tuple(i for i in before if i not in after),
        changes=changes,
        suite=suite,
    )
