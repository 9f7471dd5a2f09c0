"""``flowcase results``: execution results (Xray JSON, JUnit XML, Cucumber JSON) back onto the design."""

from __future__ import annotations

import json
from pathlib import Path

import click

from flowcase.cli import main
from flowcase.cli.common import fail, friendly_errors
from flowcase.cli.export_commands import _generate, _read_suite, _source_model
from flowcase.model.io import load_path
from flowcase.model.types import Model


@main.command("results")
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument(
    "results_files", metavar="RESULTS...", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True)
)
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
    model_path: str | None,
    fmt: str,
    keys_path: str | None,
    output: str | None,
    as_json: bool,
) -> None:
    """Map execution RESULTS to the tests of SOURCE and show what passed, failed or was not run.

    SOURCE is a model file (its tests are generated with the default options) or a tests file. Each result is
    matched by the test id it names (TC-...: the Gherkin, Robot and pytest exports carry it), by its Xray
    testKey (with --keys), or by the test's name. Exit codes: 0 read (whatever the results say); 1 a file
    cannot be read; 2 usage.
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
            click.echo(f"  {status:<8} {test.id}  {test.name}{why}")
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
