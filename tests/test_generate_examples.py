"""Every bundled example: the suites are feasible and byte-identical across runs; the all-decisions suite (and
any suite of a condition-free example) has exactly as many tests as the lower bound it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowcase.generate import GenerateOptions, generate
from flowcase.generate.assemble import check_feasible
from flowcase.generate.engine import walk_of
from flowcase.generate.graph import flatten
from flowcase.model.io import load_path

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("criterion", ["all-decisions", "all-steps"])
def test_example_suites_are_feasible_and_minimal(path: Path, criterion: str) -> None:
    model = load_path(path).model
    suite = generate(model, GenerateOptions(criterion=criterion))  # type: ignore[arg-type]
    guarded = any(d.when.strip() for w in model.workflows for _, d in w.edges())
    assert suite.lower_bound is not None
    if not guarded or criterion == "all-decisions":  # the bar: every example reaches its printed bound
        assert suite.optimal and len(suite.tests) == suite.lower_bound
    assert len(suite.tests) >= suite.lower_bound
    graph = flatten(model)
    for test in suite.tests:
        assert check_feasible(model, graph, walk_of(graph, test), test.data) is None
    again = generate(model, GenerateOptions(criterion=criterion))  # type: ignore[arg-type]
    assert again.model_dump_json() == suite.model_dump_json()


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 3
