"""``flowcase jira ...``: the model kept on a Jira story, from the command line (API token, like ``publish``).

``save`` stores a model file on the story with the same revision check as the editor; ``restore`` makes the
previous revision current again; ``--replace-damaged`` is the explicit repair of a model that cannot be read back.
Exit codes: 0 done; 1 invalid model; 2 usage; 3 Jira failed or the stored model is damaged; 4 conflict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from flowcase.cli import jira_options, main
from flowcase.cli.common import EXIT_INVALID, EXIT_SERVICE, fail, friendly_errors, report
from flowcase.config import get_settings
from flowcase.jira.auth import ApiTokenAuth
from flowcase.jira.client import JiraClient, JiraRefused
from flowcase.jira.lease import LeaseTiming
from flowcase.jira.storage import ConflictError, DamagedError, StorageError, load_model, restore_previous, save_model

T = TypeVar("T")

expect_option = click.option(
    "--expect-revision",
    type=click.IntRange(min=1),
    default=None,
    help="The stored revision you mean to replace (else any other stored revision is a conflict, exit 4).",
)


@main.group("jira")
def jira_group() -> None:
    """The Jira site and the model kept on a story: set up a project for publishing, save a model file on a
    story, restore the previous revision, repair."""


def _timing() -> LeaseTiming:
    return LeaseTiming(settle=get_settings().save_settle_seconds)


def _run(
    jira_url: str, email: str | None, token: str | None, story: str, action: Callable[[JiraClient], Awaitable[T]]
) -> T:
    url = jira_options.check_url(jira_url)
    jira_options.check_story(story, "")
    email, token = jira_options.credentials(email, token)

    async def go() -> T:
        async with JiraClient(url, ApiTokenAuth(email, token)) as client:
            return await action(client)

    return asyncio.run(go())  # errors: flowcase.errors, translated by the CLI (exit codes in docs/cli.md)


@jira_group.command("setup")
@click.option("--project", required=True, help="Key of the project tests are published to.")
@jira_options.jira_url_option
@jira_options.credential_options
@click.option("--check", "check_only", is_flag=True, help="Only tell what is missing; change nothing.")
@click.option(
    "--use-issue-type",
    default=None,
    help="Publish tests as this existing issue type (e.g. Task) instead "
    "of creating 'Test' (saved in the project's flowcase settings).",
)
@click.option(
    "--use-link-type",
    default=None,
    help="Link tests with this existing link type (e.g. Relates) instead of creating 'Test'.",
)
def setup_command(
    project: str,
    jira_url: str,
    email: str | None,
    token: str | None,
    check_only: bool,
    use_issue_type: str | None,
    use_link_type: str | None,
) -> None:
    """Make PROJECT ready for publishing: create the "Test" issue type (adding it to the project's issue type
    scheme) and the "Test" link type when missing (needs a Jira admin's token), or map to existing types.

    Exit codes: 0 ready; 2 usage; 3 Jira failed or something is still missing (what and how to fix it is printed).
    """
    from flowcase.jira.preflight import Readiness, check, setup
    from flowcase.jira.settings_store import load_settings

    jira_options.check_project(project)
    url = jira_options.check_url(jira_url)
    email, token = jira_options.credentials(email, token)

    async def go() -> tuple[list[str], Readiness]:
        async with JiraClient(url, ApiTokenAuth(email, token)) as client:
            settings = await load_settings(client, project_key=project)
            if check_only:
                return [], await check(client, project, settings)
            done = await setup(client, project, settings, use_issue_type=use_issue_type, use_link_type=use_link_type)
            return done.actions, done.readiness

    try:
        actions, readiness = asyncio.run(go())
    except JiraRefused as exc:
        if exc.status == 403:
            exc.add_note("creating issue and link types needs a Jira administrator's API token")
        raise
    for action in actions:
        click.echo(f"{project}: {action}")
    summary = readiness.summary()
    if not readiness.ready:
        fail(summary, EXIT_SERVICE)
    click.echo(summary)


@jira_group.command("save")
@click.argument("model_file", type=click.Path(dir_okay=False))
@click.option("--story", required=True, help="Issue key of the story that keeps the model.")
@jira_options.jira_url_option
@jira_options.credential_options
@expect_option
@click.option(
    "--replace-damaged",
    is_flag=True,
    help="Replace a stored model that cannot be read back (refused while the stored model is healthy).",
)
def save_command(
    model_file: str,
    story: str,
    jira_url: str,
    email: str | None,
    token: str | None,
    expect_revision: int | None,
    replace_damaged: bool,
) -> None:
    """Store MODEL_FILE on --story (what the panel and the editor open)."""
    from flowcase.cli.model_commands import load_checked

    with friendly_errors():
        loaded, diagnostics = load_checked(model_file)
    if any(d.severity == "error" for d in diagnostics):
        report(diagnostics, model_file)
        raise SystemExit(EXIT_INVALID)
    timing = _timing()

    async def action(client: JiraClient) -> int:
        if replace_damaged:
            return await save_model(client, story, loaded.model, None, replace_damaged=True, timing=timing)
        stored = await load_model(client, story)
        current = stored.revision if stored else None
        if current is not None and expect_revision != current:
            raise ConflictError(story, expect_revision, current, saved_at=stored.saved_at if stored else None)
        return await save_model(client, story, loaded.model, current, timing=timing)

    revision = _run(jira_url, email, token, story, action)
    click.echo(f"{story}: model saved as revision {revision}")


@jira_group.command("restore")
@click.argument("story")
@jira_options.jira_url_option
@jira_options.credential_options
@expect_option
def restore_command(
    story: str, jira_url: str, email: str | None, token: str | None, expect_revision: int | None
) -> None:
    """Make the previous revision of STORY's model current again (saved as a new revision: undo it the same way).

    Works on a damaged model too: the previous revision is kept until the next save.
    """
    timing = _timing()

    async def action(client: JiraClient) -> tuple[int, int]:
        try:
            current = await load_model(client, story)
            revision = current.revision if current else None
        except DamagedError as exc:
            revision = exc.revision
        if expect_revision is not None and revision != expect_revision:
            raise ConflictError(story, expect_revision, revision)
        previous = await load_model(client, story, previous=True)
        if previous is None:
            raise StorageError(f"{story} keeps no previous revision of its model")
        return previous.revision, await restore_previous(client, story, revision, timing=timing)

    old, new = _run(jira_url, email, token, story, action)
    click.echo(f"{story}: revision {old} restored as revision {new}")
