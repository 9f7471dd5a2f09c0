"""Publishing targets: where a story's tests go (docs/targets.md).

- ``jira``: plain Jira issues, steps in the description (:mod:`flowcase.jira.publish`);
- ``xray``: Xray Cloud tests, manual steps through Xray's GraphQL API (or Cucumber tests with the Gherkin
  scenario, :mod:`flowcase.targets.xray_gherkin`), a test set per workflow (:mod:`flowcase.targets.xray`);
- ``zephyr``: Zephyr Scale Cloud test cases with steps, a folder per workflow (:mod:`flowcase.targets.zephyr`).

Every target keeps the guarantees of Jira publishing: one publish per story at a time (the story's ``publish``
lease, in Jira), a per-test identity written with the test so a republish finds it (idempotent, no duplicates),
updates in place when the content hash differs, obsolete tests marked and never deleted, and only ids, keys and
hashes in flowcase's own database (the job journal). The project's ``target`` setting chooses; the CLI's
``--target`` overrides it for one run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import httpx

from flowcase.jira.publish import PublishCall, PublishError, PublishResult, publish_call
from flowcase.jira.settings_store import Target

if TYPE_CHECKING:
    from flowcase.db.vendor import VendorCredentialStore

ZEPHYR_URL = "https://api.zephyrscale.smartbear.com/v2"
XRAY_URL = "https://xray.cloud.getxray.app"


@dataclass(frozen=True, slots=True)
class VendorAccess:
    """Credentials of the test-management apps. Never logged (``repr`` hides them), never put in URLs."""

    zephyr_url: str = ZEPHYR_URL
    zephyr_token: str = ""
    xray_url: str = XRAY_URL
    xray_client_id: str = ""
    xray_client_secret: str = ""
    site_url: str = ""  # the Jira site these credentials belong to ("" = whichever site the caller gave them for)

    def for_site(self, base_url: str) -> VendorAccess:
        """These credentials when they belong to ``base_url``'s site; none otherwise (``missing`` then says so).

        Deployment-wide credentials are one customer's: a multi-tenant app must never use them for another site.
        """
        if self.site_url and self.site_url.rstrip("/").lower() == base_url.rstrip("/").lower():
            return self
        return VendorAccess(zephyr_url=self.zephyr_url, xray_url=self.xray_url)

    def __repr__(self) -> str:
        return (
            f"VendorAccess(zephyr_url={self.zephyr_url!r}, zephyr_token={'***' if self.zephyr_token else ''!r}, "
            f"xray_url={self.xray_url!r}, xray_client_id={'***' if self.xray_client_id else ''!r})"
        )

    @classmethod
    def from_settings(cls) -> VendorAccess:
        """From the app's configuration (FLOWCASE_ZEPHYR_*, FLOWCASE_XRAY_*; docs/operations.md)."""
        from flowcase.config import get_settings

        s = get_settings()
        return cls(
            zephyr_url=s.zephyr_url,
            zephyr_token=s.zephyr_token.get_secret_value() if s.zephyr_token else "",
            xray_url=s.xray_url,
            xray_client_id=s.xray_client_id,
            xray_client_secret=s.xray_client_secret.get_secret_value() if s.xray_client_secret else "",
            site_url=s.vendor_site_url or s.jira_url,
        )

    @classmethod
    def configured(cls) -> VendorAccess:
        """:meth:`from_settings`, or no credentials when the configuration is unusable (publishing then says
        which credentials are missing)."""
        from flowcase.config import ConfigError

        try:
            return cls.from_settings()
        except ConfigError:
            return cls()

    def missing(self, target: Target) -> str | None:
        """Why ``target`` cannot be published to with these credentials (None: it can)."""
        if target == "zephyr" and not self.zephyr_token:
            return (
                "Zephyr Scale needs an API token for this Jira site: a Jira admin enters it on flowcase's admin "
                "page (standalone: FLOWCASE_ZEPHYR_TOKEN with FLOWCASE_VENDOR_SITE_URL naming the site, or "
                "--zephyr-token)"
            )
        if target == "xray" and not (self.xray_client_id and self.xray_client_secret):
            return (
                "Xray needs a client id and secret for this Jira site: a Jira admin enters them on flowcase's "
                "admin page (standalone: FLOWCASE_XRAY_CLIENT_ID/FLOWCASE_XRAY_CLIENT_SECRET with "
                "FLOWCASE_VENDOR_SITE_URL naming the site, or --xray-client-id/--xray-client-secret)"
            )
        return None


