"""The job table on its own (SQLite and PostgreSQL, through the real migrations): taking jobs over, leases,
re-queueing, purging. Which job runs when is the queue's business (test_publish_queue.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from flowcase.db.engine import make_engine, session_factory
from flowcase.db.migrate import upgrade
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[JobStore, Clock]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/jobs.db"
        upgrade(url)
    else:
        url = request.getfixturevalue("pg_url")  # conftest.py: this worker's own database, emptied
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM publish_job_tests"))
        conn.execute(text("DELETE FROM publish_jobs"))
    clock = Clock()
    yield JobStore(session_factory(engine), clock=clock), clock
    engine.dispose(), clock


def enqueue(store: JobStore, story: str = "DEMO-1") -> str:
    return store.enqueue(
        site_id="site",
        story_key=story,
        project_key="DEMO",
        model_revision=1,
        model_sha256=SHA,
        suite_sha256=SHA,
        total=10,
    )


def test_a_new_worker_takes_a_job_over_and_the_old_one_may_not_write(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    job_id = enqueue(jobs)
    a = jobs.begin(job_id, "a", lease_seconds=30)
    assert a is not None and a.id == job_id and a.state == RUNNING and a.attempts == 1
    jobs.progress(job_id, "a", Progress("create", 4, 10))
    clock.advance(20)
    jobs.renew(job_id, "a", 30)  # a heartbeat keeps it
    # the queue declared a stalled and gave the job to b
    b = jobs.begin(job_id, "b", lease_seconds=30)
    assert b is not None and b.id == job_id and b.attempts == 2 and b.done == 4
    with pytest.raises(LeaseLost):
        jobs.progress(job_id, "a", Progress("create", 5, 10))  # the old worker may not write any more
    with pytest.raises(LeaseLost):
        jobs.mark_created(job_id, "a", [("TC-1", "DEMO-9", "h")])
    with pytest.raises(LeaseLost):
        jobs.checkpoint(job_id, "a", 30, Progress("link", 5, 10))
    jobs.checkpoint(job_id, "b", 30, Progress("link", 6, 10))
    jobs.finish(job_id, "b", PublishResult(created=10, keys={f"TC-{i}": f"DEMO-{i + 10}" for i in range(10)}))
    done = jobs.get(job_id)
    assert done is not None and done.state == DONE and done.created == 10 and done.done == 10
    assert jobs.get(job_id, site_id="other-site") is None  # jobs are scoped by site
    assert jobs.begin(job_id, "c", 30) is None  # finished jobs are never run again


def test_an_expired_lease_is_lost(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    job_id = enqueue(jobs)
    assert jobs.begin(job_id, "a", 30) is not None
    clock.advance(31)
    with pytest.raises(LeaseLost):
        jobs.renew(job_id, "a", 30)


def test_journal_keeps_only_safe_ids(store: tuple[JobStore, Clock]) -> None:
    jobs, _ = store
    job_id = enqueue(jobs)
    assert jobs.begin(job_id, "w", 30) is not None
    jobs.mark_sending(job_id, "w", ["TC-1", "TC-2", "not an id: customer text"])
    jobs.mark_created(job_id, "w", [("TC-1", "DEMO-5", "abc"), ("TC-2", "Some text", "abc")])
    assert jobs.unconfirmed(job_id) == {"TC-2"}


def test_outage_requeues_with_a_delay_until_attempts_run_out(store: tuple[JobStore, Clock]) -> None:
    jobs, _ = store
    job_id = enqueue(jobs)
    for attempt in range(1, 4):
        begun = jobs.begin(job_id, "w", 30)
        assert begun is not None and begun.attempts == attempt
        jobs.finish(job_id, "w", None, error_code="jira-unavailable", error_status=503, retry_in=60, max_attempts=3)
        view = jobs.get(job_id)
        assert view is not None
        if attempt < 3:
            assert view.state == QUEUED and view.phase == "waiting"
            assert view.retry_in is not None  # the queue retries it after that long
    final = jobs.get(job_id)
    assert final is not None and final.state == FAILED and final.error_code == "jira-unavailable"


def test_enqueue_refuses_anything_but_keys_and_hashes(store: tuple[JobStore, Clock]) -> None:
    jobs, _ = store
    with pytest.raises(ValueError):
        enqueue(jobs, story="Checkout story")
    with pytest.raises(ValueError):
        jobs.enqueue(
            site_id="s",
            story_key="DEMO-1",
            project_key="DEMO",
            model_revision=1,
            model_sha256="x",
            suite_sha256=SHA,
            total=1,
        )


def test_purge_removes_old_finished_jobs(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    old, fresh = enqueue(jobs, "DEMO-1"), enqueue(jobs, "DEMO-2")
    for job_id in (old, fresh):
        assert jobs.begin(job_id, "w", 30) is not None
        jobs.mark_sending(job_id, "w", ["TC-1"])
        jobs.finish(job_id, "w", PublishResult())
        clock.advance(3 * 86400)
    assert jobs.purge_finished(timedelta(days=4)) == 1
    assert jobs.get(old) is None and jobs.get(fresh) is not None


def test_taking_a_story_over_requeues_its_stale_running_job(store: tuple[JobStore, Clock]) -> None:
    """The queue's lock says who may publish a story; a job of that story still marked running belongs to a dead
    worker: it goes back to queued (the unique index allows one running job per story)."""
    jobs, _ = store
    first, second, elsewhere = enqueue(jobs, "DEMO-1"), enqueue(jobs, "DEMO-1"), enqueue(jobs, "DEMO-2")
    assert jobs.begin(first, "a", 30) is not None
    assert jobs.begin(elsewhere, "b", 30) is not None  # another story runs beside it
    assert jobs.begin(second, "c", 30) is not None
    views = {j: jobs.get(j) for j in (first, second, elsewhere)}
    assert [v.state if v else None for v in views.values()] == [QUEUED, RUNNING, RUNNING]
    with pytest.raises(LeaseLost):
        jobs.progress(first, "a", Progress("create", 1, 10))


def test_a_job_that_keeps_killing_its_workers_is_given_up(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    job_id = enqueue(jobs)
    for _ in range(jobs.max_attempts):
        assert jobs.begin(job_id, "w", 30) is not None
        clock.advance(31)  # the worker died without a word
    assert jobs.begin(job_id, "w", 30) is None
    final = jobs.get(job_id)
    assert final is not None and final.state == FAILED and final.error_code == "too-many-attempts"
