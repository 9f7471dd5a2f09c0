"""``flowcase sandbox`` (the sandbox Jira alone) and ``flowcase demo`` (sandbox + app + demo data)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from flowcase.cli import main
from flowcase.cli.common import EXIT_SERVICE, EXIT_USAGE, fail

DEFAULT_DATA_DIR = "./var"
F = TypeVar("F", bound=Callable[..., Any])


def _data_dir_option(help: str) -> Callable[[F], F]:
    """``--data-dir DIR``, ``./var`` by default: where the databases are kept."""
    return click.option(
        "--data-dir", default=DEFAULT_DATA_DIR, show_default=True, type=click.Path(file_okay=False), help=help
    )


def _sandbox_config(host: str, port: int, data_dir: Path, demo_data: bool) -> Any:
    from flowcase.config import get_settings
    from flowcase.sandbox.site import SandboxConfig

    settings = get_settings()
    data_dir.mkdir(parents=True, exist_ok=True)
    return SandboxConfig(
        base_url=f"http://{host}:{port}",
        database_url=settings.sandbox_database_url or f"sqlite:///{data_dir / 'sandbox.db'}",
        api_token=settings.sandbox_token.get_secret_value() if settings.sandbox_token else "",
        admin_token=settings.sandbox_admin_token.get_secret_value() if settings.sandbox_admin_token else "",
        demo_data=demo_data,
    )


def _print_access(config: Any) -> None:
    click.echo(f"  Jira REST: {config.base_url}/rest/api/3  (Basic auth: {config.user_email} + API token below)")
    click.echo(f"  API token:   {config.api_token}   (set FLOWCASE_SANDBOX_TOKEN to choose it)")
    click.echo(f"  Admin token: {config.admin_token}   (for {config.base_url}/_sandbox/faults and /_sandbox/apps)")
    click.echo(f"  Install key server: {config.base_url}/connect-keys")


@main.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (keep it local).")
@click.option("--port", default=8900, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@_data_dir_option("Where sandbox.db is kept (or set FLOWCASE_SANDBOX_DATABASE_URL).")
@click.option("--demo-data/--no-demo-data", default=True, show_default=True, help="Create project DEMO.")
@click.option(
    "--install",
    "install_urls",
    multiple=True,
    metavar="DESCRIPTOR_URL",
    help="Install the Connect app at this descriptor URL once the sandbox runs (repeatable).",
)
def sandbox_command(host: str, port: int, data_dir: str, demo_data: bool, install_urls: tuple[str, ...]) -> None:
    """Run the sandbox Jira (a local Jira Cloud stand-in) until Ctrl-C."""
    from flowcase.sandbox.app import create_sandbox_app
    from flowcase.sandbox.connect import InstallError, install
    from flowcase.sandbox.runner import PortInUseError, bind_or_explain, serve_together

    config = _sandbox_config(host, port, Path(data_dir), demo_data)
    try:
        sock = bind_or_explain(host, port)
    except PortInUseError as exc:
        fail(str(exc), EXIT_USAGE)
    try:
        app = create_sandbox_app(config)
    except BaseException:
        sock.close()  # e.g. a database from an older sandbox: the port is given back
        raise

    async def started() -> None:
        click.echo(f"Sandbox Jira running at {config.base_url}/jira  (Ctrl-C to stop)")
        _print_access(config)
        for url in install_urls:
            try:
                inst = await install(app.sandbox, url)
                click.echo(f"  Installed app '{inst.app_key}' from {url}")
            except InstallError as exc:
                click.echo(f"flowcase: error: could not install {url}: {exc}", err=True)

    asyncio.run(serve_together([(app, sock)], started))
    click.echo("Sandbox stopped.")


def settings_given() -> set[str]:
    """The settings the environment sets (the rest take their defaults)."""
    from flowcase.config import get_settings

    return set(get_settings().model_fields_set)


def _app_settings(app_port: int, sandbox_url: str, data_dir: Path, database_url: str | None = None) -> Any:
    from flowcase.config import get_settings

    overrides: dict[str, Any] = {
        "base_url": f"http://127.0.0.1:{app_port}",
        "connect_key_server": f"{sandbox_url}/connect-keys",
    }
    given = settings_given()
    if "env" not in given:
        overrides["env"] = "development"
    if database_url is not None:
        overrides["database_url"] = database_url
    elif "database_url" not in given:
        overrides["database_url"] = f"sqlite:///{data_dir / 'flowcase.db'}"
    return get_settings(**overrides)


def _build_app(settings: Any) -> Any:
    """H's web app with the Connect host; until it exists, E's Connect routes alone; else a clear error."""
    from flowcase.db.migrate import upgrade

    upgrade(settings.database_url)
    from flowcase.hosts.connect.factory import connect_from_settings

    setup = connect_from_settings(settings)
    try:
        from flowcase.web.app import create_app
    except ImportError:
        from starlette.applications import Starlette

        return Starlette(routes=setup.routes)
    return create_app(settings, hosts=[setup.host], connect=setup)


@main.command("demo")
@click.option("--port", default=8800, show_default=True, type=click.IntRange(1, 65535), help="Port of the app.")
@click.option(
    "--sandbox-port", default=8900, show_default=True, type=click.IntRange(1, 65535), help="Port of the sandbox Jira."
)
@_data_dir_option("Where the sandbox and app databases are kept.")
def demo_command(port: int, sandbox_port: int, data_dir: str) -> None:
    """Start the sandbox Jira and flowcase together, install flowcase, load demo data, print the URL to open."""
    from sqlalchemy.exc import SQLAlchemyError

    from flowcase.sandbox.app import create_sandbox_app
    from flowcase.sandbox.connect import InstallError, install
    from flowcase.sandbox.demo import WORKFLOW_STORY
    from flowcase.sandbox.demo_workflow import set_up_demo_project, store_demo_workflow
    from flowcase.sandbox.runner import PortInUseError, bind_or_explain, serve_together
    from flowcase.web.app import is_postgres

    if port == sandbox_port:
        fail("--port and --sandbox-port must differ", EXIT_USAGE)
    data = Path(data_dir)
    config = _sandbox_config("127.0.0.1", sandbox_port, data, demo_data=True)
    with contextlib.ExitStack() as resources:
        database_url = None
        if "database_url" not in settings_given():
            from flowcase.db.embedded import EmbeddedUnavailable, embedded_postgres

            try:
                database_url = resources.enter_context(embedded_postgres(data))
                click.echo(f"Embedded PostgreSQL running (data in {data / 'postgres'})")
            except EmbeddedUnavailable as exc:
                click.echo(f"flowcase: warning: {exc}; using SQLite, publishing runs inside the app", err=True)
        try:
            settings = _app_settings(port, config.base_url, data, database_url)
            app = _build_app(settings)
        except (SQLAlchemyError, OSError) as exc:
            fail(f"could not prepare the app database: {str(exc).splitlines()[0]}", EXIT_SERVICE)
        try:
            sandbox_sock = bind_or_explain("127.0.0.1", sandbox_port)
            app_sock = bind_or_explain("127.0.0.1", port)
        except PortInUseError as exc:
            fail(str(exc), EXIT_USAGE)
        sandbox_app = create_sandbox_app(config)

        async def started() -> None:
            click.echo(f"flowcase app at {settings.base_url}; sandbox Jira at {config.base_url}")
            try:
                await install(sandbox_app.sandbox, f"{settings.base_url}/atlassian-connect.json")
            except InstallError as exc:
                raise click.ClickException(f"could not install flowcase into the sandbox: {exc}") from None
            click.echo(f"  Installed '{settings.app_key}' into the sandbox (signed install verified by the app).")
            click.echo("  " + await store_demo_workflow(sandbox_app))
            click.echo('  The sandbox is a fresh Jira Cloud site: no "Test" issue type or link type until set up.')
            for line in await set_up_demo_project(sandbox_app):
                click.echo("  " + line)
            if is_postgres(settings.database_url):
                click.echo("  Publish worker running (jobs queued in PostgreSQL, as the Procfile's worker process).")
            _print_access(config)
            click.echo("")
            click.echo(f"Open {config.base_url}/browse/{WORKFLOW_STORY}   (Ctrl-C to stop)")

        async def serve() -> None:
            """The sandbox, the app and (on PostgreSQL) a publish worker, as the Procfile's web + worker."""
            stop = asyncio.Event()
            worker = None
            connect = getattr(app.state, "connect", None)
            if connect is not None and is_postgres(settings.database_url):
                from flowcase.web.worker import run_worker

                worker = asyncio.create_task(
                    run_worker(settings, connect=connect, stop=stop, concurrency=2, install_signal_handlers=False)
                )
            try:
                await serve_together([(sandbox_app, sandbox_sock), (app, app_sock)], started)
            finally:
                stop.set()
                if worker is not None:
                    await worker

        try:
            asyncio.run(serve())
        except click.ClickException as exc:
            fail(exc.message, EXIT_SERVICE)
    click.echo("Stopped.")
