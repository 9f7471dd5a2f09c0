"""Gherkin export: the official parser (gherkin-official) reads it; pickles match the tests and their variants."""

from __future__ import annotations

from typing import Any

import pytest
from gherkin.parser import Parser
from gherkin.pickles.compiler import Compiler
from gherkin.token_scanner import TokenScanner

from flowcase.export import export
from flowcase.export.common import one_line, visible_steps
from flowcase.export.gherkin import free_text
from flowcase.generate.suite import Suite
from test_export_samples import NASTY, sample_model, sample_suite


def parse(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The document and its pickles (one per scenario and Examples row), as Cucumber would run them."""
    document = Parser().parse(TokenScanner(text))
    document["uri"] = "suite.feature"
    return document, Compiler().compile(document)


def check_feature(text: str, suite: Suite) -> list[dict[str, Any]]:
    """Assertions that hold for every suite: one scenario per test, one pickle per variant, ids in the tags."""
    document, pickles = parse(text)
    children = document["feature"]["children"]
    assert len(children) == len(suite.tests)
    assert len(pickles) == sum(max(1, len(t.variants)) for t in suite.tests)
    for child, test in zip(children, suite.tests, strict=True):
        scenario = child["scenario"]
        assert f"@id:{test.id}" in [t["name"] for t in scenario["tags"]]
        assert scenario["keyword"] == ("Scenario Outline" if len(test.variants) > 1 else "Scenario")
        if len(test.variants) > 1:
            assert len(scenario["examples"][0]["tableBody"]) == len(test.variants)
    for pickle in pickles:
        for step in pickle["steps"]:
            assert "<" not in str(step.get("argument", "")), "an outline placeholder was left unreplaced"
    return pickles


def test_sample_feature_parses_with_outline_and_examples() -> None:
    suite, model = sample_suite(), sample_model()
    text = export(suite, "gherkin", model=model).text
    pickles = check_feature(text, suite)
    outline = [p for p in pickles if p["name"].startswith("TC-0a1b2c3d")]
    sizes = [p["steps"][0]["argument"]["dataTable"]["rows"][1]["cells"][1]["value"] for p in outline]
    assert sizes == ["S", "M", "L"]
    tags = {t["name"] for t in outline[0]["tags"]}
    assert {"@id:TC-0a1b2c3d", "@PICK-1", "@smoke", "@happy_path", "@priority:critical", "@model:parcel-pickup"} <= tags


def test_steps_are_when_then_in_path_order_with_the_sub_workflow_marked() -> None:
    suite, model = sample_suite(), sample_model()
    _, pickles = parse(export(suite, "gherkin", model=model).text)
    unpaid = next(p for p in pickles if p["name"].startswith("TC-4e5f6a7b"))
    texts = [(s["type"], s["text"]) for s in unpaid["steps"]]
    assert texts[0] == ("Context", "the test data:")
    assert texts[1:5] == [
        ("Action", "Type the 6-digit code from the SMS."),
        ("Outcome", "The locker door opens."),
        ("Action", "Look at the screen. [verify]"),
        ("Outcome", "Pay 2,50 € first"),
    ]
    assert texts[-1] == ("Outcome", 'the test ends at "refused"')


def test_hostile_text_survives_as_text() -> None:
    suite, model = sample_suite(), sample_model()
    text = export(suite, "gherkin", model=model).text
    document, pickles = parse(text)
    nasty = next(p for p in pickles if p["name"].startswith("TC-8c9d0e1f"))
    assert nasty["name"] == f"TC-8c9d0e1f {one_line(NASTY)}"
    assert one_line(NASTY) in [s["text"] for s in nasty["steps"]]
    # The model description line that starts with "Scenario:" stayed description, not a second scenario.
    assert "Scenario: a line that looks like Gherkin" in document["feature"]["description"]
    assert len(document["feature"]["children"]) == 3


@pytest.mark.parametrize("line", ["Given x", "Scenario: y", "@tag", "# c", "| a |", '"""', "Examples:", "* star"])
def test_description_lines_that_look_like_syntax_are_neutralised(line: str) -> None:
    feature = f"Feature: f\n  {free_text(line)}\n\n  Scenario: s\n    Given ok\n"
    _, pickles = parse(feature)
    assert len(pickles) == 1 and len(pickles[0]["steps"]) == 1


def test_a_test_without_data_is_a_plain_scenario_without_a_table() -> None:
    suite = sample_suite()
    bare = suite.tests[1].model_copy(update={"data": {}, "variants": ()})
    one = suite.model_copy(update={"tests": (bare,)})
    _, pickles = parse(export(one, "gherkin").text)
    assert len(pickles) == 1
    assert pickles[0]["steps"][0]["text"] == "Type the 6-digit code from the SMS."
    assert len([s for s in pickles[0]["steps"] if s["type"] == "Action"]) == len(visible_steps(bare))


def test_output_is_deterministic() -> None:
    assert export(sample_suite(), "gherkin").text == export(sample_suite(), "gherkin").text
