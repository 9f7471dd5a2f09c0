"""A stand-in for the Zephyr Scale Cloud REST API v2 (the operations flowcase uses), under ``/zephyr/v2``.

Checked against SmartBear's published OpenAPI description by ``tests/test_zephyr_contract.py``: every request
flowcase sends and every answer given here must match the operation's schemas. Like the real service it
authenticates with a Zephyr API access token (``Authorization: Bearer <token>``; 401 otherwise), knows the
Jira projects of the sandbox site, pages lists (``maxResults`` at most 1000, default 10), takes at most 100 test
steps per request, and links test cases to Jira issues by issue id (type ``COVERAGE``).

Test executions: ``POST /testcycles`` makes a test cycle, ``POST /testexecutions`` records a test case's execution
in one with a status name (the project's test execution statuses, ``GET /statuses``: Not Executed, In Progress,
Pass, Fail, Blocked) and ``GET /testexecutions`` lists them (filters ``projectKey``, ``testCycle``, ``testCase``,
``onlyLastExecutions``).

State is kept in memory for the life of the sandbox process (test cases, steps, links, folders, test cycles,
test executions).
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox.issues import find_issue, find_project
from flowcase.sandbox.models import Project
from flowcase.sandbox.site import sandbox_of
from flowcase.sandbox.vendor_state import TestCaseRow, ZephyrState

PREFIX = "/zephyr/v2"
MAX_RESULTS = 1000
MAX_STEPS_PER_REQUEST = 100
TEST_CASE_KEY = re.compile(r"(.+)-T([0-9]+)")
TEST_CYCLE_KEY = re.compile(r"([A-Z][A-Z_0-9]+)-R([0-9]+)")
# Zephyr Scale's default test execution statuses (a project may add its own): (id, name, color)
EXECUTION_STATUSES = (
    (101, "Not Executed", "#8c8c8c"),
    (102, "In Progress", "#f2b61f"),
    (103, "Pass", "#61a055"),
    (104, "Fail", "#e13b3b"),
    (105, "Blocked", "#4a6785"),
)
PROJECT_KEY = re.compile(r"[A-Z][A-Z_0-9]+")


class ZephyrError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errorCode": status, "message": message}, status_code=status)


def _authorize(request: Request) -> None:
    token = sandbox_of(request).config.zephyr_token
    header = request.headers.get("authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    if not given or not hmac.compare_digest(given.encode(), token.encode()):
        raise ZephyrError(401, "Unauthorized: the Zephyr API access token is missing or invalid")


def _authorized_state(request: Request) -> ZephyrState:
    """The Zephyr Scale state, once the request's token is checked."""
    _authorize(request)
    state: ZephyrState = sandbox_of(request).zephyr
    return state


def _int_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ZephyrError(400, f"{name} must be an integer between {low} and {high}")
    return int(raw)


def _project_key(body: dict[str, Any]) -> str:
    key = body.get("projectKey")
    if not isinstance(key, str) or not PROJECT_KEY.fullmatch(key):
        raise ZephyrError(400, "projectKey must be a Jira project key")
    return key


def _project_filter(request: Request) -> int | None:
    """The id of the ``projectKey`` a list is filtered by (None: no filter)."""
    key = request.query_params.get("projectKey")
    return _project(request, key)[0] if key else None


