"""Public keys for signed installs, fetched from the install key server by ``kid`` and cached by ``kid``.

Atlassian gives every rotated key a new ``kid``, so a cached key never goes stale. The ``kid`` comes from an
unverified token header, so it is checked against a strict pattern before it becomes part of a URL.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from flowcase.hosts.connect.jwt import JwtError

log = logging.getLogger(__name__)

KID_PATTERN = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
MAX_KID_LENGTH = 200
MAX_KEY_BYTES = 16_384
NEGATIVE_TTL_SECONDS = 30.0


def valid_kid(kid: object) -> bool:
    return isinstance(kid, str) and 0 < len(kid) <= MAX_KID_LENGTH and KID_PATTERN.fullmatch(kid) is not None


class InstallKeyProvider:
    """Fetches ``{key_server}/{kid}`` (a PEM RSA public key) with httpx; keeps successful answers by kid."""

    def __init__(
        self, key_server: str, *, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 5.0
    ) -> None:
        self._server = key_server.rstrip("/")
        self._transport = transport
        self._timeout = timeout
        self._cache: dict[str, RSAPublicKey] = {}
        self._failed: dict[str, float] = {}  # kid -> monotonic time of the last failed fetch
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self, kid: object) -> RSAPublicKey:
        if not valid_kid(kid):
            raise JwtError("invalid key id")
        assert isinstance(kid, str)
        cached = self._cache.get(kid)
        if cached is not None:
            return cached
        failed_at = self._failed.get(kid)
        if failed_at is not None and time.monotonic() - failed_at < NEGATIVE_TTL_SECONDS:
            raise JwtError("install key unavailable")  # do not hammer the key server with a bad kid
        async with self._lock:
            cached = self._cache.get(kid)
            if cached is None:
                try:
                    cached = await self._fetch(kid)
                except JwtError:
                    if len(self._failed) > 10_000:
                        self._failed.clear()
                    self._failed[kid] = time.monotonic()
                    raise
                self._cache[kid] = cached
                self._failed.pop(kid, None)
            return cached

    async def _fetch(self, kid: str) -> RSAPublicKey:
        self.fetches += 1
        url = f"{self._server}/{kid}"
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout, follow_redirects=False
            ) as client:
                response = await client.get(url)
        except httpx.HTTPError as exc:
            log.warning("install key %s: key server unreachable (%s)", kid, type(exc).__name__)
            raise JwtError("install key unavailable") from None
        if response.status_code != 200 or len(response.content) > MAX_KEY_BYTES:
            log.warning("install key %s: key server answered %s", kid, response.status_code)
            raise JwtError("install key unavailable")
        try:
            key = load_pem_public_key(response.content)
        except (ValueError, TypeError):
            raise JwtError("install key unreadable") from None
        if not isinstance(key, RSAPublicKey):
            raise JwtError("install key is not an RSA key")
        return key