def site_access(
    store: VendorCredentialStore | None, site_id: str, base_url: str, deployment: VendorAccess | None = None
) -> VendorAccess:
    """The vendor credentials to publish with for one site (blocking: it may read the app database).

    Per vendor, what the site's admin stored for ``site_id`` (admin page, ``/api/admin/vendor-credentials``) comes
    first; otherwise the deployment's own credentials (FLOWCASE_XRAY_*, FLOWCASE_ZEPHYR_TOKEN), and those only
    when FLOWCASE_VENDOR_SITE_URL names ``base_url``'s site (standalone). Never another site's."""
    access = (deployment or VendorAccess.configured()).for_site(base_url)
    if store is None:
        return access
    stored = store.get(site_id)
    if stored.xray:
        access = replace(access, xray_client_id=stored.xray_client_id, xray_client_secret=stored.xray_client_secret)
    if stored.zephyr:
        access = replace(access, zephyr_token=stored.zephyr_token)
    return access


class CredentialsRefused(Exception):
    """The vendor refused the credentials an admin entered (the message says which, never their value)."""


async def check_credentials(
    access: VendorAccess, target: Literal["xray", "zephyr"], transport: httpx.AsyncBaseTransport | None = None
) -> str | None:
    """Ask the vendor whether ``access``'s credentials for ``target`` are accepted, with one cheap call (Xray:
    exchanging the API key for a token; Zephyr Scale: reading one test case status). None when they are; a reason
    when they could not be checked (the vendor unreachable or failing); :class:`CredentialsRefused` when the vendor
    refuses them. Only to the deployment's vendor URL, never over plain http (but to this machine), a few seconds
    at most; nothing of the credentials is logged or answered."""
    from flowcase.jira.auth import LOOPBACK
    from flowcase.jira.client import JiraClient, JiraError

    name = "Xray" if target == "xray" else "Zephyr Scale"
    url = access.xray_url if target == "xray" else access.zephyr_url
    parsed = httpx.URL(url)
    if parsed.scheme != "https" and parsed.host not in LOOPBACK:
        return f"not checked: {name}'s URL is not https"
    if target == "xray":
        auth: httpx.Auth = httpx.Auth()  # the key goes in the body of the one call
        path, method = "/api/v2/authenticate", "POST"
        body: dict[str, str] | None = {"client_id": access.xray_client_id, "client_secret": access.xray_client_secret}
        params: dict[str, int] = {}
    else:
        from flowcase.targets.zephyr import BearerAuth

        auth, path, method, body, params = BearerAuth(access.zephyr_token), "/statuses", "GET", None, {"maxResults": 1}
    async with JiraClient(url, auth, transport=transport, timeout=10.0, max_retries=2, max_wait=5.0) as client:
        try:
            await client.request(method, path, json=body, params=params)
        except JiraError as exc:
            if exc.status in (400, 401, 403):
                what = "client id and secret" if target == "xray" else "API access token"
                raise CredentialsRefused(f"{name} refused this {what} ({exc.status}): nothing was saved") from None
            why = f"{name} answered {exc.status}" if exc.status else f"{name} could not be reached"
            return f"not checked: {why}"
    return None


async def publish_to_target(call: PublishCall, access: VendorAccess | None = None) -> PublishResult:
    """Publish ``call.suite`` to the target ``call.settings`` names (see the module docs), with ``access``: the
    site's vendor credentials (:func:`site_access`)."""
    target = call.settings.target
    if target == "jira":
        return await publish_call(call)
    access = access or VendorAccess()
    why = access.missing(target)
    if why:
        raise PublishError(why, status=401)
    if target == "zephyr":
        from flowcase.targets import zephyr

        return await zephyr.publish(call, access)
    from flowcase.targets import xray, xray_gherkin

    # manual steps or Cucumber (the xray_test_type setting)
    return await xray.publish(call, access, extras_class=xray_gherkin.extras_class(call.settings))


__all__ = [
    "XRAY_URL",
    "ZEPHYR_URL",
    "CredentialsRefused",
    "PublishCall",
    "VendorAccess",
    "check_credentials",
    "publish_to_target",
    "site_access",
]
