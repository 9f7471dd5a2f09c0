"""``flowcase validate``, ``convert``, ``schema`` and ``show``: working with model files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from flowcase.cli import main
from flowcase.cli.common import EXIT_INVALID, friendly_errors, report
from flowcase.model.diagnostics import Diagnostic
from flowcase.model.io import FORMATS, Format, Loaded, dumps, load_path
from flowcase.model.schema import model_schema
from flowcase.model.types import Model
from flowcase.model.validate import validate

FORMAT_CHOICE = click.Choice(FORMATS)
EXTENSIONS: dict[str, str] = {"json": ".json", "yaml": ".yaml", "bpmn": ".bpmn", "graphwalker": ".graphwalker.json"}


def load_checked(path: str, fmt: Format | None = None) -> tuple[Loaded, list[Diagnostic]]:
    """Load and validate a model; diagnostics (with lines and columns) are the load warnings plus validation's."""
    loaded = load_path(path, fmt)
    return loaded, [*loaded.warnings, *loaded.locate(validate(loaded.model))]


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--from", "fmt", type=FORMAT_CHOICE, help="Input format (default: from the file name and content).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the diagnostics as JSON on stdout.")
def validate_command(files: tuple[str, ...], fmt: Format | None, strict: bool, as_json: bool) -> None:
    """Check model FILES; print one line per problem as FILE:LINE:COL: severity: where: message [code].

    Exits 0 when every file is valid, 1 when any has an error (or a warning, with --strict).
    """
    failed = False
    results = []
    for path in files:
        try:
            with friendly_errors():
                loaded, diagnostics = load_checked(path, fmt)
        except SystemExit:
            failed = True
            continue
        bad = [d for d in diagnostics if d.severity == "error" or strict]
        failed = failed or bool(bad)
        if as_json:
            results.append({"file": path, "valid": not bad, "diagnostics": [_as_dict(d) for d in diagnostics]})
            continue
        report(diagnostics, path)
        if not bad:
            model = loaded.model
            nodes = sum(len(w.nodes) for w in model.workflows)
            rows = sum(1 for w in model.workflows for _ in w.edges())
            click.echo(f"{path}: ok ({len(model.workflows)} workflow(s), {nodes} nodes, {rows} decisions)", err=True)
    if as_json:
        click.echo(json.dumps(results, indent=2))
    if failed:
        sys.exit(EXIT_INVALID)


def _as_dict(d: Diagnostic) -> dict[str, object]:
    return {
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "workflow": d.workflow,
        "element": d.element,
        "field": d.field,
        "line": d.line,
        "column": d.column,
    }


@main.command("convert")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--to", "target", type=FORMAT_CHOICE, required=True, help="Output format.")
@click.option("--from", "fmt", type=FORMAT_CHOICE, help="Input format (default: from the file name and content).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Output file ('-' = stdout).")
def convert_command(file: str, target: Format, fmt: Format | None, output: str | None) -> None:
    """Convert a model FILE to another format (json, yaml, bpmn, graphwalker).

    Anything the target format cannot carry is reported as a warning. A model with errors is not converted.
    Without -o the result goes to stdout.
    """
    with friendly_errors():
        loaded, diagnostics = load_checked(file, fmt)
        report(diagnostics, file)
        if any(d.severity == "error" for d in diagnostics):
            sys.exit(EXIT_INVALID)
        text = dumps(loaded.model, target)
        _write(text, output)


def _write(text: str, output: str | None) -> None:
    if output in (None, "-"):
        click.echo(text, nl=False)
        return
    assert output is not None
    out = Path(output)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # atomic: a failure never leaves a half-written file
    click.echo(f"wrote {out}", err=True)


@main.command("schema")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Output file ('-' = stdout).")
def schema_command(output: str | None) -> None:
    """Print the JSON Schema of the flowcase model format (JSON and YAML files)."""
    _write(json.dumps(model_schema(), indent=2) + "\n", output)


@main.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--from", "fmt", type=FORMAT_CHOICE, help="Input format (default: from the file name and content).")
def show_command(file: str, fmt: Format | None) -> None:
    """Print a readable summary of a model: parameters, variables, and each step's decision table."""
    with friendly_errors():
        loaded, diagnostics = load_checked(file, fmt)
    render(loaded.model, Console(highlight=False, width=None if sys.stdout.isatty() else 200))
    report(diagnostics, file)


def render(model: Model, console: Console) -> None:
    console.print(f"[bold]{model.label}[/bold]  (id {model.id})")
    if model.description:
        console.print(model.description)
    if model.parameters:
        console.print("\n[bold]Parameters[/bold]")
        for p in model.parameters:
            console.print(f"  {p.name}: " + ", ".join(map(str, p.values)))
    if model.variables:
        console.print("\n[bold]Variables[/bold]")
        for v in model.variables:
            console.print(f"  {v.name} = {v.initial!r}")
    for w in model.workflows:
        console.print(f"\n[bold]Workflow {w.label}[/bold]  ({len(w.nodes)} nodes)")
        for node in w.nodes:
            title = f"{node.kind} [bold]{node.id}[/bold]" + (f" — {node.name}" if node.name else "")
            if node.kind == "call":
                title += f" (calls {node.workflow})"
            if not node.decisions:
                console.print(f"  {title}" + (f" → {node.next}" if node.next else ""))
                continue
            table = Table(title=title, title_justify="left", show_lines=False, pad_edge=False)
            for column in ("#", "when", "set", "action", "expected", "next", "objective"):
                table.add_column(column, overflow="fold")
            for d in node.table:
                next_cell = d.next + (f" (after {d.after})" if d.after else "")
                table.add_row(d.id or "", d.when, d.set, d.action, d.expected, next_cell, d.objective)
            console.print(table)
