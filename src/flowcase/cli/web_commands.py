"""``flowcase web``: the editor on this machine (standalone host), against a Jira site or local files only."""

from __future__ import annotations

import click

from flowcase.cli import main


@main.command("web")
@click.option("--port", default=8700, show_default=True, type=click.IntRange(1, 65535), help="Port on 127.0.0.1.")
def web_command(port: int) -> None:
    """Open the flowcase editor locally. Jira from FLOWCASE_JIRA_URL/_EMAIL/_TOKEN (optional).

    Only 127.0.0.1 is served, and only to a browser that presents the access token printed here.
    """
    import uvicorn

    from flowcase.config import get_settings
    from flowcase.hosts.standalone import StandaloneHost
    from flowcase.web.app import create_app

    settings = get_settings(base_url=f"http://127.0.0.1:{port}")
    host = StandaloneHost.from_settings(settings)
    app = create_app(settings, hosts=[host])
    where = f"Jira site {host.site.base_url}" if host.site else "local files only (no FLOWCASE_JIRA_URL)"
    click.echo(f"flowcase editor for {where}")
    click.echo(f"Open http://127.0.0.1:{port}/app/login?token={host.token}   (Ctrl-C to stop)")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@main.command("worker")
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Publish jobs run at once by this process.",
)
def worker_command(concurrency: int) -> None:
    """Run queued publish jobs until SIGTERM (the Procfile's worker process; needs PostgreSQL)."""
    import asyncio

    from flowcase.config import get_settings
    from flowcase.web.accesslog import configure_logging
    from flowcase.web.worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_level)
    asyncio.run(run_worker(settings, concurrency=concurrency))
