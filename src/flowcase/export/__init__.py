"""Exports of a generated suite into the formats test tools read. Pure code: text in, text out, deterministic.

``export(suite, fmt, model=..., options=...)`` returns an :class:`Export` (the text, its media type and file
suffix). Every format carries each test's stable id (see docs/exports.md for where).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowcase.errors import ExportError as ExportError
from flowcase.export import gherkin, pytest_skeleton, report, report_html, robot, tables, xray, zephyr
from flowcase.generate.suite import Suite
from flowcase.model.types import Model


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """``project``: Jira project key (Xray, Zephyr); ``folder``: test repository folder / TestRail section;
    ``bom``: start CSV files with a UTF-8 byte-order mark (for spreadsheet programs)."""

    project: str | None = None
    folder: str | None = None
    bom: bool = False
    results: Any = None  # flowcase.export.results.Results: the HTML report then shows them (status, heat map)


@dataclass(frozen=True, slots=True)
class Export:
    text: str
    media_type: str
    suffix: str


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    description: str
    media_type: str
    suffix: str
    needs_model: bool
    render: Callable[[Suite, Model | None, ExportOptions], str]


def _html(suite: Suite, model: Model | None, options: ExportOptions) -> str:
    assert model is not None  # checked by export()
    return report_html.html(suite, model, options.results)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "gherkin",
            "Gherkin feature file",
            "text/x-gherkin; charset=utf-8",
            ".feature",
            False,
            lambda s, m, o: gherkin.render(s, m),
        ),
        Format(
            "csv",
            "generic CSV, one row per step",
            "text/csv; charset=utf-8",
            ".csv",
            False,
            lambda s, m, o: tables.generic(s, bom=o.bom),
        ),
        Format(
            "csv-xray",
            "Xray Test Case Importer CSV",
            "text/csv; charset=utf-8",
            ".xray.csv",
            False,
            lambda s, m, o: tables.xray(s, m, folder=o.folder, bom=o.bom),
        ),
        Format(
            "csv-testrail",
            "TestRail CSV import",
            "text/csv; charset=utf-8",
            ".testrail.csv",
            False,
            lambda s, m, o: tables.testrail(s, section=o.folder, bom=o.bom),
        ),
        Format(
            "xray",
            "Xray Cloud test bulk import JSON",
            "application/json",
            ".xray.json",
            False,
            lambda s, m, o: xray.render(s, project=o.project, folder=o.folder),
        ),
        Format(
            "zephyr",
            "Zephyr Scale test case JSON",
            "application/json",
            ".zephyr.json",
            False,
            lambda s, m, o: zephyr.render(s, project=o.project, folder=o.folder),
        ),
        Format(
            "robot",
            "Robot Framework suite",
            "text/plain; charset=utf-8",
            ".robot",
            False,
            lambda s, m, o: robot.render(s),
        ),
        Format(
            "pytest",
            "pytest skeleton module",
            "text/x-python; charset=utf-8",
            ".py",
            False,
            lambda s, m, o: pytest_skeleton.render(s),
        ),
        Format(
            "markdown",
            "Markdown report",
            "text/markdown; charset=utf-8",
            ".md",
            False,
            lambda s, m, o: report.markdown(s, m),
        ),
        Format("html", "self-contained HTML report with the diagram", "text/html; charset=utf-8", ".html", True, _html),
        Format(
            "json",
            "the suite itself (flowcase-suite/1)",
            "application/json",
            ".suite.json",
            False,
            lambda s, m, o: s.model_dump_json(indent=2) + "\n",
        ),
    )
}


def export(suite: Suite, fmt: str, *, model: Model | None = None, options: ExportOptions | None = None) -> Export:
    """Render ``suite`` in format ``fmt`` (a key of :data:`FORMATS`)."""
    spec = FORMATS.get(fmt)
    if spec is None:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if spec.needs_model and model is None:
        raise ExportError(f"the {fmt} export draws the diagram and needs the model")
    if model is not None and model.id != suite.model:
        raise ExportError(f"the tests were generated from model {suite.model!r}, not {model.id!r}")
    text = spec.render(suite, model, options or ExportOptions())
    return Export(text, spec.media_type, spec.suffix)


__all__ = ["FORMATS", "Export", "ExportError", "ExportOptions", "Format", "export"]
