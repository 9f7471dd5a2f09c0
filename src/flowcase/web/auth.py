"""Who is calling: every page and API request is authenticated by one of the app's configured hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException

if TYPE_CHECKING:
    from starlette.requests import Request

    from flowcase.hosts.base import Caller, Host


def hosts_of(request: Request) -> list[Host]:
    hosts: list[Host] = request.app.state.hosts
    return hosts


async def authenticate(request: Request) -> Caller:
    """Authenticate with the first host that accepts the request; sets ``request.state.caller``/``.host``.

    Raises the most telling refusal when none accepts: a 403 (recognised but not allowed) wins over a 401.
    """
    refusals: list[HTTPException] = []
    for host in hosts_of(request):
        try:
            caller = await host.authenticate(request)
        except HTTPException as exc:
            refusals.append(exc)
            continue
        request.state.caller = caller
        request.state.host = host
        return caller
    if not refusals:
        raise HTTPException(503, "no host is configured to authenticate requests")
    forbidden = [e for e in refusals if e.status_code == 403]
    raise (forbidden or refusals)[0]


def current_host(request: Request) -> Host:
    host: Host = request.state.host
    return host
