"""Test helpers: a running sandbox on a free 127.0.0.1 port, and a tiny Connect app to install into it.

from flowcase.sandbox.testing import running_sandbox

with running_sandbox() as sb:
    sb.add_fault(kind="rate_limit", path_prefix="/rest/api/3/issue", method="POST", count=1, retry_after=2)
    ...  # call sb.base_url with sb.basic_auth() or as an installed app
    assert sb.count_calls("POST", "/rest/api/3/issue") == 2
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import html
import json
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox.app import SandboxApp, create_sandbox_app
from flowcase.sandbox.connect import install
from flowcase.sandbox.faults import Call, Fault
from flowcase.sandbox.models import Installation
from flowcase.sandbox.qsh import query_string_hash
from flowcase.sandbox.server import bind, serve_in_thread
from flowcase.sandbox.site import DEMO_USER, Sandbox, SandboxConfig

T = TypeVar("T")


class Refused(Exception):
    """TinyApp refuses a signed call from the sandbox (the reason is recorded)."""


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also from code that already runs an event loop (e.g. Playwright's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass
class RunningSandbox:
    base_url: str
    app: SandboxApp
    sandbox: Sandbox

    @property
    def admin_token(self) -> str:
        return self.sandbox.config.admin_token

    @property
    def api_token(self) -> str:
        return self.sandbox.config.api_token

    @property
    def email(self) -> str:
        return self.sandbox.config.user_email

    @property
    def key_server(self) -> str:
        """What an app's ``connect_key_server`` setting should be to verify this sandbox's installs."""
        return f"{self.base_url}/connect-keys"

    @property
    def zephyr_url(self) -> str:
        return f"{self.base_url}/zephyr/v2"

    @property
    def xray_url(self) -> str:
        return f"{self.base_url}/xray"

    def vendor_access(self) -> Any:
        """The :class:`flowcase.targets.VendorAccess` of this sandbox's Zephyr Scale and Xray stand-ins."""
        from flowcase.targets import VendorAccess

        cfg = self.sandbox.config
        return VendorAccess(
            zephyr_url=self.zephyr_url,
            zephyr_token=cfg.zephyr_token,
            xray_url=self.xray_url,
            xray_client_id=cfg.xray_client_id,
            xray_client_secret=cfg.xray_client_secret,
        )

    def basic_auth(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.email, self.api_token)

    def add_fault(self, **spec: Any) -> Fault:
        """Add a fault rule (same fields as ``POST /_sandbox/faults``), e.g. ``kind="rate_limit", count=2``."""
        return self.sandbox.faults.add(Fault.from_json(spec))

    def clear_faults(self) -> None:
        self.sandbox.faults.clear()

    def calls(self) -> list[Call]:
        return self.sandbox.calls.list()

    def count_calls(self, method: str, path: str, status: int | None = None) -> int:
        return self.sandbox.calls.count(method, path, status)

    def clear_calls(self) -> None:
        self.sandbox.calls.clear()

    def set_index_lag(self, seconds: float) -> None:
        """Search finds created or changed issues only ``seconds`` later (``reconcileIssues`` ids at once)."""
        self.sandbox.index.lag = seconds

    def create_project(
        self, key: str, name: str = "", *, style: str = "classic", hidden_fields: tuple[str, ...] = ()
    ) -> None:
        from flowcase.sandbox.catalog import create_project

        with self.sandbox.session() as s:
            create_project(s, key, name or key, style=style, hidden_fields=hidden_fields)

    def setup_flowcase(self, project: str = "DEMO", **mapping: str) -> Any:
        """Run flowcase's own admin setup on ``project`` through the REST API, as an admin would (``mapping``:
        ``use_issue_type``/``use_link_type`` to map to existing types instead of creating them)."""
        from flowcase.jira.auth import ApiTokenAuth
        from flowcase.jira.client import JiraClient
        from flowcase.jira.preflight import setup
        from flowcase.jira.settings_store import load_settings

        async def go() -> Any:
            async with JiraClient(self.base_url, ApiTokenAuth(self.email, self.api_token)) as client:
                settings = await load_settings(client, project_key=project)
                return await setup(client, project, settings, **mapping)

        return run_sync(go())

    def setup_xray(self, project: str = "DEMO") -> None:
        """What installing Xray does to a site: the issue types "Test", "Test Set" and "Test Execution" in
        ``project``'s scheme
        (flowcase's own setup, :meth:`setup_flowcase`, adds the "Test" link type Xray reads as coverage)."""
        from flowcase.sandbox import catalog
        from flowcase.sandbox.issues import find_project

        with self.sandbox.session() as s:
            proj = find_project(s, project)
            if proj is None or proj.scheme_id is None:
                raise LookupError(f"no company-managed project {project}")
            made = []
            for name in ("Test", "Test Set", "Test Execution"):
                it = catalog.issue_type(s, name) or catalog.create_issue_type(s, name, f"Xray {name}", 0)
                made.append(it.id)
            catalog.add_to_scheme(s, proj.scheme_id, made)

    def xray_execution(self, statuses: dict[str, str], project: str = "DEMO", summary: str = "Regression") -> str:
        """Run tests in Xray as a tester would, through the stand-in's GraphQL API: a Test Execution of the Test
        issues ``statuses`` names (issue key -> PASSED, FAILED, TODO, EXECUTING or ABORTED), each test run set to
        its status. Returns the Test Execution's issue key."""
        with httpx.Client(base_url=self.xray_url, timeout=30) as h:
            token = h.post(
                "/api/v2/authenticate",
                json={
                    "client_id": self.sandbox.config.xray_client_id,
                    "client_secret": self.sandbox.config.xray_client_secret,
                },
            ).json()
            auth = {"Authorization": f"Bearer {token}"}

            def gql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
                body = h.post("/api/v2/graphql", json={"query": query, "variables": variables}, headers=auth).json()
                if body.get("errors"):
                    raise RuntimeError(body["errors"])
                data: dict[str, Any] = body["data"]
                return data

            with self.sandbox.session() as s:
                from flowcase.sandbox.issues import get_issue

                ids = {key: str(get_issue(s, key).id) for key in statuses}
            made = gql(
                "mutation Run($jira: JSON!, $tests: [String]) { createTestExecution(jira: $jira, testIssueIds: $tests)"
                ' { testExecution { issueId jira(fields: ["key"]) testRuns(limit: 100) { results { id test'
                " { issueId } } } } warnings } }",
                {"jira": {"fields": {"summary": summary, "project": {"key": project}}}, "tests": list(ids.values())},
            )["createTestExecution"]["testExecution"]
            by_test = {r["test"]["issueId"]: r["id"] for r in made["testRuns"]["results"]}
            for key, status in statuses.items():
                gql(
                    "mutation Status($id: String!, $status: String!) { updateTestRunStatus(id: $id, status: $status) }",
                    {"id": by_test[ids[key]], "status": status},
                )
            return str(made["jira"]["key"])

    def zephyr_execution(self, statuses: dict[str, str], project: str = "DEMO", **extra: Any) -> str:
        """Run test cases in Zephyr Scale as a tester would, through the stand-in's REST API: a test cycle with one
        execution per test case ``statuses`` names (key -> Pass, Fail, Blocked, In Progress or Not Executed;
        ``extra`` adds fields such as ``actualEndDate`` or ``comment``). Returns the test cycle's key."""
        auth = {"Authorization": f"Bearer {self.sandbox.config.zephyr_token}"}
        with httpx.Client(base_url=self.zephyr_url, headers=auth, timeout=30) as h:
            made = h.post("/testcycles", json={"projectKey": project, "name": "Regression"})
            made.raise_for_status()
            cycle = str(made.json()["key"])
            for key, status in statuses.items():
                h.post(
                    "/testexecutions",
                    json={
                        "projectKey": project,
                        "testCaseKey": key,
                        "testCycleKey": cycle,
                        "statusName": status,
                        **extra,
                    },
                ).raise_for_status()
            return cycle

    def install(self, descriptor_url: str) -> Installation:
        """Install an app from its descriptor URL (the app must be reachable, e.g. another running server)."""
        return run_sync(install(self.sandbox, descriptor_url))

    def app_token(
        self, app_key: str, method: str, url: str, *, ttl: int = 180, secret: str | None = None, **overrides: Any
    ) -> str:
        """A server-to-server JWT as an installed app would sign it (``overrides`` replace claims)."""
        inst = self.sandbox.installation(app_key)
        if inst is None:
            raise LookupError(f"app {app_key!r} is not installed")
        issued = int(time.time())
        claims: dict[str, Any] = {
            "iss": app_key,
            "aud": [self.sandbox.client_key],
            "iat": issued,
            "exp": issued + ttl,
            "qsh": query_string_hash(method, url, self.base_url),
        }
        claims.update(overrides)
        return jwt.encode(claims, secret or inst.shared_secret, algorithm="HS256")


