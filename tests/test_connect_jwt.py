"""Canonical request / qsh against Atlassian's 79 interop vectors and the published library vectors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import jwt as pyjwt
import pytest

from flowcase.hosts.connect.jwt import (
    CONTEXT_QSH,
    JwtError,
    canonical_request,
    encode_hs256,
    outgoing_token,
    query_string_hash,
    verify_hs256,
)

VECTORS_FILE = Path(__file__).parent / "data" / "connect-jwt-interop-vectors.json"  # Atlassian's, see data/


def _load() -> dict[str, object]:
    return json.loads(VECTORS_FILE.read_text())  # type: ignore[no-any-return]


DATA = _load()
SECRET = str(DATA["secret"])
VECTORS = list(DATA["tests"])  # type: ignore[call-overload]


def _token(signed_url: str) -> str:
    return signed_url.split("jwt=", 1)[1].split("&", 1)[0]


def test_there_are_79_vectors() -> None:
    assert len(VECTORS) == 79


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_interop_vector(vector: dict[str, str]) -> None:
    base = vector.get("addonBaseUrl") or ""
    url = vector["signedUrl"]
    assert canonical_request("GET", url, base) == vector["canonicalUrl"]
    token = _token(url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the vectors' secret is short
        claims = pyjwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
        assert claims["qsh"] == query_string_hash("GET", url, base)
        # Our verifier accepts it at the time it was issued ...
        verified = verify_hs256(token, SECRET, expected_qsh=query_string_hash("GET", url, base), now=claims["iat"])
        assert verified["iss"] == "jira:1234-5678-9000"
        # ... and refuses it today (expired) and with another URL's qsh.
        with pytest.raises(JwtError, match="expired"):
            verify_hs256(token, SECRET, expected_qsh=claims["qsh"])
        with pytest.raises(JwtError, match="qsh"):
            verify_hs256(token, SECRET, expected_qsh=query_string_hash("GET", url + "&x=1", base), now=claims["iat"])


@pytest.mark.parametrize(
    ("method", "url", "base", "canonical", "qsh"),
    [
        ("GET", "/path", "", "GET&/path&", "799be84a7fa35570087163c0cd9af3abff7ac05c2c12ba0bb1d7eebc984b3ac2"),
        ("GET", "", "", "GET&/&", "c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239"),
        ("GET", "/", "", "GET&/&", "c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239"),
        (
            "GET",
            "/hello-world?lic=none&tz=Australia%2FSydney&cp=%2Fjira&user_key=&loc=en-US&user_id=&jwt=abc"
            "&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_c=channel-servlet-hello-world&xdm_p=1",
            "",
            "GET&/hello-world&cp=%2Fjira&lic=none&loc=en-US&tz=Australia%2FSydney&user_id=&user_key="
            "&xdm_c=channel-servlet-hello-world&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_p=1",
            "8063ff4ca1e41df7bc90c8ab6d0f6207d491cf6dad7c66ea797b4614b71922e9",
        ),
        (
            "POST",
            "https://app.example.com/installed",
            "https://app.example.com",
            "POST&/installed&",
            "4a2e1de8ca74e6cafe8862d332fa3ac7a8e51e692bc6d798ea4dfedc14948bf4",
        ),
        (
            "POST",
            "https://app.example.com/connect/installed",
            "https://app.example.com/connect",
            "POST&/installed&",
            "4a2e1de8ca74e6cafe8862d332fa3ac7a8e51e692bc6d798ea4dfedc14948bf4",
        ),
        (
            "POST",
            "https://x.atlassian.net/rest/api/3/issue",
            "https://x.atlassian.net",
            "POST&/rest/api/3/issue&",
            "a64b1ba2731272596784da7588c6e16deb1619108576546ab4299429d981f400",
        ),
        (
            "GET",
            "https://x.atlassian.net/rest/api/3/search/jql?jql=project%20%3D%20TEST%20ORDER%20BY%20key"
            "&fields=summary,status&maxResults=50",
            "https://x.atlassian.net",
            "GET&/rest/api/3/search/jql&fields=summary%2Cstatus&jql=project%20%3D%20TEST%20ORDER%20BY%20key"
            "&maxResults=50",
            "145e37a20b1e48cc57066671b149de19ef2542824db3e70644c69d724476ace2",
        ),
        (
            "GET",
            "https://x.atlassian.net/rest/api/3/search/jql?jql=project+%3D+TEST+ORDER+BY+key"
            "&fields=summary&fields=status&maxResults=50",
            "https://x.atlassian.net",
            "GET&/rest/api/3/search/jql&fields=status,summary&jql=project%20%3D%20TEST%20ORDER%20BY%20key"
            "&maxResults=50",
            "d7112e4eff647fddccc12f55c6e9f2b834b9b7185a2523768521ab7d8beb979b",
        ),
        (
            "GET",
            "https://x.atlassian.net/wiki/rest/api/content?spaceKey=ABC",
            "https://x.atlassian.net/wiki",
            "GET&/rest/api/content&spaceKey=ABC",
            "81693b5c1e549ffe501b73fc4f0fe91cd460fdd5a5daae7a68a81db537af747c",
        ),
        (
            "GET",
            "/issue-panel?issueKey=TEST-1&projectKey=TEST&xdm_e=https%3A%2F%2Fexample.atlassian.net&lic=none&cp=&jwt=x",
            "",
            "GET&/issue-panel&cp=&issueKey=TEST-1&lic=none&projectKey=TEST&xdm_e=https%3A%2F%2Fexample.atlassian.net",
            "ea7da423046621c9a62772d71e4388ed39fb54414e37e8439d9e276ea9236a70",
        ),
    ],
)
def test_library_and_app_vectors(method: str, url: str, base: str, canonical: str, qsh: str) -> None:
    assert canonical_request(method, url, base) == canonical
    assert query_string_hash(method, url, base) == qsh


def test_canonical_details() -> None:
    assert canonical_request("get", "/hello-world?a&b=foo&c") == "GET&/hello-world&a=&b=foo&c="
    assert canonical_request("GET", "/some/path&a=b") == "GET&/some/path%26a=b&"
    assert (
        canonical_request("POST", "/jira/rest/api/2/project/jira&a=b&c=d?x=y", "https://h/jira")
        == "POST&/rest/api/2/project/jira%26a=b%26c=d&x=y"
    )
    assert (
        canonical_request(
            "GET",
            "/path/to/service?zee_last=param&repeated=parameter 1&first=param"
            "&repeated=parameter 2&repeated=Parameter 2",
        )
        == "GET&/path/to/service&first=param&repeated=Parameter%202,parameter%201,parameter%202&zee_last=param"
    )
    # a base path only strips a whole segment
    assert canonical_request("GET", "/jiraX/a", "https://h/jira") == "GET&/jiraX/a&"


CONTEXT_SECRET = "test-shared-secret-0123456789abcdef0123"
CONTEXT_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiIxMTExMTExMS0yMjIyLTMzMzMtNDQ0NC01NTU1NTU1NTU1NTUiLCJzdWIiOiI1NTcwNT"
    "g6ZjAwZGJhYmUtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAxIiwicXNoIjoiY29udGV4dC1xc2giLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcw"
    "MDAwMDkwMCwiY29udGV4dCI6eyJqaXJhIjp7Imlzc3VlIjp7ImtleSI6IlRFU1QtMSIsImlkIjoiMTAwMDEifSwicHJvamVjdCI6eyJrZXkiOiJURV"
    "NUIiwiaWQiOiIxMDAwMCJ9fX19.mW2o4QIMh_D5WL8-gUBN0tydG7qhEFv7Y_9-TH7RoAE"
)


def test_context_token_vector_accepted_only_where_meant() -> None:
    claims = verify_hs256(CONTEXT_TOKEN, CONTEXT_SECRET, expected_qsh=None, allow_context=True, now=1_700_000_100)
    assert claims["context"]["jira"]["issue"]["key"] == "TEST-1"
    with pytest.raises(JwtError) as refused:
        verify_hs256(CONTEXT_TOKEN, CONTEXT_SECRET, expected_qsh="a" * 64, allow_context=False, now=1_700_000_100)
    assert refused.value.status == 403
    assert claims["qsh"] == CONTEXT_QSH


def test_outgoing_token_matches_reference_claims() -> None:
    token = outgoing_token(
        "POST",
        "https://x.atlassian.net/rest/api/3/issue",
        app_key="com.example.testdesign",
        client_key="11111111-2222-3333-4444-555555555555",
        secret=CONTEXT_SECRET,
        base_url="https://x.atlassian.net",
        now=1_700_000_000,
    )
    claims = pyjwt.decode(
        token,
        CONTEXT_SECRET,
        algorithms=["HS256"],
        audience="11111111-2222-3333-4444-555555555555",
        options={"verify_exp": False},
    )
    assert claims == {
        "iss": "com.example.testdesign",
        "aud": ["11111111-2222-3333-4444-555555555555"],
        "iat": 1_700_000_000,
        "exp": 1_700_000_180,
        "qsh": "a64b1ba2731272596784da7588c6e16deb1619108576546ab4299429d981f400",
    }


def test_leeway_and_future_iat() -> None:
    token = encode_hs256({"iss": "t", "iat": 1000, "exp": 1180, "qsh": CONTEXT_QSH}, CONTEXT_SECRET)
    assert verify_hs256(token, CONTEXT_SECRET, expected_qsh=None, allow_context=True, now=1200, leeway=30)
    with pytest.raises(JwtError, match="expired"):
        verify_hs256(token, CONTEXT_SECRET, expected_qsh=None, allow_context=True, now=1211, leeway=30)
    with pytest.raises(JwtError, match="future"):
        verify_hs256(token, CONTEXT_SECRET, expected_qsh=None, allow_context=True, now=900, leeway=30)
