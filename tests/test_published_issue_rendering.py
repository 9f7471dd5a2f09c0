"""A published test issue as a tester sees it: its steps as a table Jira renders (ADF table; the sandbox
renders ADF tables the way Jira does), no empty start step, its data as a small table."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from flowcase.generate import generate
from flowcase.jira.adf import describe_test
from flowcase.model.io import load_path
from flowcase.sandbox.adf import validate_adf
from flowcase.sandbox.adf_html import adf_html
from flowcase.sandbox.testing import running_sandbox

ROOT = Path(__file__).resolve().parent.parent


def _cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", row)]


def test_the_steps_table_has_no_start_step_and_renders_as_a_table() -> None:
    suite = generate(load_path(ROOT / "examples" / "checkout.yaml").model)
    test = suite.tests[0]
    doc = describe_test(test)
    validate_adf(doc)
    html = str(adf_html(doc))
    tables = re.findall(r'<table class="adf-table"><tbody>(.*?)</tbody></table>', html)
    assert len(tables) == 2  # test data, then the steps
    data_rows = re.findall(r"<tr>(.*?)</tr>", tables[0])
    assert _cells(data_rows[0]) == ["Parameter", "Value"]
    assert [_cells(r)[0] for r in data_rows[1:]] == sorted(test.data)
    rows = re.findall(r"<tr>(.*?)</tr>", tables[1])
    assert _cells(rows[0]) == ["#", "Action", "Condition", "Expected result"]
    steps = [_cells(r) for r in rows[1:]]
    assert len(steps) == len(test.test_steps()) < len(test.steps)
    assert steps[0][0] == "1" and steps[0][1].startswith("Put goods worth the cart total")
    assert all(cells[1] for cells in steps)  # no empty step
    assert "start" not in [cells[1] for cells in steps]


def test_the_sandbox_issue_page_shows_the_table() -> None:
    suite = generate(load_path(ROOT / "examples" / "checkout.yaml").model)
    with running_sandbox(demo_data=True) as sb:
        auth = (sb.email, sb.api_token)
        made = httpx.post(
            f"{sb.base_url}/rest/api/3/issue",
            auth=auth,
            json={
                "fields": {
                    "project": {"key": "DEMO"},
                    "issuetype": {"name": "Task"},
                    "summary": suite.tests[0].name,
                    "description": describe_test(suite.tests[0]),
                }
            },
        )
        assert made.status_code == 201, made.text
        page = httpx.get(f"{sb.base_url}/browse/{made.json()['key']}", auth=auth).text
    assert '<table class="adf-table">' in page
    assert "<th><p><strong>Expected result</strong></p></th>" in page
    assert "#ActionCondition" not in page  # not run-on text
