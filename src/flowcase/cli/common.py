"""Shared CLI plumbing: exit codes, error reporting without tracebacks, reading models."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from flowcase.model.diagnostics import Diagnostic, ModelError

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_SERVICE = 3
EXIT_CONFLICT = 4

err_console_write: Callable[[str], None] = lambda line: click.echo(line, err=True)  # noqa: E731


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    click.echo(f"flowcase: error: {message}", err=True)
    sys.exit(code)


def report(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], source: str | None) -> None:
    for d in diagnostics:
        click.echo(d.format(source), err=True)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn expected failures into one-line messages and exit codes instead of tracebacks."""
    try:
        yield
    except ModelError as exc:
        report(exc.diagnostics, exc.source)
        sys.exit(EXIT_INVALID)
    except FileNotFoundError as exc:
        fail(f"no such file: {exc.filename}")
    except IsADirectoryError as exc:
        fail(f"is a directory: {exc.filename}")
    except PermissionError as exc:
        fail(f"permission denied: {exc.filename}")
    except UnicodeDecodeError as exc:
        fail(f"not UTF-8 text: {exc.reason}")
