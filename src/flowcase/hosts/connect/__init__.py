"""Atlassian Connect host adapter: descriptor, signed lifecycle, JWT both ways (see docs/connect.md)."""

from __future__ import annotations

from flowcase.hosts.connect.auth import ConnectJwtAuth, TenantUnavailableError
from flowcase.hosts.connect.host import ConnectHost
from flowcase.hosts.connect.jwt import JwtError, canonical_request, query_string_hash
from flowcase.hosts.connect.keys import InstallKeyProvider
from flowcase.hosts.connect.routes import connect_routes

__all__ = [
    "ConnectHost",
    "ConnectJwtAuth",
    "InstallKeyProvider",
    "JwtError",
    "TenantUnavailableError",
    "canonical_request",
    "connect_routes",
    "query_string_hash",
]
