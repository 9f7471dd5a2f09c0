"""``flowcase results``: execution results back onto the design, from files (Xray JSON, JUnit XML, Cucumber JSON)
or read straight from Xray's test runs or Zephyr Scale's test executions (``--from``)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from flowcase.cli import main
from flowcase.cli.common import EXIT_SERVICE, EXIT_USAGE, fail, friendly_errors
from flowcase.cli.export_commands import _generate, _read_suite, _source_model
from flowcase.cli.jira_options import (
    check_project,
    check_story,
    check_url,
    credential_options,
    credentials,
    vendor_access,
    vendor_options,
)
from flowcase.export.results import Results
from flowcase.generate.suite import Suite
from flowcase.jira.auth import ApiTokenAuth
from flowcase.jira.client import JiraClient
from flowcase.model.io import load_path
from flowcase.model.types import Model
from flowcase.targets import VendorAccess


@main.command("results")
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("results_files", metavar="[RESULTS...]", nargs=-1, type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--from",
    "remote",
    type=click.Choice(["xray", "zephyr"]),
    default=None,
    help="Read the results from the test tool instead of files: the latest Xray test run or Zephyr Scale test "
    "execution of each test published for --story.",
)
@click.option("--jira", "jira_url", envvar="FLOWCASE_JIRA_URL", help="With --from: Jira site URL.")
@click.option("--project", help="With --from: the project the tests were published in (default: the story's).")
@click.option("--story", help="With --from: the story the tests were published for.")
@credential_options
@vendor_options
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    help="The model of a tests file, when the file does not carry it.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "xray", "junit", "cucumber"]),
    default="auto",
    show_default=True,
    help="Format of the results files (auto: from their content).",
)
@click.option(
    "--keys",
    "keys_path",
    type=click.Path(dir_okay=False, exists=True),
    help="JSON object test id -> issue key (what a publish created), to match Xray's testKey.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the HTML report with the results: status per test and a heat map on the diagram.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (per test and per element).")
def results_command(
    source: str,
    results_files: tuple[str, ...],
    remote: str | None,
    jira_url: str | None,
    project: str | None,
    story: str | None,
    email: str | None,
    token: str | None,
    zephyr_url: str,
    zephyr_token: str | None,
    xray_url: str,
    xray_client_id: str | None,
    xray_client_secret: str | None,
    model_path: str | None,
    fmt: str,
    keys_path: str | None,
    output: str | None,
    as_json: bool,
) -> None:
    """Map execution RESULTS to the tests of SOURCE and show what passed, failed or was not run.

    SOURCE is a model file (its tests are generated with the default options) or a tests file. Each result is
    matched by the test id it names (TC-...: the Gherkin, Robot and pytest exports carry it), by its Xray
    testKey (with --keys), or by the test's name.

    With --from xray|zephyr (and --jira, --story, the Jira and the tool's credentials) the results are read from
    the tool: each test published for the story is found by the identity the publish wrote, and its latest
    execution gives its status (printed with the execution and its date). Exit codes: 0 read (whatever the
    results say); 1 a file cannot be read; 2 usage; 3 Jira or the tool failed or refused.
    """
    from flowcase.export.results import ResultsError, heat, load

    with friendly_errors():
        suite = _read_suite(source)
        model: Model | None
        if suite is None:
            model = load_path(source).model
            suite = _generate(model)
        else:
            model = load_path(model_path).model if model_path else _source_model(suite, source)
        if model is None:
            fail("the tests file does not carry its model: pass --model MODEL", 2)
        keys: dict[str, str] = {}
        if keys_path:
            try:
                data = json.loads(Path(keys_path).read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                fail(f"{keys_path}: not JSON ({exc})")
            if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                fail(f"{keys_path}: expected a JSON object of test id -> issue key")
            keys = {str(k): v for k, v in data.items()}
        if remote is not None:
            if results_files:
                fail("give RESULTS files or --from, not both", EXIT_USAGE)
            results = _remote(
                remote,
                suite,
                model,
                jira_url,
                project,
                story,
                email,
                token,
                vendor_access(zephyr_url, zephyr_token, xray_url, xray_client_id, xray_client_secret),
            )
        else:
            if not results_files:
                fail("give RESULTS files, or --from xray|zephyr to read them from the test tool", EXIT_USAGE)
            files = [(name, Path(name).read_bytes()) for name in results_files]
            try:
                results = load(suite, files, keys, None if fmt == "auto" else fmt)  # type: ignore[arg-type]
            except ResultsError as exc:
                fail(str(exc))
    heat_map = heat(model, suite, results)
    if as_json:
        click.echo(
            json.dumps({**results.as_json(), "elements": {k: v.as_json() for k, v in heat_map.items()}}, indent=2)
        )
    else:
        counts = results.counts()
        click.echo(
            f"{len(suite.tests)} test(s): {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['not-run']} not run ({results.matched} result(s) matched)"
        )
        for test in suite.tests:
            status = results.tests[test.id]
            why = f"  {results.messages[test.id]}" if test.id in results.messages else ""
            src = results.sources.get(test.id)
            where = f"  ({src['key']} in {src['execution']}: {src['status']}, {src['at'] or 'no date'})" if src else ""
            click.echo(f"  {status:<8} {test.id}  {test.name}{where}{why}")
        failing = [(ref, h) for ref, h in heat_map.items() if h.failed and "#" not in ref]
        if failing:
            click.echo("Failing behaviour (steps whose tests failed, most failures first):")
            for ref, h in sorted(failing, key=lambda rh: (-rh[1].failed / (rh[1].failed + rh[1].passed), rh[0])):
                click.echo(f"  {ref}: {h.failed} failed, {h.passed} passed, {h.not_run} not run")
    if results.unmatched:
        click.echo(
            f"warning: {len(results.unmatched)} result(s) match no test: {', '.join(results.unmatched[:10])}", err=True
        )
    if output:
        from flowcase.export.report_html import html

        Path(output).write_text(html(suite, model, results), encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


def _remote(
    source: str,
    suite: Suite,
    model: Model,
    jira_url: str | None,
    project: str | None,
    story: str | None,
    email: str | None,
    token: str | None,
    access: VendorAccess,
) -> Results:
    """The suite's results read from Xray or Zephyr Scale for ``story`` (docs/targets.md)."""
    from flowcase.targets.results_remote import RemoteResultsError, read_remote

    if not jira_url or not story:
        fail("--from needs --jira (or FLOWCASE_JIRA_URL) and --story", EXIT_USAGE)
    url = check_url(jira_url)
    check_story(story)
    project = check_project(project or story.rsplit("-", 1)[0])
    email, token = credentials(email, token)

    async def run() -> Results:
        async with JiraClient(url, ApiTokenAuth(email, token)) as jira:
            found = await read_remote(source, jira, access, project, story, model.id)  # type: ignore[arg-type]
        return found.results(suite)

    try:
        return asyncio.run(run())
    except RemoteResultsError as exc:
        fail(str(exc), EXIT_SERVICE)
