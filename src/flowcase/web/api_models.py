"""API endpoints that need no Jira: validate, import, generate, export (pure functions of the request)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flowcase.generate.suite import Criterion, Suite
from flowcase.model import io
from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.types import Model, Scalar
from flowcase.web.auth import authenticate
from flowcase.web.documents import MAX_TEXT, EditorDoc, for_editor, to_model
from flowcase.web.errors import ApiError, diagnostic_json, model_error, read_json


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValidateBody(_Body):
    doc: EditorDoc


class ImportBody(_Body):
    text: str = Field(max_length=MAX_TEXT)
    filename: str = Field(default="model.bpmn", max_length=255)


class GenerateBody(_Body):
    doc: EditorDoc
    criterion: Criterion = "all-decisions"
    options: dict[str, Scalar] = Field(default_factory=dict)


ModelFormat = Literal["json", "yaml", "bpmn", "graphwalker"]


class ExportBody(GenerateBody):
    format: str = Field(pattern=r"^(model:)?[a-z0-9-]{1,32}$", description="'model:<fmt>' or a suite export format.")
    project: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{0,49}$")


def build(doc: EditorDoc) -> tuple[Model, list[Diagnostic]]:
    """The model with every diagnostic (conversion warnings + validation); :class:`ApiError` if unreadable."""
    try:
        model, warnings = to_model(doc)
    except ModelError as exc:
        raise model_error(exc) from None
    from flowcase.model.validate import validate

    return model, [*warnings, *validate(model)]


def checked(doc: EditorDoc) -> tuple[Model, list[Diagnostic]]:
    """Like :func:`build`, but a model with errors is refused (422) with all its diagnostics."""
    model, diagnostics = build(doc)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise ApiError(422, "invalid-model", errors[0].format(),
                       diagnostics=[diagnostic_json(d) for d in diagnostics])
    return model, diagnostics


def generate_suite(model: Model, criterion: Criterion, options: dict[str, Scalar]) -> Suite:
    """The suite for ``model``; bad options or an ungeneratable model give a 422 with one clear line."""
    from flowcase.generate import generate
    from flowcase.generate.options import GenerateOptions, GenerationError

    try:
        return generate(model, GenerateOptions.from_suite_options(criterion, options))
    except GenerationError as exc:
        raise ApiError(422, "cannot-generate", str(exc)) from None
    except TypeError as exc:
        raise ApiError(422, "bad-option", f"bad generation option: {exc}") from None
    except ModelError as exc:
        raise model_error(exc) from None


async def validate_model(request: Request) -> Response:
    await authenticate(request)
    body = await read_json(request, ValidateBody)
    model, diagnostics = build(body.doc)
    return JSONResponse({
        "ok": not any(d.severity == "error" for d in diagnostics),
        "model": model.to_data(),
        "diagnostics": [diagnostic_json(d) for d in diagnostics],
    })


async def import_model(request: Request) -> Response:
    """Any supported file (BPMN from bpmn.io/Camunda, flowcase JSON/YAML, GraphWalker) -> editor document."""
    await authenticate(request)
    body = await read_json(request, ImportBody)
    try:
        loaded = io.loads(body.text, io.detect_format(body.filename, body.text), source=body.filename)
    except ModelError as exc:
        raise model_error(exc) from None
    from flowcase.model.validate import validate

    diagnostics = [*loaded.warnings, *validate(loaded.model)]
    return JSONResponse({**for_editor(loaded.model), "diagnostics": [diagnostic_json(d) for d in diagnostics]})


async def editor_document(request: Request) -> Response:
    """A model (flowcase data or BPMN + tables) -> what the editor loads (normalised BPMN and tables)."""
    await authenticate(request)
    body = await read_json(request, ValidateBody)
    model, diagnostics = build(body.doc)
    return JSONResponse({**for_editor(model), "diagnostics": [diagnostic_json(d) for d in diagnostics]})


async def generate_tests(request: Request) -> Response:
    await authenticate(request)
    body = await read_json(request, GenerateBody)
    model, diagnostics = checked(body.doc)
    suite = generate_suite(model, body.criterion, body.options)
    return JSONResponse({
        "suite": suite.model_dump(mode="json"),
        "diagnostics": [diagnostic_json(d) for d in diagnostics],
    })


MODEL_FORMATS: dict[str, tuple[ModelFormat, str, str, str]] = {
    "model:bpmn": ("bpmn", "application/xml", ".bpmn", "BPMN 2.0 (bpmn.io, Camunda Modeler)"),
    "model:json": ("json", "application/json", ".flowcase.json", "flowcase model, JSON"),
    "model:yaml": ("yaml", "application/yaml", ".flowcase.yaml", "flowcase model, YAML"),
    "model:graphwalker": ("graphwalker", "application/json", ".graphwalker.json", "GraphWalker JSON"),
}


def export_choices() -> list[dict[str, str]]:
    """Every download the editor offers: the model formats, then the suite exports."""
    from flowcase.export import FORMATS

    choices = [{"value": k, "label": v[3], "group": "Workflow"} for k, v in MODEL_FORMATS.items()]
    choices += [{"value": f.name, "label": f.description[:1].upper() + f.description[1:], "group": "Tests"}
                for f in FORMATS.values()]
    return choices


def _filename(model: Model, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", model.id).strip("-.") or "model"
    return stem + suffix


async def export_file(request: Request) -> Response:
    """A download: the model in a model format, or the generated suite in an export format."""
    from flowcase.export import ExportError, ExportOptions, export

    await authenticate(request)
    body = await read_json(request, ExportBody)
    if body.format.startswith("model:"):
        if body.format not in MODEL_FORMATS:
            raise ApiError(422, "unknown-format", f"unknown model format {body.format.removeprefix('model:')!r}")
        model, _ = build(body.doc)
        fmt, media, suffix, _label = MODEL_FORMATS[body.format]
        try:
            text = io.dumps(model, fmt)
        except ModelError as exc:
            raise model_error(exc) from None
        return _download(text, media, _filename(model, suffix))
    model, _ = checked(body.doc)
    suite = generate_suite(model, body.criterion, body.options)
    try:
        result = export(suite, body.format, model=model, options=ExportOptions(project=body.project))
    except ExportError as exc:
        raise ApiError(422, "unknown-format", str(exc)) from None
    return _download(result.text, result.media_type, _filename(model, result.suffix))


def _download(text: str, media: str, filename: str) -> Response:
    return Response(text, media_type=media,
                    headers={"content-disposition": f'attachment; filename="{filename}"'})
