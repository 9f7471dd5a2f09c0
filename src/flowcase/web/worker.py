"""The ``worker`` process (Procfile): runs queued publish jobs until SIGTERM.

It builds what a job needs from the same settings as the web process (the installations for signed Jira calls,
Forge when configured) and hands each queued job id to :class:`flowcase.jira.jobs.Worker`. Several worker
processes may run; the queue's per-story lock keeps one publish per story at a time. The demo runs one inside
its own process (``flowcase demo``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from flowcase.config import ConfigError, Settings
from flowcase.db.engine import session_factory
from flowcase.db.vendor import VendorCredentialStore
from flowcase.generate.suite import Suite
from flowcase.hosts.connect.factory import ConnectSetup, connect_from_settings
from flowcase.hosts.forge.factory import forge_from_settings
from flowcase.jira.jobs import Generator, JobDeferred, JobInputError, JobStore, Worker, generate_recipe, make_resolver
from flowcase.jira.queue import PublishQueue, WorkerTiming
from flowcase.model.types import Model
from flowcase.web.app import is_postgres, job_clients, vendor_access_for
from flowcase.web.compute import Compute, Limits
from flowcase.web.errors import ApiError

log = logging.getLogger("flowcase.worker")


def make_worker(
    settings: Settings, connect: ConnectSetup | None = None, *, settle_seconds: float = 2.0, retry_in: float = 15.0
) -> tuple[PublishQueue, Worker]:
    if not is_postgres(settings.database_url):
        raise ConfigError("the publish worker needs PostgreSQL (FLOWCASE_DATABASE_URL / DATABASE_URL)")
    setup = connect or connect_from_settings(settings)
    forge = forge_from_settings(settings)
    store = JobStore(session_factory(setup.store.engine))
    worker = Worker(
        store,
        job_clients(setup, forge.host if forge is not None else None),
        resolve=make_resolver(settings.app_key, generator=pooled_generation(Compute(Limits.from_settings(settings)))),
        lease_seconds=30.0,
        settle_seconds=settle_seconds,
        retry_in=retry_in,
        # each job's site's own Xray/Zephyr credentials from the app database (else the deployment's, for their site)
        access_for=vendor_access_for(VendorCredentialStore(setup.store.engine, setup.store.box)),
    )
    return PublishQueue(settings.database_url), worker


def pooled_generation(compute: Compute) -> Generator:
    """A job's generation in ``compute``'s worker processes, under the same limits as the web's (time, memory, a
    share per site), so a model that cannot be generated within them fails its job instead of holding a thread of
    the worker forever: ``too-large`` (time or memory; the CLI has no limit), ``bad-input`` (the model or the
    recipe cannot be generated), or, when every compute worker is busy, ``busy`` and the job runs again later."""

    async def generate_in_pool(site_id: str, model: Model, criterion: Any, options: dict[str, Any]) -> Suite:
        try:
            return await compute.run(site_id, generate_recipe, model, criterion, options)
        except ApiError as exc:
            if exc.code == "busy":
                raise JobDeferred("busy", exc.message) from None
            raise JobInputError("too-large" if exc.code == "too-large" else "bad-input", exc.message) from None

    return generate_in_pool


async def run_worker(
    settings: Settings,
    *,
    concurrency: int = 4,
    connect: ConnectSetup | None = None,
    stop: asyncio.Event | None = None,
    timing: WorkerTiming | None = None,
    install_signal_handlers: bool = True,
) -> None:
    queue, worker = make_worker(settings, connect)
    log.info("publish worker %s started", worker.worker_id)
    try:
        await queue.run_worker(
            worker.execute,
            concurrency=concurrency,
            timing=timing,
            stop=stop,
            install_signal_handlers=install_signal_handlers,
        )
    finally:
        await queue.close()
