"""The options and checks shared by the commands that talk to a Jira site (``publish``, ``results --from``,
``jira ...``): the site URL, the API token credentials, project and issue keys, the Zephyr Scale and Xray
credentials."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import click

from flowcase.cli.common import EXIT_USAGE, fail
from flowcase.targets import XRAY_URL, ZEPHYR_URL, VendorAccess

F = TypeVar("F", bound=Callable[..., object])

PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,30}")
ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,30}-[1-9][0-9]{0,15}")

jira_url_option = click.option(
    "--jira", "jira_url", required=True, envvar="FLOWCASE_JIRA_URL", help="Jira site URL [env FLOWCASE_JIRA_URL]."
)
email_option = click.option(
    "--email", envvar="FLOWCASE_JIRA_EMAIL", help="Atlassian account e-mail [env FLOWCASE_JIRA_EMAIL]."
)
token_option = click.option(
    "--token", envvar="FLOWCASE_JIRA_TOKEN", help="Jira API token [env FLOWCASE_JIRA_TOKEN; preferred]."
)
_VENDOR_OPTIONS = (
    click.option(
        "--zephyr-url",
        envvar="FLOWCASE_ZEPHYR_URL",
        default=ZEPHYR_URL,
        show_default=True,
        help="Zephyr Scale Cloud API base URL [env FLOWCASE_ZEPHYR_URL].",
    ),
    click.option(
        "--zephyr-token", envvar="FLOWCASE_ZEPHYR_TOKEN", help="Zephyr Scale API token [env FLOWCASE_ZEPHYR_TOKEN]."
    ),
    click.option(
        "--xray-url",
        envvar="FLOWCASE_XRAY_URL",
        default=XRAY_URL,
        show_default=True,
        help="Xray Cloud base URL [env FLOWCASE_XRAY_URL].",
    ),
    click.option(
        "--xray-client-id",
        envvar="FLOWCASE_XRAY_CLIENT_ID",
        help="Xray API key client id [env FLOWCASE_XRAY_CLIENT_ID].",
    ),
    click.option(
        "--xray-client-secret",
        envvar="FLOWCASE_XRAY_CLIENT_SECRET",
        help="Xray API key client secret [env FLOWCASE_XRAY_CLIENT_SECRET; preferred].",
    ),
)


def credential_options(command: F) -> F:
    """``--email`` and ``--token``: the Jira API token credentials (check them with :func:`credentials`)."""
    return email_option(token_option(command))


def vendor_options(command: F) -> F:
    """``--zephyr-url``, ``--zephyr-token``, ``--xray-url``, ``--xray-client-id``, ``--xray-client-secret``
    (turn them into one :class:`VendorAccess` with :func:`vendor_access`)."""
    for option in reversed(_VENDOR_OPTIONS):
        command = option(command)
    return command


def vendor_access(
    zephyr_url: str,
    zephyr_token: str | None,
    xray_url: str,
    xray_client_id: str | None,
    xray_client_secret: str | None,
) -> VendorAccess:
    """The values of :func:`vendor_options`, with the URLs checked like ``--jira``."""
    return VendorAccess(
        zephyr_url=check_url(zephyr_url, "--zephyr-url"),
        zephyr_token=zephyr_token or "",
        xray_url=check_url(xray_url, "--xray-url"),
        xray_client_id=xray_client_id or "",
        xray_client_secret=xray_client_secret or "",
    )


def check_url(url: str, option: str = "--jira") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"{option} must be the site URL, e.g. https://your-site.atlassian.net", EXIT_USAGE)
    if parts.username or parts.password or parts.query or parts.fragment:
        fail(
            f"{option} must not carry credentials or a query; pass the credentials as options or environment "
            "variables instead",
            EXIT_USAGE,
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def check_project(project: str) -> str:
    if not PROJECT_KEY.fullmatch(project):
        fail(f"--project {project!r} is not a Jira project key (e.g. DEMO)", EXIT_USAGE)
    return project


def check_story(story: str, option: str = "--story") -> str:
    """``story`` if it is an issue key; ``option`` names it in the message ("" for an argument)."""
    if not ISSUE_KEY.fullmatch(story):
        fail(f"{option} {story!r}".lstrip() + " is not an issue key (e.g. DEMO-1)", EXIT_USAGE)
    return story


def credentials(email: str | None, token: str | None) -> tuple[str, str]:
    """The values of :func:`credential_options`; both are required."""
    if not email or not token:
        fail(
            "Jira credentials missing: pass --email and --token or set FLOWCASE_JIRA_EMAIL/FLOWCASE_JIRA_TOKEN",
            EXIT_USAGE,
        )
    return email, token
