"""Canonical requests and query string hashes, as Jira computes them, by an implementation that is not ours.

The canonicalisation is the ``atlassian-jwt`` package's (PyPI, Atlassian's Python JWT library for Connect);
the sandbox only makes the URL relative to the app's base URL first, which that library expects its caller to do.
So when the app's qsh (``flowcase.hosts.connect.jwt``) and the sandbox's disagree, a test fails instead of both
being wrong the same way; both are checked against Atlassian's interop vectors (tests/test_sandbox_jql_qsh.py).
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from atlassian_jwt.url_utils import canonicalize_request  # type: ignore[import-untyped]


def relative_target(url: str, base_url: str = "") -> str:
    """The path and query of ``url`` relative to the path of ``base_url`` (whole segments only)."""
    parts = urlsplit(url)
    prefix = urlsplit(base_url).path.rstrip("/") if base_url else ""
    path = parts.path
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        path = path[len(prefix) :]
    return (path or "/") + (f"?{parts.query}" if parts.query else "")


def canonical_request(method: str, url: str, base_url: str = "") -> str:
    """``METHOD&path&query`` of ``url`` (absolute or path+query), relative to the path of ``base_url``."""
    return str(canonicalize_request(method, relative_target(url, base_url)))


def query_string_hash(method: str, url: str, base_url: str = "") -> str:
    return hashlib.sha256(canonical_request(method, url, base_url).encode("utf-8")).hexdigest()
