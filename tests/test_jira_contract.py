"""The contract between the app, the sandbox and Jira Cloud, checked against Atlassian's own descriptions.

Every REST call the app makes in a full cycle (set up a fresh site, save a model, publish, change, republish with
obsolete tests, read settings, read an attachment) goes through a recorder in front of the sandbox. Each call must
be an operation of Atlassian's Jira Cloud platform REST API v3 OpenAPI description (tests/data/jira, see its
SOURCES.md): known path and method, known query parameters, a request body valid for the operation's schema
(write rules), a documented status, and a response body valid for the documented schema (read rules). Issue
descriptions and comments are checked against the ADF JSON schema of the ``@atlaskit/adf-schema`` npm package,
installed by this test into ``.cache/adf-schema`` (skipped without npm unless FLOWCASE_REQUIRE_ADF_SCHEMA=1).
So neither the app nor the sandbox can drift from Jira unnoticed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

from builders import all_decisions, checkout_model, jira_client
from flowcase.jira.lease import LeaseTiming
from flowcase.jira.preflight import check, setup
from flowcase.jira.publish import publish
from flowcase.jira.settings_store import load_settings
from flowcase.jira.storage import load_model, save_model
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox, run_sync
from npmcache import npm_cached
from recording import Exchange, Operation, openapi_operations, problems_in, recording_sandbox

ROOT = Path(__file__).resolve().parents[1]
SPEC_FILE = ROOT / "tests" / "data" / "jira" / "jira-cloud-platform-v3.openapi.json"
ADF_PACKAGE = "@atlaskit/adf-schema@57.7.22"
ADF_DIR = ROOT / ".cache" / "adf-schema"
ADF_SCHEMA = ADF_DIR / "node_modules" / "@atlaskit" / "adf-schema" / "dist" / "json-schema" / "v1" / "full.json"


@pytest.fixture(scope="module")
def recorded() -> Iterator[tuple[RunningSandbox, list[Exchange]]]:
    log: list[Exchange] = []
    with recording_sandbox(log, "/rest/", index_lag=0.5) as sb:
        run_sync(full_cycle(sb))
        yield sb, log


def model_of(n: int) -> Model:
    return checkout_model("contract", n, name="Contract checkout", requirements=["DEMO-2", "DEMO-404"])


async def full_cycle(sb: RunningSandbox) -> None:
    fast = LeaseTiming(settle=0.1, ttl=30, wait=30, poll=0.05)
    async with jira_client(sb) as c:
        settings = await load_settings(c, app_key="flowcase", project_key="DEMO")  # app property: 401 over Basic
        assert not (await check(c, "DEMO", settings)).ready
        assert (await setup(c, "DEMO", settings)).readiness.ready
        for n in (5, 3):  # publish, then drop two tests (obsolete: label and comment), republish
            model = model_of(n)
            revision = await load_model(c, "DEMO-1") or None
            await save_model(c, "DEMO-1", model, revision.revision if revision else None, timing=fast)
            suite = all_decisions(model)
            await publish(c, model, suite, "DEMO-1", "DEMO", settings, settle_seconds=0, lease_timing=fast)
        att = await c.add_attachment("DEMO-3", "notes.json", b"{}", "application/json")
        assert await c.attachment_content(str(att["id"])) == b"{}"
        await c.search_all("project = DEMO AND labels = flowcase ORDER BY key ASC", fields=("summary",))


# -- the oracle ---------------------------------------------------------------------------------------------


@cache
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return data


@cache
def operations() -> list[Operation]:
    return openapi_operations(spec()["paths"])


def operation_for(method: str, path: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    for pattern, verb, op, shared in operations():
        if verb == method and pattern.match(path):
            return op, shared + list(op.get("parameters") or [])
    return None


def validate(schema: dict[str, Any], value: Any, *, write: bool) -> list[str]:
    root = {**schema, "components": spec()["components"]}
    validator_cls = OAS30WriteValidator if write else OAS30ReadValidator
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:200]}"
        for e in validator_cls(root).iter_errors(value)
    ]


def json_schema(content: dict[str, Any]) -> dict[str, Any] | None:
    for media, body in content.items():
        if "json" in media and isinstance(body, dict) and "schema" in body:  # {} = any JSON value
            schema: dict[str, Any] = body["schema"]
            return schema
    return None


def problems_of(ex: Exchange) -> list[str]:
    where = f"{ex.method} {ex.path}"
    found = operation_for(ex.method, ex.path)
    if found is None:
        return [f"{where}: not an operation of Jira's REST API description"]
    op, params = found
    out: list[str] = []
    known = {p["name"]: p for p in params if p.get("in") == "query"}
    for name, value in ex.query:
        if name not in known:
            out.append(f"{where}: unknown query parameter {name!r}")
            continue
        schema = known[name].get("schema") or {}
        if schema.get("type") == "array":
            schema = schema.get("items") or {}
        if schema.get("type") in ("integer", "number") and not re.fullmatch(r"-?\d+(\.\d+)?", value):
            out.append(f"{where}: query parameter {name}={value!r} is not a number")
        if schema.get("type") == "boolean" and value not in ("true", "false"):
            out.append(f"{where}: query parameter {name}={value!r} is not a boolean")
    if ex.request and "json" in ex.request_type:
        body_schema = json_schema(((op.get("requestBody") or {}).get("content")) or {})
        if body_schema is None:
            out.append(f"{where}: sends a JSON body the operation does not take")
        else:
            out += [f"{where} request: {e}" for e in validate(body_schema, json.loads(ex.request), write=True)]
    responses = op["responses"]
    documented = responses.get(str(ex.status)) or responses.get("default")
    if documented is None:
        out.append(f"{where}: answered {ex.status}, which the description does not list ({sorted(responses)})")
    elif ex.status < 300 and ex.response and "json" in ex.response_type:
        schema = json_schema(documented.get("content") or {})
        if schema is not None and schema != {}:
            out += [
                f"{where} response {ex.status}: {e}" for e in validate(schema, json.loads(ex.response), write=False)
            ]
    return out


def test_the_full_cycle_covers_the_api_the_app_uses(recorded: tuple[RunningSandbox, list[Exchange]]) -> None:
    _, log = recorded
    used = {(e.method, re.sub(r"\d+|[A-Z]+-\d+", "N", e.path)) for e in log}
    for expected in [
        ("POST", "/rest/api/N/issue/bulk"),
        ("GET", "/rest/api/N/search/jql"),
        ("POST", "/rest/api/N/issuetype"),
        ("POST", "/rest/api/N/issueLinkType"),
        ("PUT", "/rest/api/N/issuetypescheme/N/issuetype"),
        ("POST", "/rest/api/N/issue/bulkfetch"),
        ("POST", "/rest/api/N/issue/N/comment"),
        ("GET", "/rest/api/N/attachment/content/N"),
        ("POST", "/rest/api/N/issueLink"),
    ]:
        assert expected in used, expected
    assert len(log) > 60


def test_every_request_and_response_matches_jiras_description(recorded: tuple[RunningSandbox, list[Exchange]]) -> None:
    _, log = recorded
    problems = problems_in(log, problems_of)
    assert not problems, "\n".join(problems[:40])


def test_the_oracle_catches_drift() -> None:
    """The checks are not vacuous: a wrong path, parameter, body or status is reported."""
    bad = [
        Exchange("POST", "/rest/api/3/issue/mass", [], b"", 201, b""),
        Exchange(
            "GET",
            "/rest/api/3/search/jql",
            [("jql", "x"), ("reconcile", "1")],
            b"",
            200,
            b"{}",
            response_type="application/json",
        ),
        Exchange(
            "POST",
            "/rest/api/3/issueLink",
            [],
            b'{"type": {"name": "Test"}, "from": "A-1"}',
            201,
            b"",
            request_type="application/json",
        ),
        Exchange(
            "GET",
            "/rest/api/3/issueLinkType",
            [],
            b"",
            200,
            b'{"issueLinkTypes": [{"id": 5}]}',
            response_type="application/json",
        ),
        Exchange("GET", "/rest/atlassian-connect/1/addons/a/properties/b", [], b"", 403, b""),
    ]
    assert [bool(problems_of(ex)) for ex in bad] == [True] * len(bad)


# -- ADF ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adf_schema() -> dict[str, Any]:
    npm_cached(
        ADF_PACKAGE,
        ADF_DIR,
        ADF_SCHEMA,
        require_env="FLOWCASE_REQUIRE_ADF_SCHEMA",
        no_npm="npm is not installed: the ADF JSON schema (@atlaskit/adf-schema) cannot be fetched",
    )
    data: dict[str, Any] = json.loads(ADF_SCHEMA.read_text(encoding="utf-8"))
    return data


def adf_documents(log: list[Exchange]) -> list[tuple[str, Any]]:
    docs: list[tuple[str, Any]] = []
    for ex in log:
        if not ex.request or "json" not in ex.request_type:
            continue
        body = json.loads(ex.request)
        items = body.get("issueUpdates") if isinstance(body, dict) and "issueUpdates" in body else [body]
        for item in items or []:
            if not isinstance(item, dict):
                continue
            fields = item.get("fields") if isinstance(item.get("fields"), dict) else {}
            description = fields.get("description")
            if description is not None:
                docs.append((f"{ex.method} {ex.path} description", description))
            if ex.path.endswith("/comment") and "body" in item:
                docs.append((f"{ex.method} {ex.path} body", item["body"]))
    return docs


def test_descriptions_and_comments_are_valid_adf(
    recorded: tuple[RunningSandbox, list[Exchange]], adf_schema: dict[str, Any]
) -> None:
    _, log = recorded
    docs = adf_documents(log)
    assert len(docs) >= 7 and any("comment" in where for where, _ in docs)
    validator = jsonschema.validators.validator_for(adf_schema)(adf_schema)
    errors = [f"{where}: {e.message[:200]}" for where, doc in docs for e in validator.iter_errors(doc)]
    assert not errors, "\n".join(errors[:20])
    bad = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "txt"}]}]}
    assert not validator.is_valid(bad)
