"""API endpoints that need no Jira: validate, import, generate, export (pure functions of the request).

Each handler authenticates, reads its bounded body and hands the work to the compute pool (web/compute.py); the
work itself is in web/work.py.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flowcase.generate.suite import Criterion
from flowcase.model.types import Scalar
from flowcase.web import work
from flowcase.web.auth import authenticate
from flowcase.web.compute import Compute
from flowcase.web.documents import MAX_TEXT, EditorDoc
from flowcase.web.errors import read_json

T = TypeVar("T")


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


class ExportBody(GenerateBody):
    format: str = Field(pattern=r"^(model:)?[a-z0-9-]{1,32}$", description="'model:<fmt>' or a suite export format.")
    project: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{0,49}$")


def compute(request: Request) -> Compute:
    c: Compute = request.app.state.compute
    return c


def max_nodes(request: Request) -> int:
    return int(request.app.state.settings.interactive_max_nodes)


async def validate_model(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request, ValidateBody)
    return JSONResponse(await compute(request).run(caller.site_id, work.validate_doc, body.doc, max_nodes(request)))


async def import_model(request: Request) -> Response:
    """Any supported file (BPMN from bpmn.io/Camunda, flowcase JSON/YAML, GraphWalker) -> editor document."""
    caller = await authenticate(request)
    body = await read_json(request, ImportBody)
    answer = await compute(request).run(caller.site_id, work.import_text, body.text, body.filename,
                                        max_nodes(request))
    return JSONResponse(answer)


async def editor_document(request: Request) -> Response:
    """A model (flowcase data or BPMN + tables) -> what the editor loads (normalised BPMN and tables)."""
    caller = await authenticate(request)
    body = await read_json(request, ValidateBody)
    return JSONResponse(await compute(request).run(caller.site_id, work.editor_doc, body.doc, max_nodes(request)))


async def generate_tests(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request, GenerateBody)
    answer = await compute(request).run(caller.site_id, work.generate_doc, body.doc, body.criterion, body.options,
                                        max_nodes(request))
    return JSONResponse(answer)


def export_choices() -> list[dict[str, str]]:
    """Every download the editor offers: the model formats, then the suite exports."""
    from flowcase.export import FORMATS

    choices = [{"value": k, "label": v[3], "group": "Workflow"} for k, v in work.MODEL_FORMATS.items()]
    choices += [{"value": f.name, "label": f.description[:1].upper() + f.description[1:], "group": "Tests"}
                for f in FORMATS.values()]
    return choices


async def export_file(request: Request) -> Response:
    """A download: the model in a model format, or the generated suite in an export format."""
    caller = await authenticate(request)
    body = await read_json(request, ExportBody)
    text, media, filename = await compute(request).run(
        caller.site_id, work.export_doc, body.doc, body.format, body.criterion, body.options, body.project,
        max_nodes(request))
    return Response(text, media_type=media, headers={"content-disposition": f'attachment; filename="{filename}"'})
