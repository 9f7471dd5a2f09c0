"""The requirement coverage matrix: in the library, the CLI (`flowcase requirements`) and the HTML report."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from flowcase.cli import main
from flowcase.export import report_html
from flowcase.generate import generate
from flowcase.generate.requirements import requirement_matrix
from flowcase.model.io import load_path

MODEL = Path(__file__).parent / "data" / "generate" / "requirements.yaml"


def test_every_key_lists_its_decisions_and_tests_and_the_reason_when_nothing_covers_it() -> None:
    model = load_path(MODEL).model
    suite = generate(model)
    (test,) = suite.tests
    rows = {r.key: r for r in requirement_matrix(suite, model, expected=["REQ-9"])}
    assert list(rows) == ["REQ-1", "REQ-2", "REQ-3", "REQ-9"]
    assert (rows["REQ-2"].decisions, rows["REQ-2"].tests) == (("w/s#y", "w/n#ok"), (test.id,))
    assert rows["REQ-3"].tests == (test.id,) and rows["REQ-3"].reason is None
    assert rows["REQ-1"].tests == () and rows["REQ-1"].reason is not None
    assert rows["REQ-1"].reason.startswith("no test passes a decision linked to it: w/s#x (dead end: ")
    assert rows["REQ-9"].reason == "no decision of the model is linked to it"
    # the matrix agrees with the suite's own requirement items
    items = {c.ref: c.covered_by for c in suite.coverage if c.kind == "requirement"}
    assert items == {k: r.tests for k, r in rows.items() if k != "REQ-9"}


def test_cli_prints_the_matrix_and_strict_fails_on_uncovered(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["requirements", str(MODEL), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["requirement"] for r in data] == ["REQ-1", "REQ-2", "REQ-3"]
    assert "2 of 3 requirements covered" in result.stderr and "not covered: REQ-1" in result.stderr
    suite = tmp_path / "tests.json"
    assert CliRunner().invoke(main, ["generate", str(MODEL), "-o", str(suite)]).exit_code == 0
    strict = CliRunner().invoke(main, ["requirements", str(MODEL), "--tests", str(suite), "--strict"])
    assert strict.exit_code == 1 and "REQ-2\tTC-" in strict.stdout


def test_html_report_has_the_matrix() -> None:
    model = load_path(MODEL).model
    suite = generate(model)
    page = report_html.html(suite, model)
    assert '<tr data-requirement="REQ-1"><td>REQ-1</td><td><code>w/s#x</code></td><td><span class="bad">none: ' in page
    covered = f"<td>REQ-3</td><td><code>w/n#ok</code></td><td>{suite.tests[0].id}</td>"
    assert f'<tr data-requirement="REQ-3">{covered}' in page
    assert "Not covered by any test: REQ-1" in page
