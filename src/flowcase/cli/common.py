"""Shared CLI plumbing: exit codes, error reporting without tracebacks, reading models."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from flowcase.errors import EXIT_CONFLICT as EXIT_CONFLICT
from flowcase.errors import EXIT_INVALID as EXIT_INVALID
from flowcase.errors import EXIT_OK as EXIT_OK
from flowcase.errors import EXIT_SERVICE as EXIT_SERVICE
from flowcase.errors import EXIT_USAGE as EXIT_USAGE
from flowcase.errors import FlowcaseError
from flowcase.model.diagnostics import Diagnostic, ModelError

err_console_write: Callable[[str], None] = lambda line: click.echo(line, err=True)  # noqa: E731


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    click.echo(f"flowcase: error: {message}", err=True)
    sys.exit(code)


def report(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], source: str | None) -> None:
    for d in diagnostics:
        click.echo(d.format(source), err=True)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """THE translation at the CLI edge (``flowcase.cli.LazyGroup`` runs every command inside it): expected
    failures become one-line messages and the exit code their class names (flowcase.errors), never tracebacks.

    A :class:`~flowcase.errors.ModelError` prints one line per diagnostic; any other
    :class:`~flowcase.errors.FlowcaseError` prints ``flowcase: error: <message>`` and the notes added on the way
    up (``exc.add_note``: hints that only the command knows). Files that cannot be read are invalid input.
    """
    try:
        yield
    except ModelError as exc:
        report(exc.diagnostics, exc.source)
        sys.exit(exc.exit_code)
    except FlowcaseError as exc:
        fail("\n".join([exc.cli_message(), *getattr(exc, "__notes__", ())]), exc.exit_code)
    except FileNotFoundError as exc:
        fail(f"no such file: {exc.filename}")
    except IsADirectoryError as exc:
        fail(f"is a directory: {exc.filename}")
    except PermissionError as exc:
        fail(f"permission denied: {exc.filename}")
    except UnicodeDecodeError as exc:
        fail(f"not UTF-8 text: {exc.reason}")
