"""Canonical requests and query string hashes, computed the way Jira computes them.

The sandbox keeps its own implementation (rather than importing the app's) so that it is an independent peer:
if the app and the sandbox disagree on a qsh, a test fails instead of both being wrong the same way.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, urlsplit


def _pct(text: str) -> str:
    return quote(text, safe="-._~")


def canonical_uri(path: str, base_path: str = "") -> str:
    prefix = base_path.rstrip("/")
    if prefix and (path == prefix or path.startswith(prefix + "/")):  # whole segments only
        path = path[len(prefix) :]
    if not path:
        path = "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    path = path.replace("&", "%26")
    return path if path.startswith("/") else "/" + path


def canonical_query(query: str) -> str:
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name != "jwt":
            params.setdefault(name, []).append(value)
    items = [(_pct(name), ",".join(_pct(v) for v in sorted(values))) for name, values in params.items()]
    items.sort(key=lambda item: item[0] + " " + item[1])
    return "&".join(f"{name}={value}" for name, value in items)


def canonical_request(method: str, url: str, base_url: str = "") -> str:
    """``METHOD&path&query`` of ``url`` (absolute or path+query), relative to the path of ``base_url``."""
    parts = urlsplit(url)
    base_path = urlsplit(base_url).path if base_url else ""
    return f"{method.upper()}&{canonical_uri(parts.path, base_path)}&{canonical_query(parts.query)}"


def query_string_hash(method: str, url: str, base_url: str = "") -> str:
    return hashlib.sha256(canonical_request(method, url, base_url).encode("utf-8")).hexdigest()
