"""The generated parts of docs/cli.md: exit codes, the error classes with their exit codes, every command's --help.

``python -m flowcase.cli.docs`` rewrites docs/cli.md between its ``<!-- generated: NAME -->`` and
``<!-- end generated: NAME -->`` markers; ``--check`` exits 1 when the file is stale (scripts/test runs it, and
tests/test_cli_docs.py checks the same), so the reference cannot drift from the code.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from pathlib import Path

import click

import flowcase
from flowcase.cli import COMMANDS, main
from flowcase.errors import EXIT_MEANINGS, FlowcaseError, error_classes

WIDTH = 100
DOC = Path(__file__).resolve().parents[3] / "docs" / "cli.md"
_SKIP = ("flowcase.__main__", "flowcase.cli.docs", "flowcase.db.migrations")


def import_all() -> None:
    """Import every flowcase module, so that every subclass of FlowcaseError is defined."""
    for info in pkgutil.walk_packages(flowcase.__path__, "flowcase."):
        if not info.name.startswith(_SKIP):
            importlib.import_module(info.name)


def exit_codes() -> str:
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| {code} | {meaning} |" for code, meaning in EXIT_MEANINGS.items()]
    return "\n".join(rows)


def _public_name(cls: type[FlowcaseError]) -> str:
    module = "flowcase.errors" if cls.__module__ == "flowcase.errors" else cls.__module__
    return f"`{module}.{cls.__qualname__}`"


def error_table() -> str:
    """One row per class of the error tree: its exit code, HTTP status and API code (class defaults)."""
    import_all()
    rows = ["| error | parent | exit code | HTTP status | API code | meaning |", "|---|---|---|---|---|---|"]
    for cls in error_classes():
        parent = next((b.__qualname__ for b in cls.__bases__ if issubclass(b, FlowcaseError)), "")
        doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        doc = re.sub(r"\s+", " ", doc).replace("|", "\\|")
        rows.append(
            f"| {_public_name(cls)} | {parent} | {cls.exit_code} | {cls.http_status} | `{cls.api_code}` | {doc} |"
        )
    return "\n".join(rows)


def _helps(command: click.Command, path: list[str], parent: click.Context | None) -> list[tuple[str, str]]:
    # the command's own context settings, as `flowcase ... --help` has them (-h, --help): click keeps the help option
    # it made first, so help rendered without them would depend on what ran before in the same process
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    ctx = click.Context(command, info_name=path[-1], parent=parent, **settings)
    out = [(" ".join(path), command.get_help(ctx))]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                out += _helps(sub, [*path, name], ctx)
    return out


def command_help() -> str:
    """Every command's ``--help``, as the command line prints it (100 columns)."""
    assert set(COMMANDS) <= set(main.list_commands(click.Context(main)))
    parts = []
    for title, text in _helps(main, ["flowcase"], None):
        parts.append(f"### `{title}`\n\n```\n{text.rstrip()}\n```")
    return "\n\n".join(parts)


SECTIONS = {"exit-codes": exit_codes, "errors": error_table, "help": command_help}


def render(current: str) -> str:
    """``current`` with every generated section replaced by what the code says now."""
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n)(?:.*?\n)?(<!-- end generated: {name} -->)", re.S)
        if not pattern.search(current):
            raise SystemExit(f"docs/cli.md has no generated section {name!r}")
        body = make()
        current = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), current)  # type: ignore[misc]
    return current


def run(argv: list[str]) -> int:
    current = DOC.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in argv:
        if fresh != current:
            print("docs/cli.md is stale: run `python -m flowcase.cli.docs` and commit the result", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
