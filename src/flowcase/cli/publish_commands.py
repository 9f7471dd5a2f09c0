"""``flowcase publish``: generate the tests of a model and publish them to a Jira story with an API token.

Idempotent: running it again updates changed tests, creates only new ones and marks dropped ones obsolete.
The token is read from ``--token`` or ``FLOWCASE_JIRA_TOKEN``; it is never accepted inside the URL and never
printed.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from flowcase.cli import main
from flowcase.cli.common import EXIT_INVALID, EXIT_SERVICE, fail, friendly_errors, report
from flowcase.cli.jira_options import (
    check_project,
    check_story,
    check_url,
    credential_options,
    credentials,
    jira_url_option,
    vendor_access,
    vendor_options,
)
from flowcase.generate.suite import Criterion, Suite
from flowcase.jira.auth import ApiTokenAuth
from flowcase.jira.client import JiraClient
from flowcase.jira.publish import Progress as PublishProgress
from flowcase.jira.publish import PublishResult
from flowcase.jira.settings_store import TARGETS, XRAY_TEST_TYPES, Target, XrayTestType, load_settings
from flowcase.jira.storage import ConflictError, canonical_json, load_model, save_model
from flowcase.model.types import Model
from flowcase.targets import PublishCall, VendorAccess, publish_to_target

CRITERIA = ("all-steps", "all-decisions", "all-pairs", "all-paths")


def _generate(model: Model, criterion: Criterion) -> Suite:
    from flowcase.generate import GenerateOptions, generate

    return generate(model, GenerateOptions(criterion=criterion))


async def _save(client: JiraClient, story: str, model: Model, expected: int | None) -> str:
    """Store the model on the story (unchanged: nothing written; someone else's version: ConflictError)."""
    stored = await load_model(client, story)
    if stored is not None and stored.sha256 == hashlib.sha256(canonical_json(model)).hexdigest():
        return f"{story}: the stored model is already this one (revision {stored.revision})"
    current = stored.revision if stored else None
    if current is not None and expected != current:
        raise ConflictError(story, expected, current)
    revision = await save_model(client, story, model, current)
    return f"{story}: model saved as revision {revision}"


async def _run(
    url: str,
    auth: ApiTokenAuth,
    model: Model,
    suite: Suite,
    project: str,
    story: str,
    show_progress: bool,
    save: bool = False,
    expected: int | None = None,
    target: Target | None = None,
    access: VendorAccess | None = None,
    xray_test_type: XrayTestType | None = None,
) -> tuple[PublishResult, str | None]:
    with Progress(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        disable=not show_progress,
    ) as bar:
        task = bar.add_task("search", total=len(suite.tests))

        def on_progress(p: PublishProgress) -> None:
            bar.update(task, description=p.phase, completed=p.done, total=max(p.total, 1))

        async with JiraClient(url, auth) as client:
            saved = await _save(client, story, model, expected) if save else None
            settings = await load_settings(client, project_key=project)
            if target is not None:
                settings = settings.model_copy(update={"target": target})
            if xray_test_type is not None:
                settings = settings.model_copy(update={"xray_test_type": xray_test_type})
            call = PublishCall(client, model, suite, story, project, settings, on_progress)
            return await publish_to_target(call, access), saved


@main.command("publish")
@click.argument("model_file", type=click.Path(dir_okay=False))
@jira_url_option
@click.option("--project", required=True, help="Project key the test issues are created in.")
@click.option("--story", required=True, help="Issue key of the story the tests are linked to.")
@credential_options
@click.option("--criterion", type=click.Choice(CRITERIA), default="all-decisions", show_default=True)
@click.option("--save-model", "save", is_flag=True, help="Also store the model on the story (panel, editor).")
@click.option(
    "--expect-revision",
    type=click.IntRange(min=1),
    default=None,
    help="With --save-model: the stored revision you mean to replace (else a different stored model "
    "is a conflict, exit 4).",
)
@click.option(
    "--target",
    type=click.Choice(TARGETS),
    default=None,
    help="Publish as Jira issues, Xray tests or Zephyr Scale test cases [default: the project's setting, else jira].",
)
@click.option(
    "--xray-tests",
    "xray_test_type",
    type=click.Choice(XRAY_TEST_TYPES),
    default=None,
    help="With --target xray: manual tests (steps) or cucumber tests (the Gherkin scenario as the definition) "
    "[default: the project's setting, else manual].",
)
@vendor_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def publish_command(
    model_file: str,
    jira_url: str,
    project: str,
    story: str,
    email: str | None,
    token: str | None,
    criterion: Criterion,
    save: bool,
    expect_revision: int | None,
    target: Target | None,
    xray_test_type: XrayTestType | None,
    zephyr_url: str,
    zephyr_token: str | None,
    xray_url: str,
    xray_client_id: str | None,
    xray_client_secret: str | None,
    quiet: bool,
) -> None:
    """Generate the tests of MODEL_FILE and publish them as issues linked to --story.

    Exit codes: 0 published; 1 invalid model; 2 usage; 3 Jira failed or refused (some tests may be missing: run
    again, it resumes without duplicates); 4 conflict.
    """
    from flowcase.cli.model_commands import load_checked

    url = check_url(jira_url)
    check_project(project)
    check_story(story)
    email, token = credentials(email, token)
    with friendly_errors():
        loaded, diagnostics = load_checked(model_file)
    if any(d.severity == "error" for d in diagnostics):
        report(diagnostics, model_file)
        sys.exit(EXIT_INVALID)
    model = loaded.model
    suite = _generate(model, criterion)
    auth = ApiTokenAuth(email, token)  # errors: flowcase.errors, translated by the CLI (exit codes in docs/cli.md)
    access = vendor_access(zephyr_url, zephyr_token, xray_url, xray_client_id, xray_client_secret)
    result, saved = asyncio.run(
        _run(
            url,
            auth,
            model,
            suite,
            project,
            story,
            not quiet and sys.stderr.isatty(),
            save,
            expect_revision,
            target,
            access,
            xray_test_type,
        )
    )
    if saved:
        click.echo(saved)
    click.echo(
        f"{story}: {result.total} test(s): {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.obsoleted} marked obsolete, {result.links_created} link(s) added, "
        f"{result.create_calls} create call(s)"
    )
    if result.duplicates:
        click.echo(
            f"{story}: {result.duplicates} duplicate issue(s) found, unlinked and labelled "
            f"flowcase-duplicate (not deleted): {', '.join(result.duplicate_keys)}"
        )
    if result.missing_requirements:
        click.echo(
            f"warning: requirement key(s) not found in Jira, not linked: {', '.join(result.missing_requirements)}",
            err=True,
        )
    if result.failed:
        fail(
            f"Jira refused {len(result.failed)} test(s), e.g. {result.failed[0]}; fix the project's issue type "
            "or required fields and run again",
            EXIT_SERVICE,
        )
