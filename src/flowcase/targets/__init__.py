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

from dataclasses import dataclass

from flowcase.generate.suite import Suite
from flowcase.jira import lease, preflight
from flowcase.jira.client import JiraClient
from flowcase.jira.publish import Journal, ProgressFn, PublishError, PublishResult, publish
from flowcase.jira.settings_store import PublishSettings, Target
from flowcase.model.types import Model

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
                "Zephyr Scale needs an API token for this Jira site (FLOWCASE_ZEPHYR_TOKEN with "
                "FLOWCASE_VENDOR_SITE_URL naming the site, or --zephyr-token)"
            )
        if target == "xray" and not (self.xray_client_id and self.xray_client_secret):
            return (
                "Xray needs a client id and secret for this Jira site (FLOWCASE_XRAY_CLIENT_ID/"
                "FLOWCASE_XRAY_CLIENT_SECRET with FLOWCASE_VENDOR_SITE_URL naming the site, or "
                "--xray-client-id/--xray-client-secret)"
            )
        return None


async def publish_to_target(
    client: JiraClient,
    model: Model,
    suite: Suite,
    story_key: str,
    project_key: str,
    settings: PublishSettings,
    progress: ProgressFn | None = None,
    *,
    access: VendorAccess | None = None,
    journal: Journal | None = None,
    settle_seconds: float = 5.0,
    lease_timing: lease.LeaseTiming | None = None,
    readiness: preflight.Readiness | None = None,
) -> PublishResult:
    """Publish ``suite`` to the target the settings name (see the module docs)."""
    target = settings.target
    if target == "jira":
        return await publish(
            client,
            model,
            suite,
            story_key,
            project_key,
            settings,
            progress,
            journal=journal,
            settle_seconds=settle_seconds,
            lease_timing=lease_timing,
            readiness=readiness,
        )
    access = access or VendorAccess()
    why = access.missing(target)
    if why:
        raise PublishError(why, status=401)
    if target == "zephyr":
        from flowcase.targets import zephyr

        return await zephyr.publish(
            client,
            model,
            suite,
            story_key,
            project_key,
            settings,
            progress,
            access=access,
            journal=journal,
            lease_timing=lease_timing,
        )
    from flowcase.targets import xray, xray_gherkin

    return await xray.publish(
        client,
        model,
        suite,
        story_key,
        project_key,
        settings,
        progress,
        access=access,
        journal=journal,
        settle_seconds=settle_seconds,
        lease_timing=lease_timing,
        readiness=readiness,
        extras_class=xray_gherkin.extras_class(settings),  # manual steps or Cucumber (the xray_test_type setting)
    )


__all__ = ["XRAY_URL", "ZEPHYR_URL", "VendorAccess", "publish_to_target"]
