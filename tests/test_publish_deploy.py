"""A publish queued before a deploy runs after it without anyone doing anything: the web process of the old
release queues the job (no worker runs), the release goes away, and the new release's ``flowcase worker`` process
(the Procfile's worker type, configured only by the environment) picks the job up and publishes it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet

from builders import connect_settings
from flowcase.config import Settings
from flowcase.db.engine import make_engine, session_factory
from flowcase.jira.jobs import DONE, JobStore
from flowcase.sandbox.connect import PageContext, context_token
from flowcase.sandbox.server import bind, serve_in_thread
from flowcase.sandbox.testing import running_sandbox
from flowcase.web.app import close_app, create_app
from flowcase.web.publishing import QueuedPublisher

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[1]


def test_a_job_queued_before_a_deploy_runs_after_it(pg_url: str) -> None:
    pg = pg_url  # conftest.py: this worker's own database, emptied
    engine = make_engine(pg)
    store = JobStore(session_factory(engine))
    key = Fernet.generate_key().decode()
    model = yaml.safe_load((ROOT / "examples" / "login.yaml").read_text())
    with running_sandbox(demo_data=True, setup=True) as sb:
        sock = bind()
        port = sock.getsockname()[1]
        settings = connect_settings(sb, port, pg, secret_keys=key)
        # Release 1: web processes only; a user publishes, the job is queued.
        app = create_app(settings)
        assert isinstance(app.state.publisher, QueuedPublisher)
        with serve_in_thread(app, sock=sock) as url:
            installation = sb.install(f"{url}/atlassian-connect.json")
            token = context_token(
                sb.sandbox,
                installation,
                PageContext(issue_key="DEMO-2", issue_id="10002", project_key="DEMO", project_id="10000"),
            )
            started = httpx.post(
                f"{url}/api/publish",
                json={"issueKey": "DEMO-2", "doc": {"model": model}},
                headers={"Authorization": f"JWT {token}"},
                timeout=30,
            )
            assert started.status_code == 202, started.text
            job_id = started.json()["id"]
            time.sleep(1.0)
            view = store.get(job_id)
            assert view is not None and view.state == "queued"  # nobody runs it in this release
        # The release is replaced: release 2 starts its worker process from the environment alone.
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "FLOWCASE_ENV": "test",
            "FLOWCASE_DATABASE_URL": pg,
            "FLOWCASE_SECRET_KEYS": key,
            "FLOWCASE_BASE_URL": settings.base_url,
            "FLOWCASE_CONNECT_KEY_SERVER": sb.key_server,
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "flowcase", "worker", "--concurrency", "2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while (view := store.get(job_id)) is not None and view.state not in ("done", "failed"):
                assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else ""
                assert time.monotonic() < deadline, "the queued job never ran"
                time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)  # a dyno restart: the worker stops cleanly
            out = worker.communicate(timeout=30)[0].decode()
        assert worker.returncode == 0, out
        assert view is not None and view.state == DONE, (view, out)
        assert view.created > 0 and view.created == view.total
    engine.dispose()


def test_forge_sites_publish_in_the_web_process(pg_url: str) -> None:
    """Forge's tokens come with each invocation and live in the web process's memory, so a worker process could
    not call Jira for a Forge site: those publishes run in the web process; Connect sites go to the queue."""
    from flowcase.hosts.forge.host import FORGE_INSTALLATION

    settings = Settings(
        env="test",
        database_url=pg_url,
        secret_keys=Fernet.generate_key().decode(),
        forge_app_id="ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000",
    )
    app = create_app(settings)
    publisher = app.state.publisher
    assert isinstance(publisher, QueuedPublisher)
    assert publisher.in_process(f"{FORGE_INSTALLATION}abc") and not publisher.in_process("connect-client-key")
    # the app's shutdown closes what it opened: the queue's pool and the pooled connections of its engine
    engine = app.state.connect.store.engine
    assert publisher.store.get("no-such-job") is None  # a database read leaves a connection in the pool
    assert engine.pool.checkedin() == 1
    asyncio.run(close_app(app))
    assert engine.pool.checkedin() == 0
