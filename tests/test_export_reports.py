"""Markdown and HTML reports (static checks) and the export() entry point."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from flowcase.export import FORMATS, ExportError, export
from flowcase.export.diagram import path_of
from test_export_samples import sample_model, sample_suite


def test_markdown_report_has_coverage_and_the_uncovered_reason() -> None:
    text = export(sample_suite(), "markdown", model=sample_model()).text
    assert "| decision | 7 | 7 | 100% |" in text
    assert "| pair | 0 | 1 | 0% |" in text
    assert "| pair | pickup/enter_code#wrong&gt;pickup/enter_code#ok | infeasible: after a wrong code" in text
    assert "Lower bound on the number of tests: 3 (proven minimal)" in text
    assert text.count("```mermaid") == 2
    # A table cell never breaks the table: pipes escaped, line breaks joined.
    row = next(line for line in text.splitlines() if line.startswith("| TC-8c9d0e1f"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 6  # five columns


def test_markdown_without_model_has_no_diagram() -> None:
    text = export(sample_suite(), "markdown").text
    assert "```mermaid" not in text and "## Coverage" in text


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: dict[str, str] = {}
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag in ("path", "g") and a.get("data-ref"):
            self.refs[str(a["data-ref"])] = a.get("data-tests") or ""


def test_html_tags_each_diagram_element_with_the_tests_passing_it() -> None:
    model, suite = sample_model(), sample_suite()
    page = export(suite, "html", model=model).text
    parsed = _Collect()
    parsed.feed(page)
    assert len(parsed.ids) == len(set(parsed.ids)), "duplicate element ids"
    for n, test in enumerate(suite.tests, 1):
        path = path_of(model, test)
        tagged = {ref for ref, tests in parsed.refs.items() if f"t{n}" in tests.split()}
        assert tagged == path.nodes | path.edges
    # The sub-workflow's nodes are highlighted for the tests that pass through it.
    assert parsed.refs["verify/check"].split() == ["t1", "t2"]
    assert "infeasible: after a wrong code the test data keeps the code wrong" in page
    assert not re.search(r"https?://|<script|\ssrc=", page)
    assert "Say &quot;hi&quot; | pipe" in page and "<br" not in page.split("<body>")[0]


def test_export_errors_are_one_line_value_errors() -> None:
    with pytest.raises(ExportError, match="unknown export format 'docx'"):
        export(sample_suite(), "docx")
    with pytest.raises(ExportError, match="needs the model"):
        export(sample_suite(), "html")
    other = sample_model().model_copy(update={"id": "other"})
    with pytest.raises(ExportError, match="not 'other'"):
        export(sample_suite(), "csv", model=other)


def test_every_format_is_deterministic_and_names_every_test() -> None:
    model, suite = sample_model(), sample_suite()
    for fmt in FORMATS:
        first = export(suite, fmt, model=model)
        assert first == export(suite, fmt, model=model)
        assert all(t.id in first.text for t in suite.tests), fmt