@contextlib.contextmanager
def running_sandbox(
    config: SandboxConfig | None = None, *, demo_data: bool = False, setup: bool = False
) -> Iterator[RunningSandbox]:
    """A sandbox served by uvicorn on a free 127.0.0.1 port (in-memory SQLite unless ``config`` says otherwise).

    Like a fresh Jira Cloud site it has no "Test" issue type or link type: ``setup=True`` (with ``demo_data``)
    runs flowcase's admin setup on project DEMO first, as tests that publish need."""
    sock = bind()  # held until served: no other process (a pytest-xdist worker) can take the port meanwhile
    port = sock.getsockname()[1]
    cfg = config or SandboxConfig()
    cfg.base_url = f"http://127.0.0.1:{port}"
    cfg.demo_data = cfg.demo_data or demo_data
    try:
        app = create_sandbox_app(cfg)
    except BaseException:
        sock.close()
        raise
    with serve_in_thread(app, sock=sock) as url:
        running = RunningSandbox(url, app, app.sandbox)
        if setup:
            running.setup_flowcase("DEMO")
        yield running


# --- a tiny Connect app, for install-flow and browser tests -------------------------------------------------


@dataclass
class TinyApp:
    """A minimal Connect app that verifies everything the sandbox sends it (signed installs, iframe JWTs)."""

    key: str = "tiny-test-app"
    key_server: str = ""
    base_url: str = ""
    installs: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    secret: str | None = None

    def descriptor(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": "Tiny test app",
            "baseUrl": self.base_url,
            "authentication": {"type": "jwt"},
            "apiVersion": 1,
            "scopes": ["READ", "WRITE"],
            "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled"},
            "apiMigrations": {"signed-install": True, "context-qsh": True, "gdpr": True},
            "modules": {
                "webPanels": [
                    {
                        "key": "tiny-panel",
                        "name": {"value": "Tiny panel"},
                        "location": "atl.jira.view.issue.right.context",
                        "url": "/panel?issueKey={issue.key}&projectKey={project.key}",
                    }
                ],
                "dialogs": [{"key": "tiny-dialog", "url": "/panel?issueKey={issue.key}&projectKey={project.key}"}],
                "jiraProjectPages": [
                    {
                        "key": "tiny-project",
                        "name": {"value": "Tiny project page"},
                        "url": "/panel?projectKey={project.key}",
                    }
                ],
                "adminPages": [{"key": "tiny-admin", "name": {"value": "Tiny admin"}, "url": "/panel"}],
                "jiraEntityProperties": [
                    {
                        "key": "tiny-index",
                        "name": {"value": "Tiny index"},
                        "entityType": "issue",
                        "keyConfigurations": [
                            {
                                "propertyKey": "tiny-summary",
                                "extractions": [
                                    {"objectName": "status", "type": "string", "alias": "tinyStatus"},
                                    {"objectName": "count", "type": "number", "alias": "tinyCount"},
                                ],
                            }
                        ],
                    }
                ],
            },
        }

    async def _verify_install(self, request: Request, event: str) -> Response:
        header = request.headers.get("authorization", "")
        body = await request.json()
        try:
            token = header.removeprefix("JWT ")
            head = jwt.get_unverified_header(token)
            async with httpx.AsyncClient() as client:
                pem = (await client.get(f"{self.key_server}/{head['kid']}")).content
            claims = jwt.decode(token, pem, algorithms=["RS256"], audience=self.base_url)
            if claims["iss"] != body["clientKey"]:
                raise Refused("iss is not the clientKey")
            if claims["qsh"] != query_string_hash("POST", str(request.url), self.base_url):
                raise Refused("qsh mismatch")
        except (Refused, KeyError, jwt.PyJWTError, httpx.HTTPError) as exc:
            self.failures.append(f"{event}: {exc}")
            return Response(status_code=401)
        self.installs.append({"event": event, "clientKey": body["clientKey"], "baseUrl": body["baseUrl"]})
        if event == "installed":
            self.secret = body["sharedSecret"]
        return Response(status_code=204)

    def asgi(self) -> Starlette:
        async def descriptor(_request: Request) -> Response:
            return JSONResponse(self.descriptor())

        async def installed(request: Request) -> Response:
            return await self._verify_install(request, "installed")

        async def uninstalled(request: Request) -> Response:
            return await self._verify_install(request, "uninstalled")

        async def panel(request: Request) -> Response:
            token = request.query_params.get("jwt", "")
            target = request.url.path + ("?" + request.url.query if request.url.query else "")
            try:
                claims = jwt.decode(token, self.secret or "", algorithms=["HS256"])
                if claims["qsh"] != query_string_hash("GET", target, self.base_url):
                    raise Refused("qsh mismatch")
            except (Refused, KeyError, jwt.PyJWTError) as exc:
                return HTMLResponse(f"<p id='status'>refused: {type(exc).__name__}</p>", status_code=401)
            host = request.query_params.get("xdm_e", "")
            issue = request.query_params.get("issueKey", "")
            all_js = html.escape(f"{host}/atlassian-connect/all.js")
            page = PANEL_HTML.replace("{ALL_JS}", all_js).replace("{ISSUE}", html.escape(issue))
            return HTMLResponse(page)

        return Starlette(
            routes=[
                Route("/atlassian-connect.json", descriptor),
                Route("/installed", installed, methods=["POST"]),
                Route("/uninstalled", uninstalled, methods=["POST"]),
                Route("/panel", panel),
            ]
        )


