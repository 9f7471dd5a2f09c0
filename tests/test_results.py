"""Execution results back onto the design (issue 20): Xray JSON, JUnit XML and Cucumber JSON mapped to the
generated tests by test id, issue key or name; pass/fail/not run per test; a heat map per diagram element; the
``flowcase results`` command and the HTML report. The Xray reader reads only fields of Xray's own results format
(the vendored types, tests/data/vendor)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowcase.cli import main
from flowcase.export.results import ResultsError, heat, load
from flowcase.generate import GenerateOptions, generate
from flowcase.generate.suite import Suite
from flowcase.model.io import load_path
from flowcase.model.types import Model

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "checkout.yaml"
XRAY_TYPES = ROOT / "tests" / "data" / "vendor" / "xray-json-execution-results.types.xray-client-node.ts"


@pytest.fixture(scope="module")
def design() -> tuple[Model, Suite]:
    model = load_path(str(EXAMPLE)).model
    return model, generate(model, GenerateOptions())


def junit(suite: Suite) -> bytes:
    t = suite.tests
    cases = [
        f'<testcase classname="tests.test_checkout" name="test_{t[0].id.lower().replace("-", "_")}_ok"/>',
        f'<testcase classname="tests.test_checkout" name="test_{t[1].id.lower().replace("-", "_")}_x">'
        '<failure message="AssertionError: total is 0&#10;more">trace</failure></testcase>',
        f'<testcase classname="Checkout" name="{t[2].id} {t[2].name}"><skipped/></testcase>',
        '<testcase classname="other" name="test_something_else"/>',
    ]
    return (
        '<?xml version="1.0"?><testsuites><testsuite name="s">' + "".join(cases) + "</testsuite></testsuites>"
    ).encode()


def test_junit_results_map_by_test_id(design: tuple[Model, Suite]) -> None:
    _, suite = design
    results = load(suite, [("junit.xml", junit(suite))])
    t = suite.tests
    assert results.tests[t[0].id] == "passed" and results.tests[t[1].id] == "failed"
    assert results.tests[t[2].id] == "not-run" and all(results.tests[x.id] == "not-run" for x in t[3:])
    assert results.messages[t[1].id] == "AssertionError: total is 0"
    assert results.unmatched == ["test_something_else"] and results.matched == 3


def test_cucumber_and_xray_and_worst_status_wins(design: tuple[Model, Suite]) -> None:
    _, suite = design
    t = suite.tests
    cucumber = [
        {
            "name": "Checkout",
            "elements": [
                {
                    "type": "scenario",
                    "name": f"{t[0].id} {t[0].name}",
                    "tags": [{"name": f"@id:{t[0].id}"}],
                    "steps": [
                        {"result": {"status": "passed"}},
                        {"result": {"status": "failed", "error_message": "boom\nx"}},
                    ],
                },
                {"type": "scenario", "name": t[1].name, "steps": [{"result": {"status": "passed"}}]},  # by name
                {"type": "scenario", "name": "Unknown", "steps": [{"result": {"status": "undefined"}}]},
            ],
        }
    ]
    xray = {
        "testExecutionKey": "DEMO-99",
        "tests": [
            {"testKey": "DEMO-7", "status": "PASSED"},
            {"testKey": "DEMO-8", "status": "TODO"},
            {"testKey": "DEMO-9", "status": "FAILED", "comment": "card declined"},
            {
                "testInfo": {
                    "summary": "Anything",
                    "projectKey": "DEMO",
                    "type": "Manual",
                    "labels": [f"flowcase-id:{t[3].id}"],
                },
                "status": "PASSED",
            },
        ],
    }
    keys = {t[0].id: "DEMO-7", t[1].id: "DEMO-8", t[2].id: "DEMO-9"}
    results = load(suite, [("c.json", json.dumps(cucumber).encode()), ("x.json", json.dumps(xray).encode())], keys)
    assert results.tests[t[0].id] == "failed"  # failed in Cucumber, passed in Xray: failed
    assert results.messages[t[0].id] == "boom"
    assert results.tests[t[1].id] == "passed"  # passed once, not run once
    assert results.tests[t[2].id] == "failed" and results.messages[t[2].id] == "card declined"
    assert results.tests[t[3].id] == "passed"  # the id in the Test's labels
    assert results.unmatched == ["Unknown"]


def test_heat_per_element_counts_the_tests_through_it(design: tuple[Model, Suite]) -> None:
    model, suite = design
    results = load(suite, [("junit.xml", junit(suite))])
    elements = heat(model, suite, results)
    start = f"{model.main.id}/{model.main.start.id}"
    assert elements[start].failed == 1 and elements[start].passed == 1 and elements[start].level == "mixed"
    assert sum(elements[start].as_json()[k] for k in ("passed", "failed", "notRun")) == len(suite.tests)
    failing_only = [r for r, h in elements.items() if h.level == "fail"]
    assert failing_only  # the behaviour only the failing test exercises (among the tests that ran)
    failed_test, passed_test = suite.tests[1], suite.tests[0]
    on_failed = {f"{s.workflow}/{s.node}" for s in failed_test.steps} | {f"{model.main.id}/{failed_test.end}"}
    on_passed = {f"{s.workflow}/{s.node}" for s in passed_test.steps} | {f"{model.main.id}/{passed_test.end}"}
    assert {r for r in failing_only if "#" not in r} <= on_failed - on_passed


def test_unreadable_files_are_clear_errors(design: tuple[Model, Suite]) -> None:
    _, suite = design
    for name, data, message in [
        ("a.txt", b"hello", "not a results file"),
        ("b.xml", b"<x/>", "not JUnit XML"),
        ("c.json", b"{]", "not valid JSON"),
        ("d.json", b'{"tests": 3}', "'tests' list"),
        ("e.xml", b'<!DOCTYPE x [<!ENTITY a "b">]><testsuite>&a;</testsuite>', "e.xml: not valid JUnit XML"),
    ]:
        with pytest.raises(ResultsError, match=re.escape(message)):
            load(suite, [(name, data)])


def test_the_xray_reader_reads_only_fields_of_xrays_results_format() -> None:
    """Every field the reader uses is declared in Xray's JSON results types (vendored)."""
    text = XRAY_TYPES.read_text(encoding="utf-8")

    def fields(interface: str) -> set[str]:
        body = re.search(rf"export interface {interface} (?:extends \w+ )?\{{(.*?)^\}}", text, re.S | re.M)
        assert body, interface
        return set(re.findall(r"^  (\w+)\??:", body.group(1), re.M))

    assert {"tests", "testExecutionKey"} <= fields("TestExecutionResults")
    assert {"testKey", "status", "testInfo", "comment"} <= fields("Test")
    assert {"summary", "definition", "labels", "projectKey"} <= fields("TestInfo")
    source = (ROOT / "src" / "flowcase" / "export" / "results.py").read_text(encoding="utf-8")
    xray_part = source[source.index("def _xray(") : source.index("# -- mapping")]
    used = (
        set(re.findall(r'(?:test|info|data)(?:\.get\()?\["?"?(\w+)"', xray_part))
        | set(re.findall(r'\.get\("(\w+)"\)', xray_part))
        | set(re.findall(r"for k in \(([^)]*)\)", xray_part)[0].replace('"', "").replace(" ", "").split(","))
    )
    assert used <= fields("Test") | fields("TestInfo") | fields("TestExecutionResults"), used


