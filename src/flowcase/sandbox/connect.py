"""The sandbox as a Connect host: installing apps from their descriptor URL, and signing what Jira signs.

- Install: fetch the descriptor, keep this site's clientKey, generate a fresh shared secret, POST the
  ``installed`` lifecycle event signed RS256 with the site's own key (``kid`` published at
  ``{sandbox}/connect-keys/{kid}``), ``aud`` = the app's baseUrl, ``iss`` = clientKey, ``qsh`` of the lifecycle
  request relative to the app's baseUrl. The installation is stored only when the app answers 200/204.
- Iframe URLs: the module URL (context variables substituted) plus Jira's standard parameters, with a
  ``jwt`` HS256-signed with the installation's secret (``iss`` = clientKey, ``sub`` = the user, ``qsh`` of
  that URL relative to the app's baseUrl, 180 s).
- Context tokens (``AP.context.getToken``): ``qsh: "context-qsh"`` plus the page context.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import jwt

from flowcase.errors import EXIT_SERVICE, FlowcaseError
from flowcase.sandbox.models import Installation
from flowcase.sandbox.qsh import query_string_hash
from flowcase.sandbox.site import DEMO_USER, Sandbox, now

APP_KEY = re.compile(r"[a-zA-Z0-9._-]{1,80}")
TOKEN_SECONDS = 180
CONTEXT_TOKEN_SECONDS = 900
MAX_DESCRIPTOR_BYTES = 512 * 1024


class InstallError(FlowcaseError, exit_code=EXIT_SERVICE, status=502, code="install-failed"):
    """The app could not be installed (one-line message, no secrets)."""


@dataclass(frozen=True, slots=True)
class PageContext:
    issue_key: str = ""
    issue_id: str = ""
    project_key: str = ""
    project_id: str = ""
    issuetype_id: str = ""

    def variables(self) -> dict[str, str]:
        return {
            "issue.key": self.issue_key,
            "issue.id": self.issue_id,
            "project.key": self.project_key,
            "project.id": self.project_id,
            "issuetype.id": self.issuetype_id,
        }

    def jira(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.issue_key:
            data["issue"] = {"key": self.issue_key, "id": self.issue_id, "issuetype": {"id": self.issuetype_id}}
        if self.project_key:
            data["project"] = {"key": self.project_key, "id": self.project_id}
        return {"jira": data}


def check_descriptor(descriptor: Any) -> dict[str, Any]:
    if not isinstance(descriptor, dict):
        raise InstallError("the descriptor is not a JSON object")
    key = descriptor.get("key")
    if not isinstance(key, str) or not APP_KEY.fullmatch(key):
        raise InstallError("the descriptor 'key' is missing or invalid")
    base = descriptor.get("baseUrl")
    if not isinstance(base, str) or not base.startswith(("http://", "https://")) or len(base) > 200:
        raise InstallError("the descriptor 'baseUrl' must be an http(s) URL of at most 200 characters")
    if (descriptor.get("authentication") or {}).get("type", "").lower() != "jwt":
        raise InstallError("the descriptor must use JWT authentication")
    lifecycle = descriptor.get("lifecycle") or {}
    if not isinstance(lifecycle.get("installed"), str):
        raise InstallError("the descriptor has no 'installed' lifecycle URL")
    if not (descriptor.get("apiMigrations") or {}).get("signed-install"):
        raise InstallError("the descriptor must opt in to signed-install (apiMigrations)")
    return descriptor


def _lifecycle_url(descriptor: dict[str, Any], event: str) -> str | None:
    path = (descriptor.get("lifecycle") or {}).get(event)
    if not isinstance(path, str):
        return None
    return str(descriptor["baseUrl"]).rstrip("/") + "/" + path.lstrip("/")


async def _lifecycle_second(sandbox: Sandbox) -> int:
    """A new lifecycle event's issue time: strictly later than the last one sent, as Atlassian's are (an app may
    refuse a second install signed in the same second); waits for the next second when needed."""
    wait = sandbox.last_lifecycle_iat + 1 - time.time()
    if wait > 0:
        await asyncio.sleep(wait)
    issued = max(int(time.time()), sandbox.last_lifecycle_iat + 1)
    sandbox.last_lifecycle_iat = issued
    return issued


def install_token(sandbox: Sandbox, descriptor: dict[str, Any], url: str, issued: int | None = None) -> str:
    issued = int(time.time()) if issued is None else issued
    claims = {
        "iss": sandbox.client_key,
        "aud": descriptor["baseUrl"].rstrip("/"),
        "qsh": query_string_hash("POST", url, descriptor["baseUrl"]),
        "iat": issued,
        "exp": issued + TOKEN_SECONDS,
        "context": {},
    }
    return jwt.encode(
        claims, sandbox.signing_key.private_pem, algorithm="RS256", headers={"kid": sandbox.signing_key.kid}
    )


def lifecycle_payload(sandbox: Sandbox, descriptor: dict[str, Any], event: str, secret: str) -> dict[str, Any]:
    return {
        "key": descriptor["key"],
        "clientKey": sandbox.client_key,
        "sharedSecret": secret,
        "serverVersion": "100999",
        "pluginsVersion": "1001.0.0",
        "baseUrl": sandbox.base_url,
        "displayUrl": sandbox.base_url,
        "productType": "jira",
        "description": f"Atlassian JIRA at {sandbox.base_url} (flowcase sandbox)",
        "eventType": event,
    }


async def fetch_descriptor(url: str, transport: httpx.AsyncBaseTransport | None = None) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise InstallError("the descriptor URL must be http(s)")
    try:
        async with httpx.AsyncClient(transport=transport, timeout=10, follow_redirects=False) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise InstallError(f"could not fetch the descriptor from {url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise InstallError(f"the descriptor URL answered HTTP {response.status_code}")
    if len(response.content) > MAX_DESCRIPTOR_BYTES:
        raise InstallError("the descriptor is too large")
    try:
        descriptor = response.json()
    except ValueError:
        raise InstallError("the descriptor is not valid JSON") from None
    return check_descriptor(descriptor)


async def install(
    sandbox: Sandbox, descriptor_url: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> Installation:
    """Install (or reinstall, with a new secret) the app whose descriptor is at ``descriptor_url``."""
    descriptor = await fetch_descriptor(descriptor_url, transport)
    url = _lifecycle_url(descriptor, "installed")
    assert url is not None
    secret = secrets.token_urlsafe(32)
    await _post_lifecycle(sandbox, descriptor, "installed", url, secret, transport)
    with sandbox.session() as s:
        row = s.get(Installation, descriptor["key"])
        if row is None:
            row = Installation(
                app_key=descriptor["key"], base_url="", shared_secret="", descriptor="", installed_at=now()
            )
            s.add(row)
        row.base_url = descriptor["baseUrl"].rstrip("/")
        row.shared_secret = secret
        row.descriptor = json.dumps(descriptor)
        row.installed_at = now()
        return row


async def uninstall(sandbox: Sandbox, app_key: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
    """Tell the app (signed ``uninstalled``; failures are not fatal, as in Jira) and forget the installation."""
    installation = sandbox.installation(app_key)
    if installation is None:
        raise InstallError(f"no installed app with key '{app_key}'")
    descriptor = json.loads(installation.descriptor)
    url = _lifecycle_url(descriptor, "uninstalled")
    if url is not None:
        # Jira removes the app even when the app does not acknowledge the event.
        with contextlib.suppress(InstallError):
            await _post_lifecycle(sandbox, descriptor, "uninstalled", url, installation.shared_secret, transport)
    with sandbox.session() as s:
        row = s.get(Installation, app_key)
        if row is not None:
            s.delete(row)


async def _post_lifecycle(
    sandbox: Sandbox,
    descriptor: dict[str, Any],
    event: str,
    url: str,
    secret: str,
    transport: httpx.AsyncBaseTransport | None,
) -> None:
    payload = lifecycle_payload(sandbox, descriptor, event, secret)
    token = install_token(sandbox, descriptor, url, await _lifecycle_second(sandbox))
    headers = {
        "Authorization": f"JWT {token}",
        "Content-Type": "application/json",
        "User-Agent": "flowcase-sandbox (Atlassian Connect host)",
    }
    try:
        async with httpx.AsyncClient(transport=transport, timeout=15, follow_redirects=False) as client:
            response = await client.post(url, content=json.dumps(payload), headers=headers)
    except httpx.HTTPError as exc:
        raise InstallError(f"the app's {event} callback failed: {type(exc).__name__}") from None
    if response.status_code not in (200, 204):
        raise InstallError(f"the app's {event} callback answered HTTP {response.status_code}")


def module_url(installation: Installation, url: str, context: PageContext) -> str:
    """The module URL with ``{issue.key}``-style variables substituted (URL-encoded), absolute on the app."""
    values = context.variables()

    def substitute(match: re.Match[str]) -> str:
        return quote(values.get(match.group(1).strip(), ""), safe="")

    path = re.sub(r"\{([a-zA-Z.]+)\}", substitute, url)
    if path.startswith(("http://", "https://")):
        return path
    return installation.base_url.rstrip("/") + "/" + path.lstrip("/")


def signed_iframe_url(
    sandbox: Sandbox, installation: Installation, module_key: str, url: str, context: PageContext
) -> str:
    """The URL an iframe loads: module URL + Jira's standard parameters + a URL-bound HS256 JWT."""
    descriptor = json.loads(installation.descriptor)
    target = module_url(installation, url, context)
    standard = {
        "xdm_e": sandbox.base_url,
        "xdm_c": f"channel-{descriptor['key']}__{module_key}",
        "cp": urlsplit(sandbox.base_url).path,
        "xdm_deprecated_addon_key_do_not_use": descriptor["key"],
        "lic": sandbox.config.licence if descriptor.get("enableLicensing") else "none",
        "cv": "1001.0.0",
        "tz": "Etc/UTC",
        "loc": "en-US",
    }
    joined = target + ("&" if urlsplit(target).query else "?") + urlencode(standard, quote_via=quote)
    issued = int(time.time())
    claims = {
        "iss": sandbox.client_key,
        "sub": DEMO_USER.account_id,
        "qsh": query_string_hash("GET", joined, installation.base_url),
        "iat": issued,
        "exp": issued + TOKEN_SECONDS,
        "context": {},
    }
    token = jwt.encode(claims, installation.shared_secret, algorithm="HS256")
    return f"{joined}&jwt={token}"


def context_token(sandbox: Sandbox, installation: Installation, context: PageContext) -> str:
    issued = int(time.time())
    claims = {
        "iss": sandbox.client_key,
        "sub": DEMO_USER.account_id,
        "qsh": "context-qsh",
        "iat": issued,
        "exp": issued + CONTEXT_TOKEN_SECONDS,
        "context": context.jira(),
    }
    return jwt.encode(claims, installation.shared_secret, algorithm="HS256")


def app_request_token(sandbox: Sandbox, installation: Installation, method: str, target: str) -> str:
    """A server-to-server token as the app itself would mint it (used by the AP.request proxy)."""
    issued = int(time.time())
    claims = {
        "iss": installation.app_key,
        "aud": [sandbox.client_key],
        "qsh": query_string_hash(method, target, sandbox.base_url),
        "iat": issued,
        "exp": issued + TOKEN_SECONDS,
    }
    return jwt.encode(claims, installation.shared_secret, algorithm="HS256")