PANEL_HTML = """<!doctype html><html><head><meta charset="utf-8">
<script src="{ALL_JS}"></script></head><body>
<p id="status">verified</p><p id="issue">{ISSUE}</p><p id="token">no token yet</p><p id="ctx"></p>
<p id="myself"></p><p id="events"></p><p id="custom"></p><p id="closed"></p>
<button id="flag">flag</button><button id="nav">nav</button><button id="dialog">dialog</button>
<button id="close">close</button>
<script>
AP.context.getToken(function (t) {
  var claims = JSON.parse(atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  document.getElementById('token').textContent = 'context token qsh=' + claims.qsh;
});
AP.context.getContext(function (c) {
  document.getElementById('ctx').textContent = (c.jira.issue || c.jira.project || {key: 'site'}).key;
});
AP.request('/rest/api/3/myself').then(function (r) {
  document.getElementById('myself').textContent = 'request ' + r.xhr.status + ' ' + JSON.parse(r.body).accountType;
});
AP.theming.initializeTheming();
AP.events.on('ping', function (n) { document.getElementById('events').textContent = 'ping ' + n; });
document.getElementById('flag').onclick = function () { AP.flag.create({title: 'Tiny', body: 'hello <b>x</b>'}); };
document.getElementById('nav').onclick = function () { AP.navigator.go('issue', {issueKey: 'DEMO-2'}); };
document.getElementById('dialog').onclick = function () {
  AP.dialog.create({key: 'tiny-dialog', customData: {n: 7}}).on('close', function (data) {
    document.getElementById('closed').textContent = 'dialog closed ' + JSON.stringify(data);
  });
};
if (window.location.search.indexOf('xdm_c=channel-' + 'tiny-test-app__tiny-dialog') >= 0) {
  AP.dialog.getCustomData(function (d) {
    document.getElementById('custom').textContent = 'custom ' + JSON.stringify(d);
    AP.events.emit('ping', 1);
  });
  document.getElementById('close').onclick = function () { AP.dialog.close({ok: true}); };
}
</script></body></html>"""


@contextlib.contextmanager
def running_tiny_app(sandbox: RunningSandbox, key: str = "tiny-test-app") -> Iterator[TinyApp]:
    """Serve a :class:`TinyApp` trusting ``sandbox``'s key server, and install it into the sandbox."""
    tiny = TinyApp(key=key, key_server=sandbox.key_server)
    with serve_in_thread(tiny.asgi()) as url:
        tiny.base_url = url
        sandbox.install(f"{url}/atlassian-connect.json")
        yield tiny


def demo_user_id() -> str:
    return DEMO_USER.account_id


def dump(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True)
