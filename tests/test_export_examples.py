"""Every example model, generated (with data variants) and exported in every format; the real parsers accept them."""

from __future__ import annotations

import csv
import io
import json
import re
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowcase.cli import main
from flowcase.export import FORMATS, ExportOptions, export
from flowcase.generate import GenerateOptions, generate
from flowcase.generate.suite import Suite
from flowcase.model.io import load_path
from flowcase.model.types import Model
from test_export_automation import check_pytest, check_robot
from test_export_gherkin import check_feature
from test_export_jira_json import XRAY_SCHEMA, ZEPHYR_SCHEMA, validate

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


@cache
def generated(path: Path) -> tuple[Model, Suite]:
    model = load_path(path).model
    return model, generate(model, GenerateOptions(data="pairwise"))


@pytest.fixture(params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def example(request: pytest.FixtureRequest) -> tuple[Model, Suite]:
    return generated(request.param)


def test_there_are_examples_and_some_have_variants() -> None:
    assert len(EXAMPLES) >= 5
    assert any(len(t.variants) > 1 for p in EXAMPLES for t in generated(p)[1].tests)


def test_every_format_carries_every_stable_id(example: tuple[Model, Suite]) -> None:
    model, suite = example
    for fmt in FORMATS:
        text = export(suite, fmt, model=model, options=ExportOptions(project="DEMO")).text
        missing = [t.id for t in suite.tests if t.id not in text]
        assert not missing, f"{fmt} lacks {missing}"
        assert text == export(suite, fmt, model=model, options=ExportOptions(project="DEMO")).text


def test_gherkin(example: tuple[Model, Suite]) -> None:
    model, suite = example
    check_feature(export(suite, "gherkin", model=model).text, suite)


def test_csv_formats_read_back(example: tuple[Model, Suite]) -> None:
    _, suite = example
    for fmt, key in (("csv", "Test ID"), ("csv-xray", "Issue Id"), ("csv-testrail", "Automation ID")):
        rows = list(csv.DictReader(io.StringIO(export(suite, fmt).text, newline="")))
        ids = list(dict.fromkeys(r[key] for r in rows if r[key]))
        assert ids == [t.id for t in suite.tests], fmt


def test_xray_and_zephyr_json(example: tuple[Model, Suite]) -> None:
    _, suite = example
    options = ExportOptions(project="DEMO")
    validate(XRAY_SCHEMA, json.loads(export(suite, "xray", options=options).text))
    validate(ZEPHYR_SCHEMA, json.loads(export(suite, "zephyr", options=options).text))


def test_robot(example: tuple[Model, Suite], tmp_path: Path) -> None:
    _, suite = example
    check_robot(export(suite, "robot").text, suite, tmp_path)


def test_pytest(example: tuple[Model, Suite], tmp_path: Path) -> None:
    _, suite = example
    check_pytest(export(suite, "pytest").text, suite, tmp_path)


def test_reports(example: tuple[Model, Suite]) -> None:
    model, suite = example
    page = export(suite, "html", model=model).text
    assert not re.search(r"""(src|href)\s*=|<link|<script|url\((?!#)|https?://""", page)
    assert page.count('class="sel test"') == len(suite.tests)
    assert page.count('<svg class="diagram"') == len(model.workflows)
    markdown = export(suite, "markdown", model=model).text
    assert markdown.count("```mermaid") == len(model.workflows)
    assert json.loads(export(suite, "json").text) == json.loads(suite.model_dump_json())


def test_cli_exports_an_example_model_to_a_directory(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["export", str(EXAMPLES[0]), "--format", "json", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    suite_file = next(tmp_path.glob("*.suite.json"))
    no_model = runner.invoke(main, ["export", str(suite_file), "-f", "html"])
    assert no_model.exit_code == 1 and "needs the model" in no_model.output
    with_model = runner.invoke(
        main, ["export", str(suite_file), "-f", "html", "--model", str(EXAMPLES[0]), "-o", str(tmp_path / "r.html")]
    )
    assert with_model.exit_code == 0, with_model.output
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "flowcase-suite/1", "model": "m"}', encoding="utf-8")
    broken = runner.invoke(main, ["export", str(bad), "-f", "csv"])
    assert broken.exit_code == 1 and "not a valid flowcase-suite/1 file" in broken.output
    assert "Traceback" not in broken.output
