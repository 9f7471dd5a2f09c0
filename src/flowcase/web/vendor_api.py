"""The site's own credentials for Xray Cloud and Zephyr Scale Cloud (``/api/admin/vendor-credentials``).

Only the site's Jira administrators may read whether they are set, set them or remove them (the hosts ask Jira
on ``/api/admin`` paths; the handlers check ``is_admin`` again). They are stored encrypted for the caller's site
only (:mod:`flowcase.db.vendor`) and never answered, logged or put in a URL: the answer says "set" or "not set".
Publishing for a site uses that site's credentials (:func:`flowcase.targets.site_access`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flowcase.web.auth import authenticate
from flowcase.web.bodies import VendorCredentialsBody
from flowcase.web.errors import ApiError, read_json

if TYPE_CHECKING:
    from flowcase.db.vendor import VendorCredentialStore
    from flowcase.hosts.base import Caller
    from flowcase.targets import VendorAccess


def vendor_store(request: Request) -> VendorCredentialStore | None:
    store: VendorCredentialStore | None = getattr(request.app.state, "vendor", None)
    return store


def access_for(request: Request, caller: Caller, base_url: str) -> VendorAccess:
    """The caller's site's vendor credentials (blocking: run it in a thread)."""
    from flowcase.targets import site_access

    return site_access(vendor_store(request), caller.site_id, base_url)


async def _admin(request: Request, caller: Caller | None = None) -> tuple[Caller, VendorCredentialStore]:
    caller = caller or await authenticate(request)
    if not caller.is_admin:
        raise HTTPException(403, "only Jira administrators can see or change the site's Xray and Zephyr credentials")
    store = vendor_store(request)
    if store is None:
        raise ApiError(
            503,
            "no-credential-store",
            "this deployment keeps no per-site credentials (it needs FLOWCASE_SECRET_KEYS and its database); "
            "use FLOWCASE_XRAY_* / FLOWCASE_ZEPHYR_TOKEN",
        )
    return caller, store


async def _status(store: VendorCredentialStore, site_id: str) -> dict[str, Any]:
    stored = await asyncio.to_thread(store.get, site_id)
    return {vendor: ("set" if is_set else "not set") for vendor, is_set in stored.status().items()}


async def get_vendor_credentials(request: Request) -> Response:
    caller = await authenticate(request)
    if caller.is_admin and vendor_store(request) is None:
        # a normal state for a standalone deployment, not an error: what its configuration holds for this site
        from flowcase.targets import VendorAccess

        access = VendorAccess.configured().for_site(caller.base_url)
        configured = {
            "xray": "set" if not access.missing("xray") else "not set",
            "zephyr": "set" if not access.missing("zephyr") else "not set",
        }
        return JSONResponse(
            {
                "credentials": configured,
                "perSite": False,
                "message": "this deployment keeps no per-site credentials: they come from its configuration "
                "(FLOWCASE_XRAY_CLIENT_ID/FLOWCASE_XRAY_CLIENT_SECRET, FLOWCASE_ZEPHYR_TOKEN, for the site "
                "FLOWCASE_VENDOR_SITE_URL names)",
            }
        )
    caller, store = await _admin(request, caller)  # authenticated once, above
    return JSONResponse({"credentials": await _status(store, caller.site_id)})


async def put_vendor_credentials(request: Request) -> Response:
    caller, store = await _admin(request)
    body = await read_json(request, VendorCredentialsBody, limit=8 * 1024)
    if body.xray is None and body.zephyr is None:
        raise ApiError(422, "bad-request", "send xray {clientId, clientSecret} and/or zephyr {token}")
    checked = await _check(body)  # before anything is stored: credentials the vendor refuses are not saved
    if body.xray is not None:
        await asyncio.to_thread(store.set_xray, caller.site_id, body.xray.client_id, body.xray.client_secret)
    if body.zephyr is not None:
        await asyncio.to_thread(store.set_zephyr, caller.site_id, body.zephyr.token)
    return JSONResponse({"credentials": await _status(store, caller.site_id), "checked": checked})


async def _check(body: VendorCredentialsBody) -> dict[str, str]:
    """Per vendor sent: "accepted", or why it could not be checked; a vendor's refusal is a 422 (nothing saved)."""
    from flowcase.targets import CredentialsRefused, VendorAccess, check_credentials

    deployment = VendorAccess.configured()  # the vendors' URLs (deployment-wide); the credentials are the body's
    sent: dict[Literal["xray", "zephyr"], VendorAccess] = {}
    if body.xray is not None:
        sent["xray"] = VendorAccess(
            xray_url=deployment.xray_url, xray_client_id=body.xray.client_id, xray_client_secret=body.xray.client_secret
        )
    if body.zephyr is not None:
        sent["zephyr"] = VendorAccess(zephyr_url=deployment.zephyr_url, zephyr_token=body.zephyr.token)
    checked: dict[str, str] = {}
    for vendor, access in sent.items():
        try:
            why = await check_credentials(access, vendor)
        except CredentialsRefused as exc:
            raise ApiError(422, "credentials-refused", str(exc)) from None
        checked[vendor] = why or "accepted"
    return checked


async def delete_vendor_credentials(request: Request) -> Response:
    caller, store = await _admin(request)
    vendor = str(request.path_params["vendor"])
    if vendor not in ("xray", "zephyr"):
        raise HTTPException(404, "no such vendor: xray or zephyr")
    await asyncio.to_thread(store.remove, caller.site_id, "xray" if vendor == "xray" else "zephyr")
    return JSONResponse({"credentials": await _status(store, caller.site_id)})
