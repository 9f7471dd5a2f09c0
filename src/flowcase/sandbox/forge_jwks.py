"""The sandbox's Forge signing keys: RS256 Forge Invocation Tokens and the JWKS that verifies them.

Served at ``{sandbox}/_forge/jwks.json``; an app's ``forge_jwks_url`` setting points there in demo and tests.
``rotate()`` adds a new current key and keeps the old one published, as a key rotation does.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "forge/invocation-token"
APP_ARI = "ari:cloud:ecosystem::app/"


@dataclass
class ForgeSigner:
    keys: list[tuple[str, rsa.RSAPrivateKey]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.keys:
            self.rotate()

    def rotate(self) -> str:
        kid = "sandbox-forge-" + secrets.token_hex(6)
        self.keys.append((kid, rsa.generate_private_key(public_exponent=65537, key_size=2048)))
        return kid

    @property
    def kid(self) -> str:
        return self.keys[-1][0]

    def jwks(self) -> dict[str, Any]:
        published = []
        for kid, key in self.keys:
            jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            published.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": published}

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        kid = kid or self.kid
        key = dict(self.keys)[kid]
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def fit_claims(
    *,
    app_id: str,
    installation_id: str,
    api_base_url: str,
    cloud_id: str,
    account_id: str | None,
    module_key: str,
    extension: dict[str, Any],
    ttl: int = 60,
) -> dict[str, Any]:
    """Claims shaped like Forge's invocation token for a Custom UI ``invokeRemote`` call."""
    now = int(time.time())
    audience = app_id if app_id.startswith(APP_ARI) else APP_ARI + app_id
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
        "app": {
            "id": audience,
            "installationId": installation_id,
            "apiBaseUrl": api_base_url,
            "environment": {"type": "DEVELOPMENT", "id": "sandbox"},
            "module": {"key": module_key},
        },
        "context": {"cloudId": cloud_id, "moduleKey": module_key, "extension": extension},
    }
    if account_id:
        claims["principal"] = account_id
    return claims
