"""Pure parts of the sandbox: its own qsh implementation against Atlassian's interop vectors, and the JQL subset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest

from flowcase.sandbox import jql
from flowcase.sandbox.adf import AdfError, validate_adf
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.qsh import canonical_request, query_string_hash

VECTORS = json.loads((Path(__file__).parent / "data" / "connect-jwt-interop-vectors.json").read_text())


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # Atlassian's vector secret
@pytest.mark.parametrize("vector", VECTORS["tests"], ids=lambda v: v["name"])
def test_canonical_request_matches_atlassian_vectors(vector: dict[str, Any]) -> None:
    base = vector.get("addonBaseUrl") or ""
    assert canonical_request("GET", vector["signedUrl"], base) == vector["canonicalUrl"]
    token = vector["signedUrl"].split("jwt=")[1].split("&")[0]
    claims = pyjwt.decode(token, VECTORS["secret"], algorithms=["HS256"], options={"verify_exp": False})
    assert claims["qsh"] == query_string_hash("GET", vector["signedUrl"], base)


def test_base_path_is_stripped_by_whole_segments_only() -> None:
    assert canonical_request("GET", "/baseball/x", "https://h/base") == "GET&/baseball/x&"
    assert canonical_request("GET", "/base/x", "https://h/base/") == "GET&/x&"


def test_qsh_of_app_shaped_requests() -> None:
    assert query_string_hash("POST", "https://x.atlassian.net/rest/api/3/issue") == (
        "a64b1ba2731272596784da7588c6e16deb1619108576546ab4299429d981f400"
    )
    assert canonical_request("GET", "https://x/wiki/rest/api/content?spaceKey=ABC", "https://x/wiki") == (
        "GET&/rest/api/content&spaceKey=ABC"
    )


def rows() -> list[jql.Row]:
    def row(n: int, labels: list[str], props: dict[str, Any], itype: str = "Story") -> jql.Row:
        return jql.Row(
            id=10000 + n,
            key=f"P-{n}",
            number=n,
            project_key="P",
            project_id=1,
            issuetype_id=1,
            issuetype_name=itype,
            summary=f"summary {n}",
            text="",
            labels=labels,
            created=f"2026-01-0{n}",
            updated="",
            properties=props,
        )

    return [
        row(1, ["a"], {"s": {"status": "draft", "n": 3, "tags": ["x", "y"]}}),
        row(2, ["a", "b"], {"s": {"status": "published", "n": 12}}),
        row(10, [], {}, "Test"),
    ]


RESOLVER_ALIASES = {
    "st": jql.Extraction("s", "status", "string"),
    "cnt": jql.Extraction("s", "n", "number"),
    "tag": jql.Extraction("s", "tags", "string"),
}


def run(text: str) -> list[str]:
    resolver = jql.Resolver({"P": 1}, {"Story": 1, "Test": 2}, {"P-1", "P-2", "P-10"}, RESOLVER_ALIASES)
    return [r.key for r in jql.parse(text, resolver).apply(rows())]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("project = P", ["P-1", "P-2", "P-10"]),  # ORDER BY key is numeric, not text
        ("project = P ORDER BY key DESC", ["P-10", "P-2", "P-1"]),
        ("labels = a AND labels = b", ["P-2"]),
        ("labels = b OR issuetype = Test ORDER BY key", ["P-2", "P-10"]),
        ("labels = a AND (labels = b OR cnt < 5)", ["P-1", "P-2"]),
        ("NOT labels = a", ["P-10"]),
        ("labels is EMPTY", ["P-10"]),
        ("labels is not EMPTY", ["P-1", "P-2"]),
        ("st = draft", ["P-1"]),
        ("st != draft", ["P-2", "P-10"]),
        ("cnt >= 3 ORDER BY created DESC", ["P-2", "P-1"]),
        ("tag = y", ["P-1"]),
        ("st in (draft, published) AND cnt > 10", ["P-2"]),
        ('issue.property["s"].status = "published"', ["P-2"]),
        ("key > P-1 AND project = P", ["P-2", "P-10"]),
        ("summary ~ 'summary 1*'", ["P-1", "P-10"]),
    ],
)
def test_jql_subset(text: str, keys: list[str]) -> None:
    assert run(text) == keys


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ORDER BY key", "Unbounded"),
        ("", "Unbounded"),
        ("labels = a ORDER BY rank", "Not able to sort using field 'rank'"),
        ("foo = 1", "Field 'foo' does not exist"),
        ("labels ~ a", "operator '~' is not supported"),
        ("project = P AND", "Expecting a field name"),
        ("(project = P", "Expecting ')'"),
        ("project = P labels = a", "Expecting either 'OR' or 'AND'"),
        ("project = Q", "The value 'Q' does not exist for the field 'project'"),
        ("labels in a", "Expecting '(' after IN"),
        ("project = P ORDER BY key, created, updated, summary, key, key, key, key", "at most 7"),
    ],
)
def test_jql_errors_are_jira_like(text: str, message: str) -> None:
    with pytest.raises(JiraHTTPError) as exc:
        run(text)
    assert exc.value.status == 400 and message in exc.value.messages[0]


def test_aliases_are_read_from_descriptors() -> None:
    descriptor = {
        "modules": {
            "jiraEntityProperties": [
                {
                    "key": "i",
                    "entityType": "issue",
                    "keyConfigurations": [
                        {
                            "propertyKey": "flowcase-summary",
                            "extractions": [
                                {"objectName": "testCount", "type": "number", "alias": "flowcaseTestCount"}
                            ],
                        }
                    ],
                },
                {
                    "key": "p",
                    "entityType": "project",
                    "keyConfigurations": [
                        {
                            "propertyKey": "x",
                            "extractions": [{"objectName": "a", "type": "string", "alias": "projectOnly"}],
                        }
                    ],
                },
            ]
        }
    }
    aliases = jql.aliases_from_descriptors([descriptor])
    assert aliases == {"flowcaseTestCount": jql.Extraction("flowcase-summary", "testCount", "number")}


@pytest.mark.parametrize(
    "doc",
    [
        None,
        "text",
        {"type": "doc"},
        {"type": "doc", "version": 2, "content": []},
        {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}]},
        {"type": "doc", "version": 1, "content": [{"type": "script"}]},
    ],
)
def test_adf_validation_refuses_non_documents(doc: Any) -> None:
    with pytest.raises(AdfError):
        validate_adf(doc)
