"""Pure parts of publishing: the planned issues (fields, labels, hash) and their ADF descriptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import all_decisions
from flowcase.generate import Suite
from flowcase.jira.adf import describe_test
from flowcase.jira.publish import LABEL, model_label, plan
from flowcase.jira.settings_store import PublishSettings
from flowcase.model.io import load_path
from flowcase.model.types import Model
from flowcase.sandbox.adf import plain_text, validate_adf

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "checkout.yaml"


@pytest.fixture(scope="module")
def suite_and_model() -> tuple[Model, Suite]:
    model = load_path(EXAMPLE).model
    return model, all_decisions(model)


@pytest.mark.parametrize("style", ["steps-table", "gherkin", "bullets"])
def test_every_description_is_valid_adf_with_the_steps(suite_and_model: tuple[Model, Suite], style: str) -> None:
    _, suite = suite_and_model
    for test in suite.tests:
        doc = describe_test(test, style)
        validate_adf(doc)  # the sandbox's validator: what Jira refuses, it refuses
        body = plain_text(doc)
        for step in test.steps:
            if step.expected:
                assert step.expected in body
        assert test.id in body


def test_the_steps_table_has_one_row_per_step(suite_and_model: tuple[Model, Suite]) -> None:
    _, suite = suite_and_model
    test = suite.tests[0]
    tables = [n for n in describe_test(test)["content"] if n["type"] == "table"]
    table = tables[-1]  # the test data table comes first when the test has data
    # one row per step a tester performs: the start node is routing, not an (empty) step
    assert len(table["content"]) == len(test.test_steps()) + 1
    assert [c["content"][0]["content"][0]["text"] for c in table["content"][0]["content"]] == [
        "#",
        "Action",
        "Condition",
        "Expected result",
    ]


def test_plan_labels_summary_and_stable_hashes(suite_and_model: tuple[Model, Suite]) -> None:
    model, suite = suite_and_model
    settings = PublishSettings(labels=("qa",))
    first = plan(model, suite, "DEMO", settings)
    again = plan(model, suite, "DEMO", settings)
    assert [p.hash for p in first] == [p.hash for p in again]
    assert len({p.hash for p in first}) == len(first)
    assert first[0].fields["labels"] == sorted({LABEL, "flowcase-m-checkout", "qa"})
    assert first[0].fields["summary"] == suite.tests[0].name[:255]
    assert all(p.fields["issuetype"] == {"name": "Test"} for p in first)
    assert any(p.requirements for p in first) and all(r.startswith("DEMO-") for p in first for r in p.requirements)
    restyled = plan(model, suite, "DEMO", PublishSettings(labels=("qa",), output_style="gherkin"))
    assert all(a.hash != b.hash for a, b in zip(first, restyled, strict=True))  # a style change republishes


def test_model_label_is_a_valid_jira_label() -> None:
    assert model_label("checkout") == "flowcase-m-checkout"
    assert " " not in model_label("a b") and len(model_label("x" * 400)) == 255


def test_very_long_tests_are_cut_to_fit_a_jira_description(suite_and_model: tuple[Model, Suite]) -> None:
    _, suite = suite_and_model
    test = suite.tests[0]
    step = test.steps[-1].model_copy(update={"expected": "x" * 900})
    long_test = test.model_copy(update={"steps": tuple(step for _ in range(200))})
    doc = describe_test(long_test)
    validate_adf(doc)
    body = plain_text(doc)
    assert 20_000 < len(body) <= 30_000
    assert "more step(s): too long for a Jira description" in body
    assert plain_text(describe_test(test)).count("too long") == 0
