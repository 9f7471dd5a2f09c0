"""The job table on its own (SQLite and PostgreSQL, through the real migrations): claims, leases, re-queueing,
purging."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from flowcase.db.engine import make_engine, session_factory
from flowcase.db.migrate import upgrade
from flowcase.db.testing import ENV_REQUIRE, PostgresUnavailable, postgres_url
from flowcase.jira.jobs import DONE, FAILED, QUEUED, RUNNING, JobStore, LeaseLost
from flowcase.jira.publish import Progress, PublishResult

SHA = "a" * 64


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str | None]:
    try:
        with postgres_url() as url:
            upgrade(url)
            yield url
    except PostgresUnavailable as exc:
        if os.environ.get(ENV_REQUIRE) == "1":
            pytest.fail(f"PostgreSQL required ({ENV_REQUIRE}=1) but unavailable: {exc}")
        yield None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[JobStore, Clock]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/jobs.db"
        upgrade(url)
    else:
        server = request.getfixturevalue("postgres_server")
        if server is None:
            pytest.skip("no PostgreSQL: set FLOWCASE_TEST_POSTGRES_URL or install initdb/pg_ctl")
        url = server
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM publish_job_tests"))
        conn.execute(text("DELETE FROM publish_jobs"))
    clock = Clock()
    yield JobStore(session_factory(engine), clock=clock), clock
    engine.dispose(), clock


def enqueue(store: JobStore, story: str = "DEMO-1") -> str:
    return store.enqueue(site_id="site", story_key=story, project_key="DEMO", model_revision=1, model_sha256=SHA,
                         suite_sha256=SHA, total=10)  # fmt: skip


def test_only_one_worker_wins_and_an_expired_lease_passes_the_job_on(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    job_id = enqueue(jobs)
    a = jobs.claim("a", lease_seconds=30)
    assert a is not None and a.id == job_id and a.state == RUNNING and a.attempts == 1
    assert jobs.claim("b", lease_seconds=30) is None  # leased
    jobs.progress(job_id, "a", Progress("create", 4, 10))
    clock.advance(20)
    jobs.renew(job_id, "a", 30)  # a heartbeat keeps it
    clock.advance(25)
    assert jobs.claim("b", lease_seconds=30) is None
    clock.advance(10)  # a stopped renewing 35 s ago
    b = jobs.claim("b", lease_seconds=30)
    assert b is not None and b.id == job_id and b.attempts == 2 and b.done == 4
    with pytest.raises(LeaseLost):
        jobs.progress(job_id, "a", Progress("create", 5, 10))  # the old worker may not write any more
    with pytest.raises(LeaseLost):
        jobs.mark_created(job_id, "a", [("TC-1", "DEMO-9", "h")])
    jobs.finish(job_id, "b", PublishResult(created=10, keys={f"TC-{i}": f"DEMO-{i + 10}" for i in range(10)}))
    done = jobs.get(job_id)
    assert done is not None and done.state == DONE and done.created == 10 and done.done == 10
    assert jobs.get(job_id, site_id="other-site") is None  # jobs are scoped by site


def test_journal_keeps_only_safe_ids(store: tuple[JobStore, Clock]) -> None:
    jobs, _ = store
    job_id = enqueue(jobs)
    assert jobs.claim("w", 30) is not None
    jobs.mark_sending(job_id, "w", ["TC-1", "TC-2", "not an id: customer text"])
    jobs.mark_created(job_id, "w", [("TC-1", "DEMO-5", "abc"), ("TC-2", "Some text", "abc")])
    assert jobs.unconfirmed(job_id) == {"TC-2"}


def test_outage_requeues_with_a_delay_until_attempts_run_out(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    job_id = enqueue(jobs)
    for attempt in range(1, 4):
        claimed = jobs.claim("w", 30)
        assert claimed is not None and claimed.attempts == attempt
        jobs.finish(job_id, "w", None, error_code="jira-unavailable", error_status=503, retry_in=60, max_attempts=3)
        view = jobs.get(job_id)
        assert view is not None
        if attempt < 3:
            assert view.state == QUEUED and view.phase == "waiting"
            assert jobs.claim("w", 30) is None  # not before run_after
            clock.advance(61)
    final = jobs.get(job_id)
    assert final is not None and final.state == FAILED and final.error_code == "jira-unavailable"


def test_enqueue_refuses_anything_but_keys_and_hashes(store: tuple[JobStore, Clock]) -> None:
    jobs, _ = store
    with pytest.raises(ValueError):
        enqueue(jobs, story="Checkout story")
    with pytest.raises(ValueError):
        jobs.enqueue(site_id="s", story_key="DEMO-1", project_key="DEMO", model_revision=1, model_sha256="x",
                     suite_sha256=SHA, total=1)  # fmt: skip


def test_purge_removes_old_finished_jobs(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    old, fresh = enqueue(jobs, "DEMO-1"), enqueue(jobs, "DEMO-2")
    for _ in (old, fresh):
        claimed = jobs.claim("w", 30)
        assert claimed is not None
        jobs.mark_sending(claimed.id, "w", ["TC-1"])
        jobs.finish(claimed.id, "w", PublishResult())
        clock.advance(3 * 86400)
    assert jobs.purge_finished(timedelta(days=4)) == 1
    assert jobs.get(old) is None and jobs.get(fresh) is not None


def test_one_running_publish_per_story(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    first, second, elsewhere = enqueue(jobs, "DEMO-1"), enqueue(jobs, "DEMO-1"), enqueue(jobs, "DEMO-2")
    a = jobs.claim("a", 30)
    assert a is not None and a.id == first
    b = jobs.claim("b", 30)
    assert b is not None and b.id == elsewhere  # the second DEMO-1 job waits for the first
    jobs.finish(elsewhere, "b", PublishResult())
    assert jobs.claim("c", 30) is None
    clock.advance(31)  # a died: its job is taken over before the later job for the same story
    c = jobs.claim("c", 30)
    assert c is not None and c.id == first
    jobs.finish(first, "c", PublishResult())
    d = jobs.claim("d", 30)
    assert d is not None and d.id == second


def test_a_job_that_keeps_killing_its_workers_is_given_up(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    job_id = enqueue(jobs)
    for _ in range(jobs.max_attempts):
        assert jobs.claim("w", 30) is not None
        clock.advance(31)  # the worker died without a word
    assert jobs.claim("w", 30) is None
    final = jobs.get(job_id)
    assert final is not None and final.state == FAILED and final.error_code == "too-many-attempts"
