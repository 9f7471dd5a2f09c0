"""The CPU-heavy part of each model request, as plain functions of plain data.

They run in the compute pool's worker processes (web/compute.py), so they take and return only what pickles
(pydantic bodies, models, suites, dicts) and report expected failures as :class:`ApiError`. The handlers in
api_models.py and api_jira.py do authentication, I/O and the answer; these do the work.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from flowcase.generate.suite import Criterion, Suite, TestCase
from flowcase.generate.uses import parameters_used
from flowcase.model import io
from flowcase.model.diagnostics import Diagnostic
from flowcase.model.types import Model, Scalar
from flowcase.web.bodies import (
    ExportBody,
    GenerateBody,
    ImportBody,
    RemoteResultsBody,
    ResultsBody,
    SaveBody,
    SuiteBody,
    ValidateBody,
)
from flowcase.web.documents import EditorDoc, for_editor, to_model
from flowcase.web.errors import ApiError, diagnostic_json, parse_json_body

MAX_NODES = 5000
"""Default largest model served interactively (nodes over all workflows); Settings.interactive_max_nodes."""

MODEL_FORMATS: dict[str, tuple[io.Format, str, str, str]] = {
    "model:bpmn": ("bpmn", "application/xml", ".bpmn", "BPMN 2.0 (bpmn.io, Camunda Modeler)"),
    "model:json": ("json", "application/json", ".flowcase.json", "flowcase model, JSON"),
    "model:yaml": ("yaml", "application/yaml", ".flowcase.yaml", "flowcase model, YAML"),
    "model:graphwalker": ("graphwalker", "application/json", ".graphwalker.json", "GraphWalker JSON"),
}


def check_size(model: Model, max_nodes: int) -> None:
    nodes = sum(len(w.nodes) for w in model.workflows)
    if nodes > max_nodes:
        raise ApiError(
            413,
            "too-large",
            f"the model has {nodes} nodes; the editor serves models of up to "
            f"{max_nodes}: too large for interactive use; use the CLI (flowcase validate / generate / "
            "export), which has no limit",
        )


def build(doc: EditorDoc, max_nodes: int = MAX_NODES) -> tuple[Model, list[Diagnostic]]:
    """The model with every diagnostic (conversion warnings + validation); :class:`ApiError` if unreadable."""
    model, warnings = to_model(doc)
    check_size(model, max_nodes)
    from flowcase.model.validate import validate

    return model, [*warnings, *validate(model)]


def checked(doc: EditorDoc, max_nodes: int = MAX_NODES) -> tuple[Model, list[Diagnostic]]:
    """Like :func:`build`, but a model with errors is refused (422) with all its diagnostics."""
    model, diagnostics = build(doc, max_nodes)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise ApiError(422, "invalid-model", errors[0].format(), diagnostics=[diagnostic_json(d) for d in diagnostics])
    return model, diagnostics


PIN_CRITERIA = ("all-steps", "all-decisions", "all-pairs")
"""The criteria that keep pinned tests (all paths and test purposes list their own tests)."""


def pinned(model: Model, criterion: Criterion) -> list[TestCase]:
    """The model's pinned tests when ``criterion`` keeps pins; a pin that is not a test is a 422."""
    if criterion not in PIN_CRITERIA:
        return []
    try:
        return [TestCase.model_validate({**p, "pinned": True}) for p in model.pins]
    except ValidationError:
        raise ApiError(422, "bad-pin", "a pinned test is not a test of a generated suite; unpin it") from None


def generate_suite(model: Model, criterion: Criterion, options: dict[str, Scalar]) -> Suite:
    """The suite for ``model`` (keeping its pinned tests); bad options, an ungeneratable model or a pin that no
    longer fits give a 422 with one clear line."""
    from flowcase.generate import generate
    from flowcase.generate.options import GenerateOptions

    return generate(model, GenerateOptions.from_suite_options(criterion, options), pins=pinned(model, criterion))


