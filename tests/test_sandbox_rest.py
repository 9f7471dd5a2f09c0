"""The sandbox's Jira REST v3 subset: behaviour, Jira's limits and Jira-shaped errors (Basic auth, in-process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from flowcase.sandbox import SandboxConfig, create_sandbox_app

BASE = "http://sandbox.test"


def adf(text: str) -> dict[str, Any]:
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    return {"type": "doc", "version": 1, "content": [paragraph]}


def story(summary: str, **fields: Any) -> dict[str, Any]:
    return {"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Story"}, "summary": summary, **fields}}


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_sandbox_app(SandboxConfig(base_url=BASE, api_token="tok", demo_data=True, max_links_per_issue=3))
    with TestClient(app, base_url=BASE) as c:
        c.auth = ("demo@example.com", "tok")
        c.sandbox = app.sandbox  # type: ignore[attr-defined]
        yield c


def error_shape(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"errorMessages", "errors"}
    return body


def test_unauthenticated_and_wrong_token_are_401_with_jira_error_body(client: TestClient) -> None:
    anonymous = client.get("/rest/api/3/myself", auth=None)
    assert anonymous.status_code == 401
    assert error_shape(anonymous)["errorMessages"]
    assert client.get("/rest/api/3/myself", auth=("demo@example.com", "nope")).status_code == 401
    assert client.get("/rest/api/3/myself", headers={"Authorization": "Bearer x"}, auth=None).status_code == 401
    assert client.get("/rest/api/3/myself").json()["emailAddress"] == "demo@example.com"


def test_server_info_is_public(client: TestClient) -> None:
    info = client.get("/rest/api/3/serverInfo", auth=None).json()
    assert info["deploymentType"] == "Cloud" and info["baseUrl"] == BASE


def test_projects_issue_types_and_createmeta(client: TestClient) -> None:
    projects = client.get("/rest/api/3/project/search").json()
    assert [p["key"] for p in projects["values"]] == ["DEMO"]
    types = client.get("/rest/api/3/issue/createmeta/DEMO/issuetypes").json()["issueTypes"]
    names = {t["name"]: t["id"] for t in types}
    assert set(names) == {"Epic", "Story", "Task", "Bug", "Subtask"}  # a fresh site: no "Test" issue type
    fields = client.get(f"/rest/api/3/issue/createmeta/DEMO/issuetypes/{names['Task']}").json()["fields"]
    assert {f["key"]: f["required"] for f in fields}["summary"] is True
    assert client.get("/rest/api/3/issue/createmeta/NOPE/issuetypes").status_code == 404


def test_create_get_and_edit_issue(client: TestClient) -> None:
    created = client.post("/rest/api/3/issue", json=story("Login works", description=adf("Steps"), labels=["a"]))
    assert created.status_code == 201
    key = created.json()["key"]
    assert key == "DEMO-5"  # four demo stories exist
    issue = client.get(f"/rest/api/3/issue/{key}", params={"fields": "summary,labels,description"}).json()
    assert set(issue["fields"]) == {"summary", "labels", "description"}
    assert issue["fields"]["description"]["content"][0]["content"][0]["text"] == "Steps"
    edit = {"fields": {"summary": "Login still works"}, "update": {"labels": [{"add": "b"}, {"remove": "a"}]}}
    assert client.put(f"/rest/api/3/issue/{key}", json=edit).status_code == 204
    fields = client.get(f"/rest/api/3/issue/{key}").json()["fields"]
    assert fields["summary"] == "Login still works" and fields["labels"] == ["b"]
    assert client.get("/rest/api/3/issue/DEMO-999").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (story("x", description="plain text is not ADF"), "description"),
        (story("x", description={"type": "doc", "version": 1, "content": [{"type": "blink"}]}), "description"),
        (story(""), "summary"),
        (story("x" * 256), "summary"),
        (story("x", labels=["has space"]), "labels"),
        (story("x", customfield_1="?"), "customfield_1"),
        ({"fields": {"project": {"key": "NOPE"}, "issuetype": {"name": "Story"}, "summary": "x"}}, "project"),
        ({"fields": {"project": {"key": "DEMO"}, "summary": "x"}}, "issuetype"),
    ],
)
def test_create_refuses_what_jira_refuses(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/rest/api/3/issue", json=body)
    assert response.status_code == 400
    assert field in error_shape(response)["errors"]


def test_invalid_json_body_is_400(client: TestClient) -> None:
    response = client.post("/rest/api/3/issue", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and error_shape(response)["errorMessages"]


def test_bulk_create_reports_partial_errors_like_jira(client: TestClient) -> None:
    updates = [story("one"), story(""), story("three"), story("x", description="text")]
    response = client.post("/rest/api/3/issue/bulk", json={"issueUpdates": updates})
    assert response.status_code == 201
    body = response.json()
    assert [i["key"] for i in body["issues"]] == ["DEMO-5", "DEMO-6"]
    assert [e["failedElementNumber"] for e in body["errors"]] == [1, 3]
    assert body["errors"][0]["status"] == 400
    assert "summary" in body["errors"][0]["elementErrors"]["errors"]
    all_bad = client.post("/rest/api/3/issue/bulk", json={"issueUpdates": [story("")]})
    assert all_bad.status_code == 400 and all_bad.json()["issues"] == []


def test_bulk_create_limit_is_50(client: TestClient) -> None:
    assert (
        client.post("/rest/api/3/issue/bulk", json={"issueUpdates": [story(f"s{i}") for i in range(50)]}).status_code
        == 201
    )
    too_many = client.post("/rest/api/3/issue/bulk", json={"issueUpdates": [story(f"s{i}") for i in range(51)]})
    assert too_many.status_code == 400 and error_shape(too_many)["errorMessages"]
    assert client.sandbox.calls.count("POST", "/rest/api/3/issue/bulk") == 2  # type: ignore[attr-defined]


def test_links_types_and_per_issue_limit(client: TestClient) -> None:
    names = [t["name"] for t in client.get("/rest/api/3/issueLinkType").json()["issueLinkTypes"]]
    assert set(names) == {"Relates", "Blocks", "Cloners", "Duplicate"}  # a fresh site: no "Test" link type
    link = {"type": {"name": "Relates"}, "inwardIssue": {"key": "DEMO-2"}, "outwardIssue": {"key": "DEMO-1"}}
    response = client.post("/rest/api/3/issueLink", json=link)
    assert response.status_code == 201 and response.content == b""
    links = client.get("/rest/api/3/issue/DEMO-1", params={"fields": "issuelinks"}).json()["fields"]["issuelinks"]
    assert links[0]["inwardIssue"]["key"] == "DEMO-2" and links[0]["type"]["name"] == "Relates"
    assert client.post("/rest/api/3/issueLink", json={**link, "type": {"name": "Nope"}}).status_code == 404
    assert client.post("/rest/api/3/issueLink", json={**link, "inwardIssue": {"key": "DEMO-99"}}).status_code == 404
    # The same link again: answered "created", as Jira does, but not stored twice.
    assert client.post("/rest/api/3/issueLink", json=link).status_code == 201
    again = client.get("/rest/api/3/issue/DEMO-1", params={"fields": "issuelinks"}).json()["fields"]["issuelinks"]
    assert len(again) == 1
    for other in ("DEMO-3", "DEMO-4"):
        assert client.post("/rest/api/3/issueLink", json={**link, "inwardIssue": {"key": other}}).status_code == 201
    blocked = {**link, "type": {"name": "Blocks"}}
    assert client.post("/rest/api/3/issueLink", json=blocked).status_code == 413  # limit 3 in this fixture
    link_id = links[0]["id"]
    assert client.delete(f"/rest/api/3/issueLink/{link_id}").status_code == 204
    assert client.get(f"/rest/api/3/issueLink/{link_id}").status_code == 404


def test_issue_property_limits(client: TestClient) -> None:
    url = "/rest/api/3/issue/DEMO-1/properties/"
    at_limit = json.dumps("x" * (32768 - 2))  # a JSON string of exactly 32,768 characters
    assert len(at_limit) == 32768
    assert client.put(url + "big", content=at_limit).status_code == 201
    assert client.put(url + "big", content=at_limit).status_code == 200
    over = client.put(url + "big", content=json.dumps("x" * (32768 - 1)))
    assert over.status_code == 400 and error_shape(over)["errorMessages"]
    assert client.put(url + "k" * 255, content="1").status_code == 201
    assert client.put(url + "k" * 256, content="1").status_code == 400
    assert client.put(url + "bad", content="{not json").status_code == 400
    assert client.put(url + "empty", content="").status_code == 400
    assert client.get(url + "big").json() == {"key": "big", "value": "x" * 32766}
    keys = [k["key"] for k in client.get("/rest/api/3/issue/DEMO-1/properties").json()["keys"]]
    assert keys == sorted(["big", "k" * 255])
    assert client.delete(url + "big").status_code == 204
    missing = client.get(url + "big")
    assert missing.status_code == 404 and error_shape(missing)["errorMessages"]


def test_create_with_properties_and_project_properties(client: TestClient) -> None:
    body = {**story("with props"), "properties": [{"key": "p1", "value": {"n": 1}}]}
    key = client.post("/rest/api/3/issue", json=body).json()["key"]
    assert client.get(f"/rest/api/3/issue/{key}/properties/p1").json()["value"] == {"n": 1}
    assert client.put("/rest/api/3/project/DEMO/properties/cfg", json={"a": 1}).status_code == 201
    assert client.get("/rest/api/3/project/DEMO/properties/cfg").json()["value"] == {"a": 1}
    project_id = client.get("/rest/api/3/project/DEMO").json()["id"]
    assert client.get("/rest/api/3/project/DEMO/properties").json()["keys"] == [
        {"self": f"{BASE}/rest/api/3/project/{project_id}/properties/cfg", "key": "cfg"}
    ]
    assert client.delete("/rest/api/3/project/DEMO/properties/cfg").status_code == 204
    assert client.get("/rest/api/3/project/DEMO/properties").json()["keys"] == []


def test_app_properties_need_the_app_itself(client: TestClient) -> None:
    response = client.put("/rest/atlassian-connect/1/addons/flowcase/properties/cfg", json={"a": 1})
    assert response.status_code == 401 and error_shape(response)["errorMessages"]


def test_attachments_need_the_xsrf_header(client: TestClient) -> None:
    url = "/rest/api/3/issue/DEMO-1/attachments"
    files = {"file": ("model.json.gz", b"\x1f\x8b data", "application/gzip")}
    refused = client.post(url, files=files)
    assert refused.status_code == 403 and error_shape(refused)["errorMessages"] == ["XSRF check failed"]
    created = client.post(url, files=files, headers={"X-Atlassian-Token": "no-check"})
    assert created.status_code == 200
    att = created.json()[0]
    assert att["filename"] == "model.json.gz" and att["size"] == len(b"\x1f\x8b data")
    assert client.get(f"/rest/api/3/attachment/content/{att['id']}").content == b"\x1f\x8b data"
    assert client.delete(f"/rest/api/3/attachment/{att['id']}").status_code == 204
    assert client.get(f"/rest/api/3/attachment/{att['id']}").status_code == 404


def test_comments_take_adf(client: TestClient) -> None:
    assert client.post("/rest/api/3/issue/DEMO-1/comment", json={"body": "text"}).status_code == 400
    assert client.post("/rest/api/3/issue/DEMO-1/comment", json={"body": adf("hi")}).status_code == 201
    assert client.get("/rest/api/3/issue/DEMO-1/comment").json()["total"] == 1


def test_search_jql_is_bounded_and_pages_with_tokens(client: TestClient) -> None:
    unbounded = client.get("/rest/api/3/search/jql", params={"jql": "ORDER BY key"})
    assert unbounded.status_code == 400 and "Unbounded" in error_shape(unbounded)["errorMessages"][0]
    ids_only = client.get("/rest/api/3/search/jql", params={"jql": "project = DEMO"}).json()
    assert ids_only["issues"][0] == {"id": "10001"} and ids_only["isLast"] is True
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"jql": "project = DEMO ORDER BY key DESC", "fields": "summary", "maxResults": 3}
        if token:
            params["nextPageToken"] = token
        page = client.get("/rest/api/3/search/jql", params=params).json()
        seen += [i["key"] for i in page["issues"]]
        pages += 1
        if page["isLast"]:
            assert "nextPageToken" not in page
            break
        token = page["nextPageToken"]
    assert seen == ["DEMO-4", "DEMO-3", "DEMO-2", "DEMO-1"] and pages == 2
    bad = client.get("/rest/api/3/search/jql", params={"jql": "project = DEMO", "nextPageToken": "garbage"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("jql", "keys"),
    [
        ("project = DEMO AND labels = account ORDER BY key", ["DEMO-2", "DEMO-4"]),
        ("labels in (search, export) ORDER BY key", ["DEMO-3", "DEMO-4"]),
        ("key = DEMO-1 OR key = demo-3", ["DEMO-1", "DEMO-3"]),
        ("key in (DEMO-1, DEMO-2) AND NOT labels = account", ["DEMO-1"]),
        ("issuetype = Story AND labels not in (account)", ["DEMO-1", "DEMO-3"]),
        ("project = DEMO AND (labels = search OR labels = checkout)", ["DEMO-1", "DEMO-3"]),
        ("summary ~ password", ["DEMO-2"]),
        ("issuetype = Task", []),
        ("project = DEMO AND labels is EMPTY", []),
        ("issue.property[shop].tier = gold", ["DEMO-2"]),
        ("issue.property[shop].score >= 5", ["DEMO-2"]),
    ],
)
def test_search_jql_clauses(client: TestClient, jql: str, keys: list[str]) -> None:
    client.put("/rest/api/3/issue/DEMO-2/properties/shop", json={"tier": "gold", "score": 7})
    client.put("/rest/api/3/issue/DEMO-3/properties/shop", json={"tier": "silver", "score": 2})
    response = client.post("/rest/api/3/search/jql", json={"jql": jql, "fields": ["key"]})
    assert response.status_code == 200, response.text
    assert [i["key"] for i in response.json()["issues"]] == keys


@pytest.mark.parametrize(
    "jql",
    [
        "nosuchfield = 1",
        "project = NOPE",
        "project = DEMO ORDER BY priority",
        "project = ",
        "project = DEMO AND",
        "issuetype = Nope",
        "key = not-a-key!",
    ],
)
def test_search_jql_errors(client: TestClient, jql: str) -> None:
    response = client.get("/rest/api/3/search/jql", params={"jql": jql})
    assert response.status_code == 400
    assert error_shape(response)["errorMessages"]


def test_search_returns_requested_properties(client: TestClient) -> None:
    client.put("/rest/api/3/issue/DEMO-2/properties/shop", json={"tier": "gold"})
    page = client.get("/rest/api/3/search/jql", params={"jql": "key = DEMO-2", "properties": "shop"}).json()
    assert page["issues"][0]["properties"] == {"shop": {"tier": "gold"}}
    six = client.get("/rest/api/3/search/jql", params={"jql": "key = DEMO-2", "properties": "a,b,c,d,e,f"})
    assert six.status_code == 400


def test_old_search_is_gone_and_get_with_body_is_403(client: TestClient) -> None:
    assert client.get("/rest/api/3/search", params={"jql": "project = DEMO"}).status_code == 410
    with_body = client.request("GET", "/rest/api/3/myself", content=b"{}")
    assert with_body.status_code == 403 and error_shape(with_body)["errorMessages"]


def test_permissions(client: TestClient) -> None:
    assert client.get("/rest/api/3/mypermissions").status_code == 400
    mine = client.get("/rest/api/3/mypermissions", params={"permissions": "CREATE_ISSUES,ADMINISTER"}).json()
    assert mine["permissions"]["CREATE_ISSUES"]["havePermission"] is True
    viewer = "557058:5a1d0c3e-0b7e-4c51-9d43-5a7d0e5c0002"
    body = {
        "accountId": viewer,
        "globalPermissions": ["ADMINISTER"],
        "projectPermissions": [{"permissions": ["BROWSE_PROJECTS", "EDIT_ISSUES"], "projects": [10000]}],
    }
    checked = client.post("/rest/api/3/permissions/check", json=body).json()
    assert checked["globalPermissions"] == []
    assert checked["projectPermissions"] == [
        {"permission": "BROWSE_PROJECTS", "projects": [10000], "issues": []},
        {"permission": "EDIT_ISSUES", "projects": [], "issues": []},
    ]


def test_unknown_rest_path_is_jira_shaped_404(client: TestClient) -> None:
    response = client.get("/rest/api/3/nothing-here")
    assert response.status_code == 404 and error_shape(response)["errorMessages"]
