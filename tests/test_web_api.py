"""The web app's JSON API in standalone mode: authentication, input limits, validate/import/generate/export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from builders import standalone_client
from flowcase.config import Settings
from flowcase.hosts.standalone import StandaloneHost
from flowcase.web.app import create_app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TOKEN = "local-test-token-0123456789"
HEADERS = {"X-Flowcase-Client": "web"}


@pytest.fixture
def client() -> TestClient:
    return standalone_client(TOKEN)


def login_model() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "login.yaml").read_text())
    return data


def test_api_refuses_requests_without_the_local_token() -> None:
    app = create_app(Settings(env="test"), hosts=[StandaloneHost(None, TOKEN)])
    anonymous = TestClient(app)
    r = anonymous.post("/api/models/validate", json={"doc": {"model": login_model()}}, headers=HEADERS)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
    wrong = anonymous.post(
        "/api/models/validate",
        json={"doc": {"model": login_model()}},
        headers={**HEADERS, "Authorization": "Bearer not-the-token"},
    )
    assert wrong.status_code == 401


def test_cookie_alone_is_not_enough_for_the_api(client: TestClient) -> None:
    """A cross-site form could send the cookie but not the custom header."""
    r = client.post("/api/models/validate", json={"doc": {"model": login_model()}})
    assert r.status_code == 403
    assert "X-Flowcase-Client" in r.json()["error"]["message"]


def test_bearer_token_works_without_cookie() -> None:
    app = create_app(Settings(env="test"), hosts=[StandaloneHost(None, TOKEN)])
    r = TestClient(app).post(
        "/api/models/validate", json={"doc": {"model": login_model()}}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert r.status_code == 200
    assert r.json()["ok"] is True


def test_validate_reports_located_diagnostics(client: TestClient) -> None:
    model = login_model()
    model["workflows"][0]["nodes"][2]["decisions"][1]["when"] = "attempts <"
    r = client.post("/api/models/validate", json={"doc": {"model": model}}, headers=HEADERS)
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False
    errors = [d for d in body["diagnostics"] if d["severity"] == "error"]
    assert errors and errors[0]["field"] == "when"
    assert errors[0]["path"] == ["workflows", 0, "nodes", 2, "decisions", 1, "when"]


def test_tables_from_the_editor_replace_node_decisions(client: TestClient) -> None:
    model = login_model()
    rows = [{"id": "go", "action": "Open it", "next": "cancelled"}]
    r = client.post(
        "/api/models/validate", json={"doc": {"model": model, "tables": {"login/open_form": rows}}}, headers=HEADERS
    )
    node = r.json()["model"]["workflows"][0]["nodes"][1]
    assert node["decisions"] == [{"id": "go", "action": "Open it", "next": "cancelled"}]


def test_schema_errors_are_422_with_diagnostics(client: TestClient) -> None:
    r = client.post("/api/models/validate", json={"doc": {"model": {"id": "x", "workflows": []}}}, headers=HEADERS)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid-model"
    assert err["diagnostics"][0]["message"] == "must not be empty"


@pytest.mark.parametrize(
    ("content", "ctype", "status", "code"),
    [
        (b"{not json", "application/json", 400, "bad-json"),
        (b'{"doc": {"model": {}}, "extra": 1}', "application/json", 422, "bad-request"),
        (b'{"doc": {}}', "text/plain", 415, "unsupported-media-type"),
    ],
)
def test_bad_bodies_get_clear_json_errors(
    client: TestClient, content: bytes, ctype: str, status: int, code: str
) -> None:
    r = client.post("/api/models/validate", content=content, headers={**HEADERS, "Content-Type": ctype})
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


def test_oversized_bodies_are_refused(client: TestClient) -> None:
    big = b'{"doc": {"bpmn": "' + b"x" * (5 * 1024 * 1024) + b'"}}'
    r = client.post("/api/models/validate", content=big, headers={**HEADERS, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too-large"


def test_unknown_api_path_is_json_404(client: TestClient) -> None:
    r = client.get("/api/nothing-here", headers=HEADERS)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not-found"


def test_export_model_formats_download(client: TestClient) -> None:
    r = client.post("/api/export", json={"doc": {"model": login_model()}, "format": "model:yaml"}, headers=HEADERS)
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="login.flowcase.yaml"'
    assert yaml.safe_load(r.text)["id"] == "login"


def test_export_suite_formats_download(client: TestClient) -> None:
    r = client.post(
        "/api/export", json={"doc": {"model": login_model()}, "format": "xray", "project": "DEMO"}, headers=HEADERS
    )
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="login.xray.json"'
    assert "DEMO" in r.text
    unknown = client.post("/api/export", json={"doc": {"model": login_model()}, "format": "docx"}, headers=HEADERS)
    assert unknown.status_code == 422 and "unknown export format" in unknown.json()["error"]["message"]


def test_generate_returns_the_suite_and_rejects_bad_options(client: TestClient) -> None:
    r = client.post("/api/generate", json={"doc": {"model": login_model()}}, headers=HEADERS)
    suite = r.json()["suite"]
    assert suite["criterion"] == "all-decisions" and suite["tests"] and suite["model"] == "login"
    pairwise = client.post(
        "/api/generate", json={"doc": {"model": login_model()}, "options": {"data": "pairwise"}}, headers=HEADERS
    ).json()["suite"]
    assert pairwise["options"] == {"data": "pairwise"}
    bad = client.post(
        "/api/generate", json={"doc": {"model": login_model()}, "options": {"data": "lots"}}, headers=HEADERS
    )
    assert bad.status_code == 422 and "data mode" in bad.json()["error"]["message"]


def test_import_bpmn_gives_the_editor_document(client: TestClient) -> None:
    text = (EXAMPLES / "bpmn" / "login.bpmn").read_text()
    r = client.post("/api/models/import", json={"text": text, "filename": "login.bpmn"}, headers=HEADERS)
    body = r.json()
    assert r.status_code == 200 and body["model"]["id"] == "login"
    assert "<bpmn:definitions" in body["bpmn"] and "login/credentials" in body["tables"]
    garbage = client.post("/api/models/import", json={"text": "<not-bpmn", "filename": "x.bpmn"}, headers=HEADERS)
    assert garbage.status_code == 422 and garbage.json()["error"]["diagnostics"]


def test_security_headers_on_api_responses(client: TestClient) -> None:
    r = client.post("/api/models/validate", json={"doc": {"model": login_model()}}, headers=HEADERS)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"]


def test_editor_document_round_trip_through_bpmn_and_tables(client: TestClient) -> None:
    """What the editor holds (BPMN XML + tables + data) becomes the model; edits in the tables win."""
    text = (EXAMPLES / "login.yaml").read_text()
    loaded = client.post("/api/models/import", json={"text": text, "filename": "login.yaml"}, headers=HEADERS).json()
    tables = loaded["tables"]
    tables["login/open_form"][0]["expected"] = "The form is shown."
    doc = {
        "bpmn": loaded["bpmn"],
        "tables": tables,
        "parameters": loaded["model"]["parameters"],
        "variables": loaded["model"]["variables"],
        "id": "login",
        "name": "Renamed",
    }
    r = client.post("/api/models/validate", json={"doc": doc}, headers=HEADERS).json()
    assert r["ok"] is True
    node = next(n for n in r["model"]["workflows"][0]["nodes"] if n["id"] == "open_form")
    assert node["decisions"][0]["expected"] == "The form is shown."
    assert r["model"]["name"] == "Renamed"
    original = yaml.safe_load(text)
    ids = [n["id"] for n in r["model"]["workflows"][0]["nodes"]]
    assert ids == [n["id"] for n in original["workflows"][0]["nodes"]]
    # a row pointing nowhere is reported on that row's 'next' cell
    tables["login/open_form"][0]["next"] = "nowhere"
    bad = client.post("/api/models/validate", json={"doc": {**doc, "tables": tables}}, headers=HEADERS).json()
    err = next(d for d in bad["diagnostics"] if d["code"] == "unknown-target")
    assert err["path"][-1] == "next" and err["path"][-2] == 0


class _BrokenJiraHost:
    """A host that authenticates everyone and whose Jira client cannot be made (a bug, not bad input)."""

    name = "broken"

    async def authenticate(self, request: Any) -> Any:
        from flowcase.hosts.base import Caller

        return Caller(site_id="s", base_url="http://127.0.0.1:9")

    def jira(self, caller: Any) -> Any:
        raise RuntimeError("secret internal detail")


def test_unexpected_errors_are_json_without_details() -> None:
    app = create_app(Settings(env="test"), hosts=[_BrokenJiraHost()])
    r = TestClient(app, raise_server_exceptions=False).get("/api/models/DEMO-1")
    assert r.status_code == 500
    assert r.json() == {"error": {"code": "internal", "message": "unexpected error; it was logged"}}


@pytest.mark.parametrize("name", ["camunda-order-approval.bpmn", "bpmnio-support-ticket.bpmn"])
def test_import_of_files_from_camunda_modeler_and_bpmn_io(client: TestClient, name: str) -> None:
    path = Path(__file__).resolve().parent / "data" / "bpmn" / name
    r = client.post("/api/models/import", json={"text": path.read_text(), "filename": name}, headers=HEADERS)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["workflows"] and "<bpmn:definitions" in body["bpmn"]
    # what the editor then sends back is the same model
    doc = {
        "bpmn": body["bpmn"],
        "tables": body["tables"],
        "parameters": body["model"].get("parameters", []),
        "variables": body["model"].get("variables", []),
        "id": body["model"]["id"],
    }
    again = client.post("/api/models/validate", json={"doc": doc}, headers=HEADERS).json()
    assert [w["id"] for w in again["model"]["workflows"]] == [w["id"] for w in body["model"]["workflows"]]


@pytest.mark.parametrize(
    "options", [{"loop_bound": "x"}, {"strength": True}, {"purposes": 3}, {"max_paths": 1.5}, {"data": 2}]
)
def test_options_of_the_wrong_type_are_named_in_a_422(client: TestClient, options: dict[str, Any]) -> None:
    r = client.post("/api/generate", json={"doc": {"model": login_model()}, "options": options}, headers=HEADERS)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "bad-option"
    assert repr(next(iter(options))) in error["message"]


def test_results_are_mapped_onto_tests_and_diagram(client: TestClient) -> None:
    suite = client.post("/api/generate", json={"doc": {"model": login_model()}}, headers=HEADERS).json()["suite"]
    first = suite["tests"][0]["id"]
    junit = f'<testsuite><testcase name="{first} x"><failure message="nope"/></testcase></testsuite>'
    r = client.post(
        "/api/results",
        json={"doc": {"model": login_model()}, "files": [{"name": "j.xml", "content": junit}]},
        headers=HEADERS,
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["tests"][first] == "failed" and data["messages"][first] == "nope"
    assert data["counts"]["failed"] == 1 and data["counts"]["not-run"] == len(suite["tests"]) - 1
    assert any(e["level"] == "fail" for e in data["elements"].values())
    bad = client.post(
        "/api/results",
        json={"doc": {"model": login_model()}, "files": [{"name": "j.txt", "content": "hi"}]},
        headers=HEADERS,
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad-results"


def test_generate_keeps_the_pinned_tests_of_the_document_and_answers_the_requirement_matrix(client: TestClient) -> None:
    model = login_model()
    first = client.post("/api/generate", json={"doc": {"model": model}}, headers=HEADERS).json()
    rows = {r["key"]: r for r in first["requirements"]}
    assert rows and all(r["covered"] and r["tests"] and r["decisions"] for r in rows.values())
    by_id = {t["id"]: t for t in first["suite"]["tests"]}
    assert set(rows["DEMO-101"]["tests"]) <= set(by_id)
    # all steps alone needs fewer tests than all decisions: the pinned one stays anyway, exactly as it was
    fewest = client.post(
        "/api/generate", json={"doc": {"model": model}, "criterion": "all-steps"}, headers=HEADERS
    ).json()["suite"]
    pin = next(t for t in first["suite"]["tests"] if t["id"] not in {t["id"] for t in fewest["tests"]})
    kept = client.post(
        "/api/generate", json={"doc": {"model": model, "pins": [pin]}, "criterion": "all-steps"}, headers=HEADERS
    ).json()["suite"]
    again = next(t for t in kept["tests"] if t["id"] == pin["id"])
    assert again == {**pin, "pinned": True}
    assert len(kept["tests"]) <= len(fewest["tests"]) + 1 and kept["lower_bound"] is not None
    # pins are part of the model the editor saves (Jira storage), and a pin that no longer fits is refused clearly
    assert client.post("/api/models/validate", json={"doc": {"model": model, "pins": [pin]}}, headers=HEADERS).json()[
        "model"
    ]["pins"] == [pin]
    gone = {**pin, "steps": [{**pin["steps"][1], "node": "nowhere"}, *pin["steps"][2:]]}
    refused = client.post("/api/generate", json={"doc": {"model": model, "pins": [gone]}}, headers=HEADERS)
    assert refused.status_code == 422 and "no longer fits the model" in refused.json()["error"]["message"]
    not_a_test = client.post("/api/generate", json={"doc": {"model": model, "pins": [{"id": 1}]}}, headers=HEADERS)
    assert not_a_test.status_code == 422 and not_a_test.json()["error"]["code"] == "bad-pin"
