"""API endpoints that need no Jira: validate, import, generate, export (pure functions of the request).

Each handler authenticates, reads its bounded body and hands the work to the compute pool (web/compute.py); the
work itself is in web/work.py.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from flowcase.web import work
from flowcase.web.auth import authenticate
from flowcase.web.compute import Compute
from flowcase.web.errors import read_json_bytes


def compute(request: Request) -> Compute:
    c: Compute = request.app.state.compute
    return c


def max_nodes(request: Request) -> int:
    return int(request.app.state.settings.interactive_max_nodes)


async def _json_task(request: Request, task: Callable[[bytes, int], bytes]) -> Response:
    """Authenticate, read the bounded body, and let a compute worker parse it, work and encode the JSON answer."""
    caller = await authenticate(request)
    raw = await read_json_bytes(request)
    answer = await compute(request).run(caller.site_id, task, raw, max_nodes(request))
    return Response(answer, media_type="application/json")


async def validate_model(request: Request) -> Response:
    return await _json_task(request, work.validate_request)


async def import_model(request: Request) -> Response:
    """Any supported file (BPMN from bpmn.io/Camunda, flowcase JSON/YAML, GraphWalker) -> editor document."""
    return await _json_task(request, work.import_request)


async def editor_document(request: Request) -> Response:
    """A model (flowcase data or BPMN + tables) -> what the editor loads (normalised BPMN and tables)."""
    return await _json_task(request, work.editor_request)


async def generate_tests(request: Request) -> Response:
    return await _json_task(request, work.generate_request)


async def import_results(request: Request) -> Response:
    """Execution results (Xray JSON, JUnit XML, Cucumber JSON) mapped onto the tests and the diagram."""
    return await _json_task(request, work.results_request)


def export_choices() -> list[dict[str, str]]:
    """Every download the editor offers: the model formats, then the suite exports."""
    from flowcase.export import FORMATS

    choices = [{"value": k, "label": v[3], "group": "Workflow"} for k, v in work.MODEL_FORMATS.items()]
    choices += [
        {"value": f.name, "label": f.description[:1].upper() + f.description[1:], "group": "Tests"}
        for f in FORMATS.values()
    ]
    return choices


async def export_file(request: Request) -> Response:
    """A download: the model in a model format, or the generated suite in an export format."""
    caller = await authenticate(request)
    raw = await read_json_bytes(request)
    content, media, filename = await compute(request).run(caller.site_id, work.export_request, raw, max_nodes(request))
    return Response(content, media_type=media, headers={"content-disposition": f'attachment; filename="{filename}"'})
