"""``flowcase export``: a suite (or a model, generated with the defaults first) in a test tool's format."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from pydantic import ValidationError

from flowcase.cli import main
from flowcase.cli.common import fail, friendly_errors
from flowcase.export import FORMATS, ExportError, ExportOptions, export
from flowcase.generate.suite import SUITE_FORMAT, Suite
from flowcase.model.io import from_data, load_path
from flowcase.model.types import Model


def _read_suite(path: str) -> Suite | None:
    """The suite in ``path`` when it is a flowcase-suite/1 JSON file, else None (then it is a model)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # not a tests file: the model reader says what is wrong with it, naming the file
    if not isinstance(data, dict) or data.get("format") != SUITE_FORMAT:
        return None
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        fail(f"{path}: not a valid {SUITE_FORMAT} file: {where}: {first['msg']}")


def _source_model(suite: Suite, path: str) -> Model | None:
    """The model a tests file carries (written by `flowcase generate`), if any and if it is the one tested."""
    if suite.source_model is None:
        return None
    from flowcase.generate.assemble import model_hash

    model = from_data(suite.source_model, path)
    if model_hash(model) != suite.model_hash:
        fail(f"{path}: the model stored in the tests file does not match its tests (pass --model MODEL)")
    return model


def _target(output: str, name: str) -> Path:
    """Where to write: ``output`` itself, or ``output/name`` when it is a directory or ends with a slash
    (the directory is created then)."""
    target = Path(output)
    if output.endswith(("/", os.sep)) or target.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return target / name
    return target


def _generate(model: Model) -> Suite:
    from flowcase.generate import generate

    return generate(model)


@main.command("export")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--format", "-f", "fmt", type=click.Choice(list(FORMATS)), required=True, help="Export format.")
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="Output file, or a directory (an existing one, or any path ending with '/': created, and the "
    "file is named after the model and the format).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    help="The model of a tests file, when the file does not carry it (those written by `flowcase generate` do).",
)
@click.option("--project", help="Jira project key written into Xray and Zephyr Scale imports.")
@click.option("--folder", help="Test repository folder (Xray, Zephyr Scale) or TestRail section.")
@click.option("--bom", is_flag=True, help="Start CSV output with a UTF-8 byte-order mark.")
def export_command(
    source: str,
    fmt: str,
    output: str | None,
    model_path: str | None,
    project: str | None,
    folder: str | None,
    bom: bool,
) -> None:
    """Export SOURCE in a test tool's format.

    SOURCE is a tests file (flowcase-suite/1 JSON, as written by `--format json`) or a model file, from
    which the tests are generated with the default options first. Writes to stdout unless -o is given.
    """
    with friendly_errors():
        suite = _read_suite(source)
        model: Model | None = None
        if suite is None:
            if model_path:
                fail("--model is only for a tests file; SOURCE is already a model", 2)
            model = load_path(source).model
            suite = _generate(model)
        elif model_path:
            model = load_path(model_path).model
        else:
            model = _source_model(suite, source)
        try:
            result = export(suite, fmt, model=model, options=ExportOptions(project=project, folder=folder, bom=bom))
        except ExportError as exc:
            if FORMATS[fmt].needs_model and model is None:
                exc.add_note("pass --model MODEL")
            raise
        if output is None:
            click.echo(result.text, nl=False)
            return
        target = _target(output, suite.model + result.suffix)
        target.write_text(result.text, encoding="utf-8", newline="")
        click.echo(f"wrote {target} ({len(suite.tests)} tests, {fmt})", err=True)