def _diagnostics(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> list[dict[str, Any]]:
    return [diagnostic_json(d) for d in diagnostics]


# --- the tasks (one per request kind): raw JSON body in, encoded answer out --------------------------------


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def validate_request(raw: bytes, max_nodes: int) -> bytes:
    body = parse_json_body(ValidateBody, raw)
    model, diagnostics = build(body.doc, max_nodes)
    return _json(
        {
            "ok": not any(d.severity == "error" for d in diagnostics),
            "model": model.to_data(),
            "diagnostics": _diagnostics(diagnostics),
        }
    )


def import_request(raw: bytes, max_nodes: int) -> bytes:
    body = parse_json_body(ImportBody, raw)
    loaded = io.loads(body.text, io.detect_format(body.filename, body.text), source=body.filename)
    check_size(loaded.model, max_nodes)
    from flowcase.model.validate import validate

    diagnostics = [*loaded.warnings, *validate(loaded.model)]
    return _json({**for_editor(loaded.model), "diagnostics": _diagnostics(diagnostics)})


def editor_request(raw: bytes, max_nodes: int) -> bytes:
    body = parse_json_body(ValidateBody, raw)
    model, diagnostics = build(body.doc, max_nodes)
    if body.tidy:  # "Tidy up": every node placed anew by the automatic layout, every arrow routed around nodes
        from flowcase.model.tidy import CannotTidy, tidy

        try:
            model = tidy(model)  # in pools and lanes too: each node stays in its lane
        except CannotTidy as exc:
            raise ApiError(422, "cannot-tidy", str(exc)) from exc
    return _json({**for_editor(model), "diagnostics": _diagnostics(diagnostics)})


def editor_model(model: Model) -> dict[str, Any]:
    """A stored model as the editor loads it (layout included)."""
    return for_editor(model)


def generate_request(raw: bytes, max_nodes: int) -> bytes:
    body = parse_json_body(GenerateBody, raw)
    model, diagnostics = checked(body.doc, max_nodes)
    suite = generate_suite(model, body.criterion, body.options)
    return _json(
        {
            "suite": suite.model_dump(mode="json"),
            "uses": parameters_used(model, suite.tests),
            "requirements": requirements_json(suite, model),
            "diagnostics": _diagnostics(diagnostics),
        }
    )


def requirements_json(suite: Suite, model: Model) -> list[dict[str, Any]]:
    """The requirement coverage matrix (``flowcase requirements``): key -> decisions, tests, why uncovered."""
    from flowcase.generate.requirements import requirement_matrix

    return [
        {"key": r.key, "decisions": list(r.decisions), "tests": list(r.tests), "covered": r.covered, "reason": r.reason}
        for r in requirement_matrix(suite, model)
    ]


def results_request(raw: bytes, max_nodes: int) -> bytes:
    """Execution results mapped to the generated tests: status per test, heat per diagram element."""
    from flowcase.export.results import ResultsError, heat, load

    body = parse_json_body(ResultsBody, raw)
    model, _ = checked(body.doc, max_nodes)
    suite = generate_suite(model, body.criterion, body.options)
    try:
        results = load(suite, [(f.name, f.content.encode("utf-8")) for f in body.files], body.keys)
    except ResultsError as exc:
        raise ApiError(422, "bad-results", str(exc)) from None
    return _json({**results.as_json(), "elements": {k: v.as_json() for k, v in heat(model, suite, results).items()}})


def remote_results_request(raw: bytes, max_nodes: int) -> tuple[str, str | None, Model, Suite]:
    """(issue key, source or None, model, suite) of a request for results read from Xray or Zephyr Scale."""
    body = parse_json_body(RemoteResultsBody, raw)
    model, _ = checked(body.doc, max_nodes)
    return body.issue_key, body.source, model, generate_suite(model, body.criterion, body.options)


def results_answer(model: Model, suite: Suite, results: Any, extra: dict[str, Any]) -> bytes:
    """Results (``flowcase.export.results.Results``) with the heat of every diagram element, as JSON."""
    from flowcase.export.results import heat

    elements = {k: v.as_json() for k, v in heat(model, suite, results).items()}
    return _json({**results.as_json(), "elements": elements, **extra})


def save_request(raw: bytes, max_nodes: int) -> tuple[Model, SaveBody]:
    """The model to save (drafts too: only an unreadable or oversized model is refused) and the request."""
    body = parse_json_body(SaveBody, raw)
    model = build(body.doc, max_nodes)[0]
    return model, body.model_copy(update={"doc": EditorDoc()})


def suite_request(raw: bytes, max_nodes: int) -> tuple[str, Model, Suite]:
    """(issue key, model, suite) of a diff or publish request."""
    body = parse_json_body(SuiteBody, raw)
    model, _ = checked(body.doc, max_nodes)
    return body.issue_key, model, generate_suite(model, body.criterion, body.options)


def _filename(model: Model, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", model.id).strip("-.") or "model"
    return stem + suffix


def export_request(raw: bytes, max_nodes: int) -> tuple[bytes, str, str]:
    """(content, media type, file name) of a download: the model in a model format, or the suite exported."""
    from flowcase.export import ExportOptions, export

    body = parse_json_body(ExportBody, raw)
    doc, fmt, criterion, options, project = body.doc, body.format, body.criterion, body.options, body.project
    if fmt.startswith("model:"):
        if fmt not in MODEL_FORMATS:
            raise ApiError(422, "unknown-format", f"unknown model format {fmt.removeprefix('model:')!r}")
        model, _ = build(doc, max_nodes)
        model_fmt, media, suffix, _label = MODEL_FORMATS[fmt]
        text = io.dumps(model, model_fmt)
        return text.encode(), media, _filename(model, suffix)
    model, _ = checked(doc, max_nodes)
    suite = generate_suite(model, criterion, options)
    result = export(suite, fmt, model=model, options=ExportOptions(project=project))
    return result.text.encode(), result.media_type, _filename(model, result.suffix)


def generate_stored(model: Model, criterion: Criterion, options: dict[str, Scalar]) -> Suite:
    """The publish resolver's generation (the model stored on the story, the recipe the job recorded)."""
    from flowcase.generate import GenerateOptions, generate

    return generate(model, GenerateOptions.from_suite_options(criterion, options), pins=pinned(model, criterion))


def lineage(facts: Any) -> dict[str, Any]:
    """A published test issue's lineage (``flowcase.jira.lineage.assess``): regenerates as the last publish did."""
    from flowcase.jira.lineage import assess

    return assess(facts, generate_stored)
