"""design -> generate -> publish -> edit -> republish against the sandbox, then the app database is scanned:
no customer text (model name, node names, actions, expected results, test names...) may be anywhere in it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, Text, inspect, select, text

from builders import all_decisions, create_story, jira_client
from flowcase.db.engine import Base, make_engine, session_factory
from flowcase.db.migrate import upgrade
from flowcase.generate import GenerateOptions, generate
from flowcase.generate.suite import Suite
from flowcase.jira.client import JiraClient
from flowcase.jira.jobs import DONE, JobStore, Worker
from flowcase.jira.publish import OBSOLETE_LABEL, TEST_PROPERTY, model_label
from flowcase.jira.storage import load_model, save_model
from flowcase.model.io import load_path
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox
from jobtools import save_and_submit, submit_revision, work_until_settled

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "checkout.yaml"


pytestmark = pytest.mark.sandbox(setup=True)  # the shared `sb` fixture (conftest.py): a site set up for publishing


def customer_texts(model: Model, *suites: Suite) -> set[str]:
    texts = {model.name, model.description}
    texts |= {p.description for p in model.parameters} | {v.description for v in model.variables}
    for wf in model.workflows:
        texts |= {wf.name, wf.description}
        for node in wf.nodes:
            texts |= {node.name, node.description}
            for d in node.table:
                texts |= {d.action, d.expected, d.objective or ""}
    for suite in suites:
        texts |= {t.name for t in suite.tests} | {s.expected for t in suite.tests for s in t.steps}
    return {t.strip().lower() for t in texts if t and len(t.strip()) >= 6}


def edit(model: Model) -> Model:
    """A designer's edit: reword one expected result, replace the 'leave' decision by a new 'save for later'."""
    data: dict[str, Any] = model.model_dump(mode="json")
    cart = next(n for n in data["workflows"][0]["nodes"] if n["id"] == "cart")
    cart["decisions"][0]["expected"] = "The checkout page lists every item with its price and the subtotal."
    leave = next(d for d in cart["decisions"] if d["id"] == "leave")
    leave.update(
        id="save_later",
        action="Press 'Save for later' on every item and sign out.",
        expected="The saved items are listed under 'Saved for later' after signing in again.",
    )
    return Model.model_validate(data)


def test_design_publish_edit_republish_leaves_no_customer_text_in_the_db(sb: RunningSandbox, tmp_path: Path) -> None:
    db_file = tmp_path / "app.db"
    db_url = f"sqlite:///{db_file}"
    upgrade(db_url)
    engine = make_engine(db_url)
    store = JobStore(session_factory(engine))
    model = load_path(EXAMPLE).model
    options = GenerateOptions(criterion="all-decisions")
    suite = generate(model, options)
    edited = edit(model)
    suite2 = generate(edited, options)

    def client() -> JiraClient:
        return jira_client(sb)

    async def flow() -> tuple[str, list[Any]]:
        async with client() as c:
            story = await create_story(c)
            job1, _ = await save_and_submit(c, store, story, model, suite)
        worker = Worker(store, lambda job: client(), settle_seconds=0)
        first = await worker.execute(job1)
        async with client() as c:
            stored = await load_model(c, story)
            assert stored is not None and stored.model == model
            rev2 = await save_model(c, story, edited, stored.revision)
            job2 = await submit_revision(c, store, story, rev2, edited, suite2)
        second = await worker.execute(job2)
        return story, [first, second]

    story, views = asyncio.run(flow())
    first, second = views
    assert first.state == DONE and first.created == len(suite.tests)
    assert second.state == DONE
    old_ids, new_ids = {t.id for t in suite.tests}, {t.id for t in suite2.tests}
    assert second.created == len(new_ids - old_ids) > 0
    assert second.obsoleted == len(old_ids - new_ids) > 0
    assert second.updated > 0  # the reworded expected result changed tests that kept their id

    async def issues() -> list[dict[str, Any]]:
        async with client() as c:
            return await c.search_all(
                f'labels = "{model_label(model.id)}" AND project = DEMO',
                fields=("labels", "summary"),
                properties=(TEST_PROPERTY,),
            )

    found = asyncio.run(issues())
    assert len(found) == len(old_ids | new_ids)  # obsolete tests are kept, never deleted
    obsolete = {i["properties"][TEST_PROPERTY]["id"] for i in found if OBSOLETE_LABEL in i["fields"]["labels"]}
    assert obsolete == old_ids - new_ids

    # The scan: every table, every text column, plus the raw bytes of the database file.
    secrets = customer_texts(model, suite) | customer_texts(edited, suite2)
    assert len(secrets) > 30
    rows_seen = 0
    names = inspect(engine).get_table_names()
    assert {"publish_jobs", "publish_job_tests"} <= set(names)
    with engine.connect() as conn:
        for name in names:
            table = Base.metadata.tables.get(name)
            columns = (
                [c.name for c in table.columns if isinstance(c.type, String | Text)]
                if table is not None
                else [r[1] for r in conn.execute(text(f'PRAGMA table_info("{name}")'))]
            )
            for row in conn.execute(text(f'SELECT * FROM "{name}"')).mappings():
                rows_seen += 1
                for column in columns:
                    value = row.get(column)
                    if isinstance(value, str):
                        low = value.lower()
                        leaked = [s for s in secrets if s in low]
                        assert not leaked, f"{name}.{column} holds customer text: {leaked[0]!r}"
    assert rows_seen > len(suite.tests)  # the journal rows really were written
    engine.dispose()
    raw = db_file.read_bytes().lower()
    assert not [s for s in secrets if s.encode() in raw]
    with session_factory(make_engine(db_url))() as s:
        assert s.scalar(select(text("count(*)")).select_from(text("publish_jobs"))) == 2
    assert story


@pytest.mark.postgres
def test_the_queue_on_postgresql_holds_no_customer_text_either(sb: RunningSandbox, pg_url: str) -> None:
    """The same publish through the procrastinate queue and a worker on PostgreSQL; then every row of every table
    (procrastinate's included), rendered whole as text, is searched for the customer's words."""
    from flowcase.jira.queue import PublishQueue, WorkerTiming

    url = pg_url  # conftest.py: this worker's own database, emptied
    engine = make_engine(url)
    store = JobStore(session_factory(engine))
    try:
        model = load_path(EXAMPLE).model
        suite = all_decisions(model)

        async def flow() -> str:
            queue = PublishQueue(url)
            worker = Worker(store, lambda job: jira_client(sb), settle_seconds=0)
            try:
                async with jira_client(sb) as c:
                    story = await create_story(c)
                    job, _ = await save_and_submit(c, store, story, model, suite)
                await queue.defer(job, "sandbox", story)
                await work_until_settled(queue, store, job, worker.execute, timing=WorkerTiming(poll=0.1), seconds=60)
                return job
            finally:
                await queue.close()

        job_id = asyncio.run(flow())
        final = store.get(job_id)
        assert final is not None and final.state == DONE and final.created == len(suite.tests)
        secrets = customer_texts(model, suite)
        rows_seen = 0
        with engine.connect() as conn:
            tables = [
                r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
            ]
            assert {"procrastinate_jobs", "procrastinate_events", "publish_jobs", "installations"} <= set(tables)
            for name in tables:
                for (row,) in conn.execute(text(f'SELECT t::text FROM "{name}" t')):
                    rows_seen += 1
                    low = row.lower()
                    leaked = [s for s in secrets if s in low]
                    assert not leaked, f"{name} holds customer text: {leaked[0]!r}"
        assert rows_seen > len(suite.tests)
    finally:
        engine.dispose()