def test_flowcase_results_command_and_html_heat_map(design: tuple[Model, Suite], tmp_path: Path) -> None:
    _, suite = design
    (tmp_path / "junit.xml").write_bytes(junit(suite))
    report = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["results", str(EXAMPLE), str(tmp_path / "junit.xml"), "-o", str(report)])
    assert result.exit_code == 0, result.output
    assert f"1 passed, 1 failed, {len(suite.tests) - 2} not run (3 result(s) matched)" in result.output
    assert f"failed   {suite.tests[1].id}" in result.output and "AssertionError: total is 0" in result.output
    assert "Failing behaviour" in result.output and "1 result(s) match no test: test_something_else" in result.output
    page = report.read_text(encoding="utf-8")
    assert f'data-test-id="{suite.tests[1].id}" data-status="failed"' in page
    assert 'class="node heat-mixed' in page or "heat-mixed node" in page
    assert "heat-fail" in page and 'id="sel-none" checked' in page
    as_json = CliRunner().invoke(main, ["results", str(EXAMPLE), str(tmp_path / "junit.xml"), "--json"])
    data = json.loads(as_json.output.split("\nwarning:")[0])
    assert data["counts"] == {"passed": 1, "failed": 1, "not-run": len(suite.tests) - 2}
    assert any(e["level"] == "fail" for e in data["elements"].values())
    bad = CliRunner().invoke(main, ["results", str(EXAMPLE), str(tmp_path / "report.html")])
    assert bad.exit_code == 1 and "not valid JUnit XML" in bad.output and "Traceback" not in bad.output
