"""``JwksCache``: Forge's signing keys (JWKS) fetched over HTTPS, cached, refetched on rotation.

Keys are kept for ``ttl`` seconds. A token whose ``kid`` is not in the cache triggers one refetch (Forge rotated
its keys), but at most once per ``min_refetch`` seconds, so a flood of forged ``kid`` values cannot make the app
hammer the key endpoint.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from flowcase.errors import EXIT_SERVICE, FlowcaseError

log = logging.getLogger(__name__)


class JwksUnavailableError(FlowcaseError, exit_code=EXIT_SERVICE, status=503, code="keys-unavailable"):
    """The key endpoint could not be read (Atlassian's side is unavailable: try again)."""


class JwksCache:
    def __init__(
        self,
        url: str,
        *,
        ttl: float = 3600.0,
        min_refetch: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.min_refetch = min_refetch
        self._transport = transport
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str) -> PyJWK | None:
        """The RS256 key with id ``kid``, or None when the endpoint does not publish it."""
        now = self._clock()
        fresh = self._fetched_at is not None and now - self._fetched_at < self.ttl
        if fresh and kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            now = self._clock()
            recent = self._fetched_at is not None and now - self._fetched_at < self.min_refetch
            expired = self._fetched_at is None or now - self._fetched_at >= self.ttl
            if expired or (kid not in self._keys and not recent):
                await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=10.0) as client:
                response = await client.get(self.url)
            response.raise_for_status()
            document: Any = response.json()
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            if self._keys:  # keep serving the last good keys; try again after min_refetch
                log.warning("forge: JWKS refresh failed (%s); keeping cached keys", type(exc).__name__)
                self._fetched_at = self._clock() - self.ttl + self.min_refetch
                return
            raise JwksUnavailableError("the Forge signing keys could not be fetched") from None
        self.fetches += 1
        keys: dict[str, PyJWK] = {}
        entries = document.get("keys", []) if isinstance(document, dict) else []
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
                continue
            try:
                keys[entry["kid"]] = PyJWK(entry, algorithm="RS256")
            except PyJWKError:
                log.warning("forge: ignoring an unreadable JWKS entry")
        self._keys = keys
        self._fetched_at = self._clock()
