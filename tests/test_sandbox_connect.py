"""The sandbox as Jira checks an app's signed calls, installs apps with signed lifecycle events and signs
iframe URLs. Sandbox and a tiny Connect app run for real on 127.0.0.1."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from flowcase.sandbox.connect import InstallError, install, uninstall
from flowcase.sandbox.qsh import canonical_request, query_string_hash
from flowcase.sandbox.server import serve_in_thread
from flowcase.sandbox.testing import RunningSandbox, TinyApp, running_sandbox, running_tiny_app

HTTP = httpx.Client(timeout=10)


@pytest.fixture(scope="module", autouse=True)
def _http_closed() -> Iterator[None]:
    """The module's client closes its pooled connections when the module's tests end (left to the interpreter's exit,
    they were ResourceWarnings that no test saw)."""
    yield
    HTTP.close()


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[RunningSandbox, TinyApp]]:
    with running_sandbox(demo_data=True) as sb, running_tiny_app(sb) as tiny:
        yield sb, tiny


def call(sb: RunningSandbox, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
    return HTTP.request(method, sb.base_url + path, headers={"Authorization": f"JWT {token}"}, **kwargs)


def test_signed_install_reached_the_app_and_it_verified_it(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    assert tiny.failures == []
    assert tiny.installs[0]["clientKey"] == sb.sandbox.client_key
    assert tiny.installs[0]["baseUrl"] == sb.base_url
    assert tiny.secret == sb.sandbox.installation(tiny.key).shared_secret  # type: ignore[union-attr]


def test_key_server_publishes_only_the_current_kid(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, _ = env
    kid = sb.sandbox.signing_key.kid
    assert HTTP.get(f"{sb.key_server}/{kid}").text.startswith("-----BEGIN PUBLIC KEY-----")
    assert HTTP.get(f"{sb.key_server}/sandbox/unknown").status_code == 404


def test_app_call_with_valid_jwt_is_accepted(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    path = "/rest/api/3/search/jql?jql=project%20%3D%20DEMO&fields=summary,labels"
    response = call(sb, "GET", path, sb.app_token(tiny.key, "GET", path))
    assert response.status_code == 200, response.text
    me = call(sb, "GET", "/rest/api/3/myself", sb.app_token(tiny.key, "GET", "/rest/api/3/myself")).json()
    assert me["accountType"] == "app"


def test_wrong_qsh_is_refused(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    signed_for = "/rest/api/3/issue/DEMO-1"
    token = sb.app_token(tiny.key, "GET", signed_for)
    response = call(sb, "GET", "/rest/api/3/issue/DEMO-2", token)
    assert response.status_code == 401
    assert response.json() == {"errorMessages": ["JWT query string hash does not match the request."], "errors": {}}
    tampered_query = call(sb, "GET", signed_for + "?fields=summary", token)
    assert tampered_query.status_code == 401
    wrong_method = call(sb, "PUT", signed_for, token, json={"fields": {"summary": "x"}})
    assert wrong_method.status_code == 401


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("expired", {"iat": int(time.time()) - 400, "exp": int(time.time()) - 200}),
        ("lifetime too long", {"exp": int(time.time()) + 7200}),
        ("issued in the future", {"iat": int(time.time()) + 600, "exp": int(time.time()) + 700}),
        ("context qsh", {"qsh": "context-qsh"}),
        ("unknown app", {"iss": "someone-else"}),
        ("wrong audience", {"aud": ["another-site"]}),
        ("wrong secret", {"secret": "not-the-shared-secret-not-the-shared-secret"}),
    ],
)
def test_bad_tokens_are_refused(env: tuple[RunningSandbox, TinyApp], case: str, kwargs: dict[str, Any]) -> None:
    sb, tiny = env
    path = "/rest/api/3/myself"
    response = call(sb, "GET", path, sb.app_token(tiny.key, "GET", path, **kwargs))
    assert response.status_code == 401, case
    assert response.json()["errorMessages"]


def test_missing_qsh_and_other_algorithms_are_refused(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    secret = sb.sandbox.installation(tiny.key).shared_secret  # type: ignore[union-attr]
    now = int(time.time())
    no_qsh = jwt.encode({"iss": tiny.key, "iat": now, "exp": now + 60}, secret, algorithm="HS256")
    assert call(sb, "GET", "/rest/api/3/myself", no_qsh).status_code == 401
    claims = {"iss": tiny.key, "iat": now, "exp": now + 60, "qsh": query_string_hash("GET", "/rest/api/3/myself")}
    hs512 = jwt.encode(claims, secret + "x" * 64, algorithm="HS512")
    assert call(sb, "GET", "/rest/api/3/myself", hs512).status_code == 401
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert call(sb, "GET", "/rest/api/3/myself", unsigned).status_code == 401


def test_scopes_limit_what_the_app_may_do(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env  # the tiny app asks for READ and WRITE only
    path = "/rest/api/3/issue/DEMO-3/properties/x"
    assert call(sb, "PUT", path, sb.app_token(tiny.key, "PUT", path), json=1).status_code == 201
    refused = call(sb, "DELETE", path, sb.app_token(tiny.key, "DELETE", path))
    assert refused.status_code == 403 and refused.json()["errorMessages"]


def test_app_properties_belong_to_their_app(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    own = f"/rest/atlassian-connect/1/addons/{tiny.key}/properties/config"
    assert call(sb, "PUT", own, sb.app_token(tiny.key, "PUT", own), json={"v": 1}).status_code == 201
    assert call(sb, "PUT", own, sb.app_token(tiny.key, "PUT", own), json={"v": 2}).status_code == 200
    assert call(sb, "GET", own, sb.app_token(tiny.key, "GET", own)).json()["value"] == {"v": 2}
    keys = own.rsplit("/", 1)[0]
    assert call(sb, "GET", keys, sb.app_token(tiny.key, "GET", keys)).json()["keys"] == [
        {"self": f"{sb.base_url}{keys}/config", "key": "config"}
    ]
    long_key = own.rsplit("/", 1)[0] + "/" + "k" * 128
    assert call(sb, "PUT", long_key, sb.app_token(tiny.key, "PUT", long_key), json=1).status_code == 400
    other = "/rest/atlassian-connect/1/addons/flowcase/properties/config"
    assert call(sb, "GET", other, sb.app_token(tiny.key, "GET", other)).status_code == 401


def test_jql_aliases_come_from_the_installed_descriptor(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, _ = env
    auth = sb.basic_auth()
    HTTP.put(
        f"{sb.base_url}/rest/api/3/issue/DEMO-4/properties/tiny-summary",
        json={"status": "ready", "count": 12},
        auth=auth,
    )
    search = f"{sb.base_url}/rest/api/3/search/jql"
    for jql, keys in [("tinyStatus = ready", ["DEMO-4"]), ("tinyCount > 10", ["DEMO-4"]), ("tinyCount < 10", [])]:
        page = HTTP.post(search, json={"jql": jql, "fields": ["key"]}, auth=auth).json()
        assert [i["key"] for i in page["issues"]] == keys, jql
    assert HTTP.post(search, json={"jql": "flowcaseStatus = x"}, auth=auth).status_code == 400  # not installed


def test_issue_page_embeds_the_panel_with_a_signed_url(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    page = HTTP.get(f"{sb.base_url}/browse/DEMO-1")
    assert page.status_code == 200
    assert f"frame-src {tiny.base_url}" in page.headers["content-security-policy"]
    src = html.unescape(re.search(r'<iframe[^>]+src="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    assert src.startswith(f"{tiny.base_url}/panel?issueKey=DEMO-1&projectKey=DEMO&xdm_e=")
    token = src.split("&jwt=")[1]
    claims = jwt.decode(token, tiny.secret, algorithms=["HS256"])
    assert claims["iss"] == sb.sandbox.client_key and claims["exp"] - claims["iat"] == 180
    assert claims["qsh"] == query_string_hash("GET", src, tiny.base_url)
    assert canonical_request("GET", src).startswith("GET&/panel&cp=&cv=")
    rendered = HTTP.get(src)  # the tiny app checks signature and qsh itself
    assert rendered.status_code == 200 and "verified" in rendered.text
    assert HTTP.get(src.replace("DEMO-1", "DEMO-2")).status_code == 401


def test_project_admin_and_general_pages(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    assert "DEMO-4" in HTTP.get(f"{sb.base_url}/projects/DEMO").text
    assert tiny.key in HTTP.get(f"{sb.base_url}/admin").text
    for path, expected in [
        ("/projects/DEMO/apps/{app}/tiny-project", "projectKey=DEMO&"),
        ("/admin/apps/{app}/tiny-admin", "/panel?xdm_e="),
    ]:
        module_page = HTTP.get(sb.base_url + path.format(app=tiny.key))
        src = html.unescape(re.search(r'<iframe[^>]+src="([^"]+)"', module_page.text).group(1))  # type: ignore[union-attr]
        assert expected in src and HTTP.get(src).status_code == 200
    general = HTTP.get(f"{sb.base_url}/plugins/servlet/ac/{tiny.key}/tiny-dialog?issue.key=DEMO-2&ac.x=1")
    src = html.unescape(re.search(r'<iframe[^>]+src="([^"]+)"', general.text).group(1))  # type: ignore[union-attr]
    assert "issueKey=DEMO-2" in src and "ac.x=1" in src
    assert HTTP.get(src).status_code == 200
    assert HTTP.get(f"{sb.base_url}/plugins/servlet/ac/{tiny.key}/nope").status_code == 404
    assert HTTP.get(f"{sb.base_url}/browse/NOPE-1").status_code == 404


def _page_token(sb: RunningSandbox) -> str:
    page = HTTP.get(f"{sb.base_url}/browse/DEMO-1").text
    config = re.search(r'id="sandbox-host-config">(.*?)</script>', page).group(1)  # type: ignore[union-attr]
    import json

    return str(json.loads(config)["token"])


def test_bridge_checks_origin_and_page_token(env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    url = f"{sb.base_url}/_sandbox/bridge/token"
    good = {"Origin": sb.base_url, "X-Sandbox-Page": _page_token(sb)}
    assert HTTP.post(url, json={"app": tiny.key}, headers={**good, "Origin": "http://evil.test"}).status_code == 403
    assert HTTP.post(url, json={"app": tiny.key}, headers={**good, "X-Sandbox-Page": "x.y"}).status_code == 403
    response = HTTP.post(url, json={"app": tiny.key}, headers=good)
    claims = jwt.decode(response.json()["token"], tiny.secret, algorithms=["HS256"])
    assert claims["qsh"] == "context-qsh" and claims["context"]["jira"]["issue"]["key"] == "DEMO-1"
    proxied = HTTP.post(
        f"{sb.base_url}/_sandbox/bridge/request",
        headers=good,
        json={"app": tiny.key, "url": "/rest/api/3/issue/DEMO-1?fields=summary"},
    )
    assert proxied.json()["status"] == 200
    outside = HTTP.post(
        f"{sb.base_url}/_sandbox/bridge/request",
        headers=good,
        json={"app": tiny.key, "url": "http://elsewhere.test/rest/api/3/myself"},
    )
    assert outside.status_code == 400


def test_reinstall_rotates_the_secret_and_uninstall_is_signed() -> None:
    with running_sandbox() as sb, running_tiny_app(sb) as tiny:
        first = tiny.secret
        sb.install(f"{tiny.base_url}/atlassian-connect.json")
        assert tiny.secret != first and tiny.failures == []
        asyncio.run(uninstall(sb.sandbox, tiny.key))
        assert [i["event"] for i in tiny.installs] == ["installed", "installed", "uninstalled"]
        assert sb.sandbox.installation(tiny.key) is None
        path = "/rest/api/3/myself"
        now = int(time.time())
        token = jwt.encode(
            {"iss": tiny.key, "iat": now, "exp": now + 60, "qsh": query_string_hash("GET", path)},
            tiny.secret,
            algorithm="HS256",
        )
        assert call(sb, "GET", path, token).status_code == 401


def test_install_fails_cleanly_when_the_app_refuses() -> None:
    with running_sandbox() as sb:
        refusing = TinyApp(key="refusing", key_server=sb.base_url + "/not-the-key-server")
        with serve_in_thread(refusing.asgi()) as url:
            refusing.base_url = url
            with pytest.raises(InstallError, match="answered HTTP 401"):
                asyncio.run(install(sb.sandbox, f"{url}/atlassian-connect.json"))
        assert sb.sandbox.installation("refusing") is None
        with pytest.raises(InstallError, match="descriptor URL answered HTTP 404"):
            asyncio.run(install(sb.sandbox, f"{sb.base_url}/nothing.json"))
        response = HTTP.post(
            f"{sb.base_url}/_sandbox/apps",
            json={"descriptorUrl": "ftp://x"},
            headers={"Authorization": f"Bearer {sb.admin_token}"},
        )
        assert response.status_code == 400 and "must be http" in response.json()["errorMessages"][0]
