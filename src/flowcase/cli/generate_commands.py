"""``flowcase generate`` and ``flowcase diff``: test suites from model files, and what changed between versions."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from flowcase.cli import main
from flowcase.cli.common import EXIT_INVALID, fail, friendly_errors, report
from flowcase.generate import GenerateOptions, Suite, diff, generate, parse_purpose
from flowcase.generate.engine import Progress
from flowcase.generate.options import CRITERIA, DATA_MODES
from flowcase.generate.suite import TestCase
from flowcase.model.io import load_path
from flowcase.model.types import LEVELS, Model

F = TypeVar("F", bound=Callable[..., Any])

UNREQUIRED = ("not required by", "excluded by the filters")


def _tests_option(help: str) -> Callable[[F], F]:
    """``--tests FILE``: a suite to start from instead of the one generated with default options."""
    return click.option("--tests", "tests_file", type=click.Path(dir_okay=False), help=help)


def load_model(path: str) -> Model:
    """Load a model file and refuse it when the validator reports errors (warnings are printed)."""
    loaded = load_path(path)
    try:
        from flowcase.model.validate import validate
    except ImportError:  # pragma: no cover - the validator ships with the package
        return loaded.model
    diagnostics = loaded.locate([*loaded.warnings, *validate(loaded.model)])
    report(diagnostics, path)
    if any(d.severity == "error" for d in diagnostics):
        click.echo(f"flowcase: error: {path} has errors; fix them before generating", err=True)
        sys.exit(EXIT_INVALID)
    return loaded.model


@contextmanager
def _progress() -> Iterator[Progress | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress as Bar

    with Bar(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("generating", total=None)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        yield update


def summary(suite: Suite) -> list[str]:
    """The short human summary printed on stderr."""
    steps = sum(len(t.test_steps()) for t in suite.tests)
    bound = "no lower bound" if suite.lower_bound is None else f"lower bound {suite.lower_bound}"
    verdict = "optimal" if suite.optimal else "not proven optimal"
    lines = [f"{len(suite.tests)} tests, {steps} steps ({suite.criterion}; {bound}; {verdict})"]
    pinned = [t.id for t in suite.tests if t.pinned]
    if pinned:
        lines.append(f"{len(pinned)} pinned, kept exactly: {', '.join(pinned)}")
    missing = [c for c in suite.coverage if not c.covered_by and not (c.reason or "").startswith(UNREQUIRED)]
    if missing:
        lines.append(f"{len(missing)} not covered:")
        lines += [f"  {c.kind} {c.ref}: {c.reason}" for c in missing]
    lines += [f"note: {n}" for n in suite.notes]
    return lines


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.command("generate")
@click.argument("model_file", type=click.Path(dir_okay=False))
@click.option("--criterion", type=click.Choice(CRITERIA), default="all-decisions", show_default=True)
@click.option("--loop-bound", type=int, default=1, show_default=True, help="all-paths: loop-backs per path.")
@click.option("--max-paths", type=int, default=10_000, show_default=True, help="all-paths: refuse above this.")
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    help="'[name:] pass REF; reach END; avoid REF' (repeatable; implies --criterion purposes).",
)
@click.option("--priority", type=click.Choice(LEVELS), help="Only decisions of this priority or higher.")
@click.option("--risk", type=click.Choice(LEVELS), help="Only decisions of this risk or higher.")
@click.option("--tag", "tags", multiple=True, help="Only decisions carrying one of these tags (repeatable).")
@click.option("--data", type=click.Choice(DATA_MODES), default="one", show_default=True)
@click.option("--strength", type=int, default=2, show_default=True, help="Strength of --data nwise.")
@click.option(
    "--focus",
    "focus",
    multiple=True,
    help="Risk-based strength: risk:LEVEL, priority:LEVEL, tag:T or step:NODE; those decisions also get "
    "every consecutive pair and --focus-data variants (repeatable).",
)
@click.option("--focus-data", type=click.Choice(DATA_MODES), default="pairwise", show_default=True)
@click.option(
    "--pins",
    "pins_file",
    type=click.Path(dir_okay=False),
    help="A suite whose pinned tests (and those named by --pin) are kept exactly.",
)
@click.option("--pin", "pin_ids", multiple=True, help="Pin this test of --pins (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the suite JSON here (default stdout).")
def generate_command(
    model_file: str,
    criterion: str,
    loop_bound: int,
    max_paths: int,
    purposes: tuple[str, ...],
    priority: str | None,
    risk: str | None,
    tags: tuple[str, ...],
    data: str,
    strength: int,
    focus: tuple[str, ...],
    focus_data: str,
    pins_file: str | None,
    pin_ids: tuple[str, ...],
    output: str | None,
) -> None:
    """Generate the test suite of MODEL_FILE as flowcase-suite/1 JSON, with a summary on stderr."""
    with friendly_errors():
        model = load_model(model_file)
        pins = []
        if pin_ids and not pins_file:
            raise click.UsageError("--pin needs --pins FILE (the suite holding the test)")
        if pins_file:
            held = _load_suite(pins_file).tests
            unknown = set(pin_ids) - {t.id for t in held}
            if unknown:
                fail(f"{pins_file} has no test {', '.join(sorted(unknown))}")
            pins = [t for t in held if t.pinned or t.id in pin_ids]
        chosen = "purposes" if purposes else criterion
        if model.pins and chosen in ("all-steps", "all-decisions", "all-pairs"):  # pinned in the editor, saved in it
            pins += _model_pins(model_file, model, {t.id for t in pins})
        options = GenerateOptions(
            criterion="purposes" if purposes else criterion,  # type: ignore[arg-type]
            loop_bound=loop_bound,
            max_paths=max_paths,
            purposes=tuple(parse_purpose(p) for p in purposes),
            priority=priority,  # type: ignore[arg-type]
            risk=risk,  # type: ignore[arg-type]
            tags=tags,
            data=data,  # type: ignore[arg-type]
            strength=strength,
            focus=focus,
            focus_data=focus_data,  # type: ignore[arg-type]
        )
        with _progress() as progress:
            suite = generate(model, options, progress, pins=pins)
        # the model rides along so that `flowcase export TESTS -f html` needs nothing else
        suite = suite.model_copy(update={"source_model": model.to_data()})
        _write(suite.model_dump_json(indent=2) + "\n", output)
        for line in summary(suite):
            click.echo(line, err=True)


def _model_pins(path: str, model: Model, have: set[str]) -> list[TestCase]:
    """The tests pinned in the model itself (the editor saves pins with the workflow)."""
    try:
        held = [TestCase.model_validate({**p, "pinned": True}) for p in model.pins]
    except ValidationError:
        fail(f"{path}: a pinned test in 'pins' is not a test of a generated suite")
    return [t for t in held if t.id not in have]


def _load_suite(path: str) -> Suite:
    try:
        return Suite.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        fail(f"{path} is not a flowcase suite: {where}: {first['msg']}")


@main.command("diff")
@click.argument("old_file", type=click.Path(dir_okay=False))
@click.argument("new_file", type=click.Path(dir_okay=False))
@_tests_option("The previous suite (default: generated from OLD with default options).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the regenerated suite JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print the classification as JSON on stdout.")
def diff_command(old_file: str, new_file: str, tests_file: str | None, output: str | None, as_json: bool) -> None:
    """Classify tests between two versions of a model: unchanged, updated, new, obsolete."""
    with friendly_errors():
        old, new = load_model(old_file), load_model(new_file)
        previous = _load_suite(tests_file) if tests_file else None
        result = diff(old, new, previous)
        if output:
            written = result.suite.model_copy(update={"source_model": new.to_data()})
            Path(output).write_text(written.model_dump_json(indent=2) + "\n", encoding="utf-8")
        if as_json:
            click.echo(result.model_dump_json(indent=2, exclude={"suite"}))
        names = {t.id: t.name for t in result.suite.tests}
        if previous is not None:
            names.update({t.id: t.name for t in previous.tests if t.id not in names})
        for kind in ("unchanged", "updated", "new", "obsolete"):
            ids = getattr(result, kind)
            click.echo(f"{kind}: {len(ids)}", err=True)
            if kind == "unchanged":
                continue
            for test_id in ids:
                extra = f" ({', '.join(result.changes[test_id])})" if kind == "updated" else ""
                click.echo(f"  {test_id} {names.get(test_id, '')}{extra}", err=True)


@main.command("requirements")
@click.argument("model_file", type=click.Path(dir_okay=False))
@_tests_option("The suite to trace (default: generated from MODEL_FILE with default options).")
@click.option(
    "--expect",
    "expected",
    multiple=True,
    help="A requirement key that must be covered even if no decision names it (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the matrix as JSON on stdout.")
@click.option("--strict", is_flag=True, help="Exit 1 when a requirement is covered by no test.")
def requirements_command(
    model_file: str, tests_file: str | None, expected: tuple[str, ...], as_json: bool, strict: bool
) -> None:
    """The requirement coverage matrix: for each requirement key, the decisions and tests that cover it."""
    import json

    from flowcase.generate.requirements import requirement_matrix

    with friendly_errors():
        model = load_model(model_file)
        suite = _load_suite(tests_file) if tests_file else generate(model)
        rows = requirement_matrix(suite, model, expected)
        if as_json:
            click.echo(
                json.dumps(
                    [
                        {
                            "requirement": r.key,
                            "decisions": list(r.decisions),
                            "tests": list(r.tests),
                            "reason": r.reason,
                        }
                        for r in rows
                    ],
                    indent=2,
                )
            )
        else:
            for r in rows:
                click.echo(f"{r.key}\t{', '.join(r.tests) or '-'}\t{', '.join(r.decisions) or '-'}")
        missing = [r for r in rows if not r.covered]
        click.echo(f"{len(rows) - len(missing)} of {len(rows)} requirements covered", err=True)
        for r in missing:
            click.echo(f"  not covered: {r.key}: {r.reason}", err=True)
        if strict and missing:
            sys.exit(EXIT_INVALID)
