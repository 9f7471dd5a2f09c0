"""The ``flowcase`` command line. Each command group lives in its own module and registers itself here.

Commands are imported only when they run (``COMMANDS`` maps each name to its module and its one-line help), so
``flowcase --help`` or ``flowcase validate`` never load what other commands need (numpy, SQLAlchemy, httpx...).

Exit codes (documented in docs/cli.md, and known by each class of flowcase.errors): 0 success; 1 invalid input
(the model, tests or a file is wrong); 2 usage error; 3 an external service (Jira) failed or refused; 4 a conflict
(someone else changed it first).
"""

from __future__ import annotations

import importlib

import click

from flowcase import __version__
from flowcase.cli.common import friendly_errors

# name -> (module that defines it, its one-line help: test_cli_model checks these against the commands)
COMMANDS: dict[str, tuple[str, str]] = {
    "convert": (
        "flowcase.cli.model_commands",
        "Convert a model FILE to another format (json, yaml, bpmn, graphwalker).",
    ),
    "db": (
        "flowcase.cli.db_commands",
        "The app's own database (installations and job bookkeeping, no customer content): migrations, keys.",
    ),
    "demo": (
        "flowcase.cli.sandbox_commands",
        "Start the sandbox Jira and flowcase together, install flowcase, load demo data, print the URL to open.",
    ),
    "diff": (
        "flowcase.cli.generate_commands",
        "Classify tests between two versions of a model: unchanged, updated, new, obsolete.",
    ),
    "export": ("flowcase.cli.export_commands", "Export SOURCE in a test tool's format."),
    "generate": (
        "flowcase.cli.generate_commands",
        "Generate the test suite of MODEL_FILE as flowcase-suite/1 JSON, with a summary on stderr.",
    ),
    "jira": (
        "flowcase.cli.jira_commands",
        "The Jira site and the model kept on a story: set up a project for publishing, save a model file on a "
        "story, restore the previous revision, repair.",
    ),
    "publish": (
        "flowcase.cli.publish_commands",
        "Generate the tests of MODEL_FILE and publish them as issues linked to --story.",
    ),
    "requirements": (
        "flowcase.cli.generate_commands",
        "The requirement coverage matrix: for each requirement key, the decisions and tests that cover it.",
    ),
    "results": (
        "flowcase.cli.results_commands",
        "Map execution RESULTS to the tests of SOURCE and show what passed, failed or was not run.",
    ),
    "sandbox": ("flowcase.cli.sandbox_commands", "Run the sandbox Jira (a local Jira Cloud stand-in) until Ctrl-C."),
    "schema": (
        "flowcase.cli.model_commands",
        "Print the JSON Schema of the flowcase model format (JSON and YAML files).",
    ),
    "show": (
        "flowcase.cli.model_commands",
        "Print a readable summary of a model: parameters, variables, and each step's decision table.",
    ),
    "validate": (
        "flowcase.cli.model_commands",
        "Check model FILES; print one line per problem as FILE:LINE:COL: severity: where: message [code].",
    ),
    "web": ("flowcase.cli.web_commands", "Open the flowcase editor locally."),
    "worker": (
        "flowcase.cli.web_commands",
        "Run queued publish jobs until SIGTERM (the Procfile's worker process; needs PostgreSQL).",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they are looked up, and listed in ``--help`` from ``COMMANDS``.

    Every command runs inside :func:`flowcase.cli.common.friendly_errors`, the one place where errors of the
    :mod:`flowcase.errors` tree become messages and exit codes.
    """

    def invoke(self, ctx: click.Context) -> object:
        with friendly_errors():
            return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(COMMANDS[cmd_name][0])  # the module registers its commands on ``main``
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is not None:
                rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append((name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.version_option(__version__, prog_name="flowcase")
def _main() -> None:
    """Visual test design for Jira: validate, convert and generate tests from workflow models."""


main = LazyGroup(
    "flowcase",
    callback=_main,
    params=getattr(_main, "__click_params__", []),
    help=_main.__doc__,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
