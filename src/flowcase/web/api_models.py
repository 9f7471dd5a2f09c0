"""API endpoints that need no Jira: validate, import, generate, export (pure functions of the request)."""

from __future__ import annotations

import re
from typing import Any, Literal

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
    format: str = Field(pattern=r"^[a-z0-9-]{1,32}$")


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


_MODEL_FORMATS: dict[str, tuple[ModelFormat, str, str]] = {
    "json": ("json", "application/json", ".flowcase.json"),
    "yaml": ("yaml", "application/yaml", ".flowcase.yaml"),
    "bpmn": ("bpmn", "application/xml", ".bpmn"),
    "graphwalker": ("graphwalker", "application/json", ".graphwalker.json"),
}


def _filename(model: Model, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", model.id).strip("-.") or "model"
    return stem + suffix


async def export_file(request: Request) -> Response:
    """A download: the model in a model format, or the generated suite in an export format."""
    await authenticate(request)
    body = await read_json(request, ExportBody)
    if body.format in _MODEL_FORMATS:
        model, _ = build(body.doc)
        fmt, media, suffix = _MODEL_FORMATS[body.format]
        return _download(io.dumps(model, fmt), media, _filename(model, suffix))
    model, _ = checked(body.doc)
    suite = generate_suite(model, body.criterion, body.options)
    if body.format == "suite":
        return _download(suite.model_dump_json(indent=2) + "\n", "application/json", _filename(model, ".suite.json"))
    content, media, suffix = _export_suite(model, suite, body.format)
    return _download(content, media, _filename(model, suffix))


def _export_suite(model: Model, suite: Suite, fmt: str) -> tuple[str, str, str]:
    try:
        from flowcase import export
    except ImportError:
        raise ApiError(404, "unknown-format", f"export format {fmt!r} is not available") from None
    render: Any = getattr(export, "export", None)
    if render is None:
        raise ApiError(404, "unknown-format", f"export format {fmt!r} is not available")
    try:
        result = render(suite, fmt, model=model)
    except (KeyError, ValueError) as exc:
        raise ApiError(404, "unknown-format", f"export format {fmt!r} is not available: {exc}") from None
    text = result if isinstance(result, str) else str(getattr(result, "text", result))
    media = str(getattr(result, "media_type", "text/plain"))
    suffix = str(getattr(result, "suffix", f".{fmt}.txt"))
    return text, media, suffix


def _download(text: str, media: str, filename: str) -> Response:
    return Response(text, media_type=media,
                    headers={"content-disposition": f'attachment; filename="{filename}"'})
