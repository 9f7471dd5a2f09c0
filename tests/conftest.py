"""Fixtures shared by the test files.

``sb``: a running sandbox Jira with the demo data, one per test module (a fresh Jira Cloud site: no "Test" issue
type or link type). A module marked ``pytestmark = pytest.mark.sandbox(setup=True)`` gets a site that is set up
for publishing instead; ``sandbox(setup=True, xray=True)``, one where Xray is installed in project DEMO as well
(its issue types: ``RunningSandbox.setup_xray``). The sandbox serves on a free port of 127.0.0.1 and keeps its
data in its own temporary database, so modules (and pytest-xdist workers) never share one.

PostgreSQL (tests marked ``postgres``): ``postgres_server`` is the server, ``FLOWCASE_TEST_POSTGRES_URL`` or a
throwaway one per test process (None when there is none, which skips, or fails under FLOWCASE_REQUIRE_POSTGRES=1);
``pg_database`` is this test process's own database on it, migrated to head: under pytest-xdist each worker
creates ``<database>_<worker>`` (``flowcase_test_gw0``, ...) and drops it at the end, so workers never see each
other's rows, LISTEN/NOTIFY channels or advisory locks; run serially it is the server's database itself.
``pg_url`` is that database emptied for one test (installations, jobs and the procrastinate queue).

``connect_bed``: a Connect app on a fresh SQLite database of the test (``ConnectTestbed``), closed after it.

``engine_of``: ``make_engine`` for one test; every engine it made is disposed when the test ends, so no pooled
connection is left for the garbage collector (psycopg warns about those, and a warning fails the suite).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from flowcase.db.engine import make_engine
from flowcase.db.migrate import upgrade
from flowcase.db.testing import ENV_REQUIRE, PostgresUnavailable, postgres_url
from flowcase.sandbox.testing import RunningSandbox, running_sandbox
from flowcase.web.connect_testing import ConnectTestbed


@pytest.fixture(scope="module")
def sb(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    marker = request.node.get_closest_marker("sandbox")
    setup = bool(marker.kwargs.get("setup", False)) if marker else False
    xray = bool(marker.kwargs.get("xray", False)) if marker else False
    # The sandbox server runs in a thread of this process: switch threads more often than every 5 ms so that the
    # client and the server do not wait on each other for the GIL at every call (about 2x faster).
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        with running_sandbox(demo_data=True, setup=setup) as running:
            if xray:
                running.setup_xray("DEMO")
            yield running
    finally:
        sys.setswitchinterval(previous)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    try:
        with postgres_url() as url:
            yield url
    except PostgresUnavailable as exc:
        if os.environ.get(ENV_REQUIRE) == "1":
            pytest.fail(f"PostgreSQL required ({ENV_REQUIRE}=1) but unavailable: {exc}")
        yield None


@pytest.fixture(scope="session")
def pg_database(postgres_server: str | None) -> Iterator[str]:
    if postgres_server is None:
        pytest.skip("no PostgreSQL: set FLOWCASE_TEST_POSTGRES_URL or install initdb/pg_ctl")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        upgrade(postgres_server)
        yield postgres_server
        return
    server = make_url(postgres_server)
    name = f"{server.database or 'postgres'}_{worker}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # left by a run that was killed
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> str:
    engine = make_engine(pg_database)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "TRUNCATE installations, publish_job_tests, publish_jobs, procrastinate_jobs, "
                    "procrastinate_workers, vendor_credentials RESTART IDENTITY CASCADE"
                )
            )
    finally:
        engine.dispose()
    return pg_database


@pytest.fixture
def engine_of() -> Iterator[Callable[[str], Engine]]:
    made: list[Engine] = []

    def make(url: str) -> Engine:
        made.append(make_engine(url))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


@pytest.fixture
def connect_bed(tmp_path: Path) -> Iterator[ConnectTestbed]:
    bed = ConnectTestbed(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        yield bed
    finally:
        bed.close()
