"""Who is calling the sandbox REST API: an installed Connect app (HS256 JWT) or the sandbox user (Basic).

The JWT checks follow what Jira Cloud does with an app's server-to-server call: ``iss`` is the key of an
installed app, ``aud`` (when present) names this site's clientKey, the signature is HS256 with that
installation's shared secret, ``qsh`` is the hash of the request actually received (raw path and query,
relative to the site's base path; ``context-qsh`` is refused), and ``exp``/``iat`` give a current token with a
bounded lifetime. Anything else is a 401.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from typing import Any

import jwt
from starlette.requests import Request

from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.forge_host import check_forge_token
from flowcase.sandbox.qsh import query_string_hash
from flowcase.sandbox.site import DEMO_USER, Principal, Sandbox, User

SCOPE_IMPLIES = {
    "READ": {"READ"},
    "WRITE": {"WRITE", "READ"},
    "DELETE": {"DELETE", "WRITE", "READ"},
    "PROJECT_ADMIN": {"PROJECT_ADMIN", "DELETE", "WRITE", "READ"},
    "ADMIN": {"ADMIN", "PROJECT_ADMIN", "DELETE", "WRITE", "READ"},
}


def _unauthorized(message: str) -> JiraHTTPError:
    return JiraHTTPError(401, message, headers={"WWW-Authenticate": 'JWT realm="sandbox", Basic realm="sandbox"'})


def raw_target(request: Request) -> str:
    """The request path and query exactly as received (qsh is computed over these, never a re-encoding)."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query: bytes = request.scope.get("query_string", b"")
    target = raw_path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


def authenticate(request: Request) -> Principal:
    sandbox: Sandbox = request.app.state.sandbox
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "jwt" and credentials:
        return _check_jwt(sandbox, request, credentials.strip())
    if scheme.lower() == "basic" and credentials:
        return _check_basic(sandbox, credentials.strip())
    if scheme.lower() == "bearer" and credentials:  # product tokens of the Forge mode (forge_host.py)
        principal: Principal = check_forge_token(sandbox, credentials.strip())
        return principal
    if header:
        raise _unauthorized("Unsupported authorization scheme.")
    raise _unauthorized("Client must be authenticated to access this resource.")


def _check_basic(sandbox: Sandbox, credentials: str) -> Principal:
    try:
        email, _, token = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthorized("Malformed Basic credentials.") from None
    expected_email = sandbox.config.user_email
    ok_user = hmac.compare_digest(email.encode(), expected_email.encode())
    ok_token = hmac.compare_digest(token.encode(), sandbox.config.api_token.encode())
    user = sandbox.user_for_email(expected_email)
    if not (ok_user and ok_token) or user is None:
        raise _unauthorized("Basic authentication with passwords is deprecated; use a valid API token.")
    return Principal(user=user)


def _check_jwt(sandbox: Sandbox, request: Request, token: str) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
        unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _unauthorized("JWT is malformed.") from None
    if header.get("alg") != "HS256":
        raise _unauthorized("JWT must be signed with HS256.")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str):
        raise _unauthorized("JWT has no issuer.")
    installation = sandbox.installation(issuer)
    if installation is None:
        raise _unauthorized(f"Could not find an installed app with key '{issuer}'.")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            installation.shared_secret,
            algorithms=["HS256"],
            options={"require": ["iss", "iat", "exp", "qsh"], "verify_aud": False},
            leeway=sandbox.config.jwt_leeway,
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("JWT has expired.") from None
    except jwt.PyJWTError as exc:
        raise _unauthorized(f"JWT is not valid: {exc}") from None
    audience = claims.get("aud")
    if audience is not None:
        audiences = audience if isinstance(audience, list) else [audience]
        if sandbox.client_key not in audiences:
            raise _unauthorized("JWT audience does not name this site.")
    issued, expires = claims["iat"], claims["exp"]
    if not isinstance(issued, int | float) or not isinstance(expires, int | float):
        raise _unauthorized("JWT iat and exp must be numbers.")
    if issued > time.time() + sandbox.config.jwt_leeway:
        raise _unauthorized("JWT is issued in the future.")
    if expires - issued > sandbox.config.max_token_lifetime:
        raise _unauthorized("JWT lifetime is too long.")
    if claims["qsh"] == "context-qsh":
        raise _unauthorized("A context JWT cannot be used to call the REST API.")
    expected = query_string_hash(request.method, raw_target(request), sandbox.base_url)
    if not hmac.compare_digest(str(claims["qsh"]), expected):
        raise _unauthorized("JWT query string hash does not match the request.")
    descriptor = json.loads(installation.descriptor)
    scopes: set[str] = set()
    for scope in descriptor.get("scopes") or ["READ"]:
        scopes |= SCOPE_IMPLIES.get(str(scope).upper(), {str(scope).upper()})
    # An app's user administers Jira only with the ADMIN scope (and then may also silence notifications).
    permissions = DEMO_USER.permissions if "ADMIN" in scopes else DEMO_USER.permissions - {"ADMINISTER"}
    app_user = User(f"app:{issuer}", "", str(descriptor.get("name") or issuer), permissions)
    return Principal(user=app_user, app_key=issuer, scopes=frozenset(scopes))


def required_scope(method: str, path: str) -> str:
    if path.startswith("/rest/atlassian-connect/1/addons/"):
        return "NONE"
    if method in ("GET", "HEAD") or path.endswith(
        ("/search/jql", "/permissions/check", "/bulkfetch", "/approximate-count")
    ):
        return "READ"
    if method == "DELETE":
        return "DELETE"
    return "WRITE"


def require(request: Request) -> Principal:
    """Authenticate and check the app's scope for this request (apps only; the user has every permission)."""
    principal = authenticate(request)
    scope = required_scope(request.method, request.url.path)
    if not principal.allows(scope):
        raise JiraHTTPError(403, f"The app '{principal.app_key}' does not have the {scope} scope for this request.")
    request.state.principal = principal
    return principal
