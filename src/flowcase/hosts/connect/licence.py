"""Licence check on iframe page loads: Jira adds ``lic=active|none`` to module URLs of paid apps.

Policy (``FLOWCASE_LICENCE_POLICY``): ``off`` ignores it, ``warn`` logs and lets the page show a notice,
``enforce`` refuses pages (403) unless ``lic=active``. The parameter is covered by the qsh, so it cannot be
changed without breaking the signature.
"""

from __future__ import annotations

import logging
from typing import Literal

from flowcase.hosts.connect.jwt import JwtError

log = logging.getLogger(__name__)

LicenceStatus = Literal["active", "inactive", "unchecked"]


def check_licence(lic: str | None, policy: str, *, client_key: str) -> LicenceStatus:
    if policy == "off":
        return "unchecked"
    if lic == "active":
        return "active"
    if policy == "enforce":
        log.warning("connect: licence not active for %s (lic=%s): refused", client_key, (lic or "missing")[:16])
        raise JwtError("no active licence", status=403)
    log.warning("connect: licence not active for %s (lic=%s)", client_key, (lic or "missing")[:16])
    return "inactive"