def _project(request: Request, ref: str) -> tuple[int, str]:
    with sandbox_of(request).session() as s:
        project = find_project(s, ref)
        if project is None:
            raise ZephyrError(404, f"Project '{ref}' was not found")
        return project.id, project.key


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ZephyrError(400, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ZephyrError(400, "the request body must be a JSON object")
    return body


def _page(request: Request, items: list[dict[str, Any]], path: str) -> dict[str, Any]:
    start = _int_param(request, "startAt", 0, low=0, high=1_000_000)
    size = _int_param(request, "maxResults", 10, low=1, high=1_000_000)
    size = min(size, MAX_RESULTS)
    page = items[start : start + size]
    last = start + size >= len(items)
    out: dict[str, Any] = {"startAt": start, "maxResults": size, "total": len(items), "isLast": last, "values": page}
    if not last:
        out["next"] = f"{_base(request)}{path}?startAt={start + size}&maxResults={size}"
    return out


def _base(request: Request) -> str:
    return f"{sandbox_of(request).base_url}{PREFIX}"


def _test_case_json(request: Request, row: TestCaseRow) -> dict[str, Any]:
    base = _base(request)
    out: dict[str, Any] = {
        "id": row.id,
        "key": row.key,
        "name": row.name,
        "project": {"id": row.project_id, "self": f"{base}/projects/{row.project_id}"},
        "createdOn": row.created_on,
        "objective": row.objective,
        "precondition": row.precondition,
        "estimatedTime": None,
        "labels": list(row.labels),
        "priority": {"id": row.priority_id, "self": f"{base}/priorities/{row.priority_id}"},
        "status": {"id": row.status_id, "self": f"{base}/statuses/{row.status_id}"},
        "folder": {"id": row.folder_id, "self": f"{base}/folders/{row.folder_id}"} if row.folder_id else None,
        "testScript": {"self": f"{base}/testcases/{row.key}/testscript"},
        "customFields": {},
        "links": {"self": f"{base}/testcases/{row.key}/links"},
    }
    return out


def _get_case(state: ZephyrState, key: str) -> TestCaseRow:
    if not TEST_CASE_KEY.fullmatch(key):
        raise ZephyrError(400, "testCaseKey must look like PROJ-T1")
    row = state.test_cases.get(key)
    if row is None:
        raise ZephyrError(404, f"Test case '{key}' was not found")
    return row


def _labels(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ZephyrError(400, "labels must be a list of non-empty strings")
    if any(" " in v for v in value):
        raise ZephyrError(400, "labels must not contain spaces")
    return list(dict.fromkeys(value))


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ZephyrError(400, "name must not be blank")
    if len(value) > 255:
        raise ZephyrError(400, "name must be at most 255 characters")
    return value


def _folder(state: ZephyrState, value: Any, project_id: int) -> int | None:
    if value is None:
        return None
    folder = state.folders.get(value) if isinstance(value, int) else None
    if folder is None or folder["projectId"] != project_id or folder["folderType"] != "TEST_CASE":
        raise ZephyrError(400, f"folderId {value} is not a test case folder of this project")
    return int(value)


# -- routes ----------------------------------------------------------------------------------------------------


async def get_project(request: Request) -> Response:
    _authorize(request)
    project_id, key = _project(request, request.path_params["ref"])
    return JSONResponse({"id": project_id, "jiraProjectId": project_id, "key": key, "enabled": True})


async def test_cases(request: Request) -> Response:
    state = _authorized_state(request)
    if request.method == "GET":
        project_id = _project_filter(request)
        folder_id = _int_param(request, "folderId", 0, low=1, high=2**62) if "folderId" in request.query_params else 0
        with state.lock:
            rows = [
                r
                for r in sorted(state.test_cases.values(), key=lambda r: r.id)
                if (project_id is None or r.project_id == project_id) and (not folder_id or r.folder_id == folder_id)
            ]
            items = [_test_case_json(request, r) for r in rows]
        return JSONResponse(_page(request, items, "/testcases"))
    body = await _json_body(request)
    key = _project_key(body)
    project_id, project_key = _project(request, key)
    name, labels = _name(body.get("name")), _labels(body.get("labels"))
    with state.lock:
        folder = _folder(state, body.get("folderId"), project_id)
        number = state.numbers.get(project_id, 0) + 1
        state.numbers[project_id] = number
        row = TestCaseRow(
            next(state.ids),
            f"{project_key}-T{number}",
            project_id,
            name,
            objective=body.get("objective"),
            precondition=body.get("precondition"),
            labels=labels,
            folder_id=folder,
            created_on=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        state.test_cases[row.key] = row
    return JSONResponse(
        {"id": row.id, "key": row.key, "self": f"{_base(request)}/testcases/{row.key}"}, status_code=201
    )


async def test_case(request: Request) -> Response:
    state = _authorized_state(request)
    key = request.path_params["key"]
    if request.method == "GET":
        with state.lock:
            return JSONResponse(_test_case_json(request, _get_case(state, key)))
    body = await _json_body(request)
    with state.lock:
        row = _get_case(state, key)
        if body.get("id") != row.id or body.get("key") != row.key:
            raise ZephyrError(400, "id and key must be those of the test case")
        for name in ("project", "priority", "status"):
            if not isinstance(body.get(name), dict) or not isinstance(body[name].get("id"), int):
                raise ZephyrError(400, f"{name} is required (with its id)")
        if body["project"]["id"] != row.project_id:
            raise ZephyrError(400, "a test case cannot move to another project")
        name, labels = _name(body.get("name")), _labels(body.get("labels"))
        folder = body.get("folder")
        folder_id = _folder(state, folder.get("id") if isinstance(folder, dict) else None, row.project_id)
        # Every field not sent is cleared, as the real service does on PUT.
        row.name, row.labels, row.folder_id = name, labels, folder_id
        row.objective, row.precondition = body.get("objective"), body.get("precondition")
        row.priority_id, row.status_id = body["priority"]["id"], body["status"]["id"]
    return Response(status_code=200)


async def test_steps(request: Request) -> Response:
    state = _authorized_state(request)
    key = request.path_params["key"]
    if request.method == "GET":
        with state.lock:
            current = [dict(step) for step in _get_case(state, key).steps]
        return JSONResponse(_page(request, current, f"/testcases/{key}/teststeps"))
    body = await _json_body(request)
    mode, items = body.get("mode"), body.get("items")
    steps: list[dict[str, Any]] = []
    if mode not in ("APPEND", "OVERWRITE"):
        raise ZephyrError(400, 'mode must be "APPEND" or "OVERWRITE"')
    if not isinstance(items, list):
        raise ZephyrError(400, "items must be a list")
    if len(items) > MAX_STEPS_PER_REQUEST:
        raise ZephyrError(400, f"at most {MAX_STEPS_PER_REQUEST} test steps can be added in one request")
    for item in items:
        inline = item.get("inline") if isinstance(item, dict) else None
        if not isinstance(inline, dict) or "testCase" in item:
            raise ZephyrError(400, "each step must have an inline definition (testCase calls are not supported here)")
        steps.append({"inline": {k: str(inline.get(k) or "") for k in ("description", "testData", "expectedResult")}})
    with state.lock:
        row = _get_case(state, key)
        row.steps = steps if mode == "OVERWRITE" else row.steps + steps
        ident = next(state.ids)
    return JSONResponse({"id": ident, "self": f"{_base(request)}/testcases/{key}/teststeps"}, status_code=201)


async def test_case_links(request: Request) -> Response:
    state = _authorized_state(request)
    key = request.path_params["key"]
    base = _base(request)
    jira = sandbox_of(request).base_url
    with state.lock:
        row = _get_case(state, key)
        issues = [
            {
                "id": lk["id"],
                "issueId": lk["issueId"],
                "self": f"{base}/links/{lk['id']}",
                "type": "COVERAGE",
                "target": f"{jira}/rest/api/2/issue/{lk['issueId']}",
            }
            for lk in row.links
        ]
    return JSONResponse({"self": f"{base}/testcases/{key}/links", "issues": issues, "webLinks": []})


async def test_case_issue_link(request: Request) -> Response:
    state = _authorized_state(request)
    key = request.path_params["key"]
    body = await _json_body(request)
    issue_id = body.get("issueId")
    if not isinstance(issue_id, int) or issue_id < 1:
        raise ZephyrError(400, "issueId must be a Jira issue id")
    with sandbox_of(request).session() as s:
        if find_issue(s, str(issue_id)) is None:
            raise ZephyrError(400, f"Jira issue {issue_id} was not found")
    with state.lock:
        row = _get_case(state, key)
        if any(lk["issueId"] == issue_id for lk in row.links):
            raise ZephyrError(400, "the test case is already linked to this issue")
        link = {"id": next(state.ids), "issueId": issue_id}
        row.links.append(link)
    return JSONResponse({"id": link["id"], "self": f"{_base(request)}/links/{link['id']}"}, status_code=201)


async def folders(request: Request) -> Response:
    state = _authorized_state(request)
    base = _base(request)
    if request.method == "GET":
        project_id = _project_filter(request)
        kind = request.query_params.get("folderType")
        with state.lock:
            rows = [
                f
                for _, f in sorted(state.folders.items())
                if (project_id is None or f["projectId"] == project_id) and (not kind or f["folderType"] == kind)
            ]
            items = [
                {
                    "id": f["id"],
                    "parentId": f["parentId"],
                    "name": f["name"],
                    "index": f["index"],
                    "folderType": f["folderType"],
                    "project": {"id": f["projectId"], "self": f"{base}/projects/{f['projectId']}"},
                }
                for f in rows
            ]
        return JSONResponse(_page(request, items, "/folders"))
    body = await _json_body(request)
    key, name, kind = _project_key(body), body.get("name"), body.get("folderType")
    if kind not in ("TEST_CASE", "TEST_PLAN", "TEST_CYCLE"):
        raise ZephyrError(400, 'folderType must be "TEST_CASE", "TEST_PLAN" or "TEST_CYCLE"')
    if not isinstance(name, str) or not 1 <= len(name) <= 255 or "/" in name:
        raise ZephyrError(400, "name must be 1-255 characters without '/'")
    project_id = _project(request, key)[0]
    parent = body.get("parentId")
    with state.lock:
        if parent is not None and parent not in state.folders:
            raise ZephyrError(400, f"parentId {parent} was not found")
        siblings = [
            f
            for f in state.folders.values()
            if f["projectId"] == project_id and f["parentId"] == parent and f["folderType"] == kind
        ]
        if any(f["name"] == name for f in siblings):
            raise ZephyrError(400, f"a folder named '{name}' already exists here")
        ident = next(state.ids)
        state.folders[ident] = {
            "id": ident,
            "parentId": parent,
            "name": name,
            "index": len(siblings),
            "folderType": kind,
            "projectId": project_id,
        }
    return JSONResponse({"id": ident, "self": f"{base}/folders/{ident}"}, status_code=201)


def _number(state: ZephyrState, kind: str, project_id: int) -> int:
    number = state.counters.get((kind, project_id), 0) + 1
    state.counters[(kind, project_id)] = number
    return number


async def statuses(request: Request) -> Response:
    _authorize(request)
    base = _base(request)
    project_key = request.query_params.get("projectKey")
    kind = request.query_params.get("statusType")
    if kind not in (None, "TEST_CASE", "TEST_PLAN", "TEST_CYCLE", "TEST_EXECUTION"):
        raise ZephyrError(400, "statusType must be TEST_CASE, TEST_PLAN, TEST_CYCLE or TEST_EXECUTION")
    if project_key:
        projects = [_project(request, project_key)[0]]
    else:
        with sandbox_of(request).session() as s:
            projects = sorted(s.scalars(select(Project.id)).all())
    items = [
        {
            "id": ident,
            "project": {"id": project_id, "self": f"{base}/projects/{project_id}"},
            "name": name,
            "description": None,
            "index": n,
            "color": color,
            "archived": False,
            "default": n == 0,
        }
        for project_id in projects
        if kind in (None, "TEST_EXECUTION")
        for n, (ident, name, color) in enumerate(EXECUTION_STATUSES)
    ]
    return JSONResponse(_page(request, items, "/statuses"))


async def test_cycles(request: Request) -> Response:
    state = _authorized_state(request)
    body = await _json_body(request)
    key = _project_key(body)
    project_id, project_key = _project(request, key)
    name = _name(body.get("name"))
    with state.lock:
        cycle: dict[str, Any] = {
            "id": next(state.ids),
            "key": f"{project_key}-R{_number(state, 'R', project_id)}",
            "projectId": project_id,
            "name": name,
        }
        state.cycles[cycle["key"]] = cycle
    return JSONResponse(
        {"id": cycle["id"], "key": cycle["key"], "self": f"{_base(request)}/testcycles/{cycle['id']}"},
        status_code=201,
    )


def _execution_json(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    base = _base(request)
    return {
        "id": row["id"],
        "key": row["key"],
        "project": {"id": row["projectId"], "self": f"{base}/projects/{row['projectId']}"},
        "testCase": {"id": row["testCaseId"], "self": f"{base}/testcases/{row['testCaseKey']}/versions/1"},
        "testExecutionStatus": {"id": row["statusId"], "self": f"{base}/statuses/{row['statusId']}"},
        "actualEndDate": row["actualEndDate"],
        "estimatedTime": None,
        "executionTime": row["executionTime"],
        "executedById": None,
        "assignedToId": None,
        "comment": row["comment"],
        "automated": False,
        "testCycle": {"id": row["testCycleId"], "self": f"{base}/testcycles/{row['testCycleId']}"},
        "customFields": {},
        "links": {"self": f"{base}/testexecutions/{row['id']}/links", "issues": []},
    }


def _bool_param(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "false")
    if raw not in ("true", "false"):
        raise ZephyrError(400, f"{name} must be true or false")
    return raw == "true"


async def test_executions(request: Request) -> Response:
    state = _authorized_state(request)
    if request.method == "GET":
        project_id = _project_filter(request)
        cycle, case = request.query_params.get("testCycle"), request.query_params.get("testCase")
        only_last = _bool_param(request, "onlyLastExecutions")
        with state.lock:
            rows = [
                r
                for r in state.executions
                if (project_id is None or r["projectId"] == project_id)
                and (cycle is None or r["testCycleKey"] == cycle)
                and (case is None or r["testCaseKey"] == case or str(r["testCaseId"]) == case)
            ]
            if only_last:  # the last execution of each test cycle item
                last = {(r["testCycleId"], r["testCaseId"]): r["id"] for r in rows}
                rows = [r for r in rows if last[(r["testCycleId"], r["testCaseId"])] == r["id"]]
            items = [_execution_json(request, r) for r in rows]
        return JSONResponse(_page(request, items, "/testexecutions"))
    body = await _json_body(request)
    key = _project_key(body)
    project_id, _ = _project(request, key)
    status = next((s for s in EXECUTION_STATUSES if s[1] == body.get("statusName")), None)
    if status is None:
        raise ZephyrError(400, f"statusName {body.get('statusName')!r} is not a test execution status of {key}")
    end = body.get("actualEndDate")
    if end is not None and not (isinstance(end, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", end)):
        raise ZephyrError(400, "actualEndDate must look like yyyy-MM-dd'T'HH:mm:ss'Z'")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ZephyrError(400, "comment must be a string")
    elapsed = body.get("executionTime")
    if elapsed is not None and (not isinstance(elapsed, int) or elapsed < 0):
        raise ZephyrError(400, "executionTime must be a number of milliseconds")
    with state.lock:
        test_case = _get_case(state, str(body.get("testCaseKey") or ""))
        test_cycle = state.cycles.get(str(body.get("testCycleKey") or ""))
        if test_case.project_id != project_id:
            raise ZephyrError(400, "the test case is not in this project")
        if test_cycle is None or test_cycle["projectId"] != project_id:
            raise ZephyrError(400, f"Test cycle '{body.get('testCycleKey')}' was not found in {key}")
        number = _number(state, "E", project_id)
        row = {
            "id": next(state.ids),
            "key": f"{key}-E{number}",
            "projectId": project_id,
            "testCaseId": test_case.id,
            "testCaseKey": test_case.key,
            "testCycleId": test_cycle["id"],
            "testCycleKey": test_cycle["key"],
            "statusId": status[0],
            "actualEndDate": end or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "executionTime": elapsed,
            "comment": comment,
        }
        state.executions.append(row)
    return Response(status_code=201, headers={"location": f"{_base(request)}/testexecutions/{row['id']}"})


def _guarded(handler: Any) -> Any:
    async def run(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except ZephyrError as exc:
            return _error(exc.status, exc.message)
        return response

    return run


routes = [
    Route(f"{PREFIX}/projects/{{ref}}", _guarded(get_project), methods=["GET"]),
    Route(f"{PREFIX}/testcases", _guarded(test_cases), methods=["GET", "POST"]),
    Route(f"{PREFIX}/testcases/{{key}}", _guarded(test_case), methods=["GET", "PUT"]),
    Route(f"{PREFIX}/testcases/{{key}}/teststeps", _guarded(test_steps), methods=["GET", "POST"]),
    Route(f"{PREFIX}/testcases/{{key}}/links", _guarded(test_case_links), methods=["GET"]),
    Route(f"{PREFIX}/testcases/{{key}}/links/issues", _guarded(test_case_issue_link), methods=["POST"]),
    Route(f"{PREFIX}/folders", _guarded(folders), methods=["GET", "POST"]),
    Route(f"{PREFIX}/statuses", _guarded(statuses), methods=["GET"]),
    Route(f"{PREFIX}/testcycles", _guarded(test_cycles), methods=["POST"]),
    Route(f"{PREFIX}/testexecutions", _guarded(test_executions), methods=["GET", "POST"]),
]
