"""The ``flowcase`` command line. Each command group lives in its own module and registers itself here.

Exit codes (documented in docs/cli.md): 0 success; 1 invalid input (the model, tests or a file is wrong);
2 usage error; 3 an external service (Jira) failed or refused; 4 a conflict (someone else changed it first).
"""

from __future__ import annotations

import click

from flowcase import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="flowcase")
def main() -> None:
    """Visual test design for Jira: validate, convert and generate tests from workflow models."""


# Command modules: each adds its commands to ``main`` when imported.
from flowcase.cli import db_commands as _db_commands  # noqa: E402,F401
from flowcase.cli import export_commands as _export_commands  # noqa: E402,F401
from flowcase.cli import generate_commands as _generate_commands  # noqa: E402,F401
from flowcase.cli import jira_commands as _jira_commands  # noqa: E402,F401
from flowcase.cli import model_commands as _model_commands  # noqa: E402,F401
from flowcase.cli import publish_commands as _publish_commands  # noqa: E402,F401
from flowcase.cli import sandbox_commands as _sandbox_commands  # noqa: E402,F401
from flowcase.web import commands as _web_commands  # noqa: E402,F401
