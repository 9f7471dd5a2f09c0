"""Results read straight from the test tools (issue 20): tests published to Xray and Zephyr Scale through the
sandbox's stand-ins, executed there as a tester would (Xray Test Executions with test run statuses, Zephyr Scale
test cycles with test executions), then read back per test (latest execution wins, with where it comes from) and
onto the diagram; by the library, the CLI (``flowcase results --from``) and the web API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import FAST, all_decisions, checkout_model, jira_client, standalone_app, vendor_env
from flowcase.cli import main
from flowcase.export.results import heat
from flowcase.jira.settings_store import PublishSettings
from flowcase.model.io import dumps
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox, run_sync
from flowcase.targets import PublishCall, VendorAccess, publish_to_target
from flowcase.targets.results_remote import RemoteResults, RemoteResultsError, read_remote

pytestmark = pytest.mark.sandbox(setup=True, xray=True)  # the shared `sb` fixture (conftest.py)


async def _publish(sb: RunningSandbox, model: Model, story: str, target: str) -> dict[str, str]:
    async with jira_client(sb) as c:
        settings = PublishSettings(target=target)  # type: ignore[arg-type]
        call = PublishCall(c, model, all_decisions(model), story, "DEMO", settings, settle_seconds=0, lease_timing=FAST)
        result = await publish_to_target(call, sb.vendor_access())
    return dict(result.keys)


async def _read(
    sb: RunningSandbox, source: str, story: str, model: Model, access: VendorAccess | None = None
) -> RemoteResults:
    async with jira_client(sb) as c:
        return await read_remote(source, c, access or sb.vendor_access(), "DEMO", story, model.id)  # type: ignore[arg-type]


def test_xray_latest_test_run_wins_and_says_where_it_comes_from(sb: RunningSandbox) -> None:
    model = checkout_model("rxray")
    keys = run_sync(_publish(sb, model, "DEMO-1", "xray"))
    a, b, c = (keys[t.id] for t in all_decisions(model).tests)
    first = sb.xray_execution({a: "FAILED", b: "PASSED"}, summary="Sprint 1")
    second = sb.xray_execution({a: "PASSED", b: "FAILED"}, summary="Sprint 2")
    remote = run_sync(_read(sb, "xray", "DEMO-1", model))
    assert remote.keys == keys
    by_key = {run.test_key: run for run in remote.runs.values()}
    assert {k: (r.status, r.execution) for k, r in by_key.items()} == {
        a: ("passed", second),
        b: ("failed", second),
    }
    assert first != second and by_key[a].status_name == "PASSED" and by_key[a].at.startswith("20")
    results = remote.results(all_decisions(model))
    ids = {v: k for k, v in keys.items()}
    assert results.tests == {ids[a]: "passed", ids[b]: "failed", ids[c]: "not-run"}
    assert results.sources[ids[b]] == {"key": b, "status": "FAILED", "execution": second, "at": by_key[b].at}
    assert ids[c] not in results.sources and results.unmatched == []
    # the latest run wins even when it is still in progress: not run, from that execution
    third = sb.xray_execution({c: "EXECUTING"})
    again = run_sync(_read(sb, "xray", "DEMO-1", model))
    later = again.results(all_decisions(model))
    assert later.tests[ids[c]] == "not-run" and later.sources[ids[c]]["execution"] == third
    # a suite generated otherwise, without the third test: its execution is listed as unmatched, not mapped
    fewer = again.results(all_decisions(checkout_model("rxray", 2)))
    assert ids[c] not in fewer.tests and fewer.unmatched == [c] and fewer.matched == 2
    # onto the diagram: the step's arrow of the failed test is "fail"
    elements = heat(model, all_decisions(model), results)
    assert sorted(h.level for ref, h in elements.items() if ref.startswith("main/pick#")) == ["fail", "not-run", "pass"]


def test_zephyr_latest_execution_wins_and_statuses_are_named_by_the_project(sb: RunningSandbox) -> None:
    model = checkout_model("rzephyr")
    keys = run_sync(_publish(sb, model, "DEMO-2", "zephyr"))
    a, b, c = (keys[t.id] for t in all_decisions(model).tests)
    sb.zephyr_execution({a: "Fail", b: "Pass", c: "Pass"}, actualEndDate="2026-11-01T10:00:00Z", comment="Cart empty")
    cycle = sb.zephyr_execution(
        {a: "Pass", b: "Fail"}, actualEndDate="2026-11-02T10:00:00Z", comment="Card refused\nstack"
    )
    sb.zephyr_execution({c: "Blocked"}, actualEndDate="2026-10-01T10:00:00Z")  # older: does not win
    remote = run_sync(_read(sb, "zephyr", "DEMO-2", model))
    ids = {v: k for k, v in keys.items()}
    results = remote.results(all_decisions(model))
    assert results.tests == {ids[a]: "passed", ids[b]: "failed", ids[c]: "passed"}
    assert results.messages == {ids[b]: "Card refused"}
    assert results.sources[ids[b]]["at"] == "2026-11-02T10:00:00Z"
    assert results.sources[ids[b]]["status"] == "Fail"
    assert results.sources[ids[b]]["execution"].startswith("DEMO-E")
    assert cycle.startswith("DEMO-R")
    blocked = sb.zephyr_execution({c: "Blocked"}, actualEndDate="2026-11-03T10:00:00Z")
    assert blocked
    again = run_sync(_read(sb, "zephyr", "DEMO-2", model)).results(all_decisions(model))
    assert again.tests[ids[c]] == "not-run" and again.sources[ids[c]]["status"] == "Blocked"


def test_missing_or_wrong_credentials_are_refused_naming_the_tool(sb: RunningSandbox) -> None:
    model = checkout_model("rxray")
    with pytest.raises(RemoteResultsError, match="Xray needs a client id") as missing:
        run_sync(_read(sb, "xray", "DEMO-1", model, VendorAccess()))
    assert missing.value.status == 401
    wrong = VendorAccess(zephyr_url=sb.zephyr_url, zephyr_token="wrong")
    with pytest.raises(RemoteResultsError, match="Zephyr Scale") as refused:
        run_sync(_read(sb, "zephyr", "DEMO-2", model, wrong))
    assert refused.value.status == 401


def test_cli_results_from_xray_and_zephyr(sb: RunningSandbox, tmp_path: Path) -> None:
    model = checkout_model("rcli", 2)
    path = tmp_path / "model.yaml"
    path.write_text(dumps(model, "yaml"), encoding="utf-8")
    keys = run_sync(_publish(sb, model, "DEMO-3", "xray"))
    first, second = (keys[t.id] for t in all_decisions(model).tests)
    execution = sb.xray_execution({first: "FAILED", second: "PASSED"})
    env = {
        "FLOWCASE_JIRA_EMAIL": sb.email,
        "FLOWCASE_JIRA_TOKEN": sb.api_token,
        "FLOWCASE_XRAY_CLIENT_ID": sb.sandbox.config.xray_client_id,
        "FLOWCASE_XRAY_CLIENT_SECRET": sb.sandbox.config.xray_client_secret,
        "FLOWCASE_ZEPHYR_TOKEN": sb.sandbox.config.zephyr_token,
    }
    common = ["--jira", sb.base_url, "--project", "DEMO", "--story", "DEMO-3"]
    runner = CliRunner()
    out = runner.invoke(
        main,
        ["results", str(path), "--from", "xray", *common, "--xray-url", sb.xray_url, "-o", str(tmp_path / "r.html")],
        env=env,
    )
    assert out.exit_code == 0, out.output
    assert "2 test(s): 1 passed, 1 failed, 0 not run" in out.output
    assert f"{first} in {execution}" in out.output and "FAILED" in out.output
    report = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="results"' in report and "heat-fail" in report
    assert "<th>Latest execution</th>" in report and f"{first} in {execution}: FAILED, 20" in report
    as_json = runner.invoke(
        main, ["results", str(path), "--from", "xray", *common, "--xray-url", sb.xray_url, "--json"], env=env
    )
    data = json.loads(as_json.stdout)
    assert sorted(data["counts"].items()) == [("failed", 1), ("not-run", 0), ("passed", 1)]
    assert {v["execution"] for v in data["sources"].values()} == {execution}
    # Zephyr for a story published to Xray: no test cases there, every test not run
    z = runner.invoke(main, ["results", str(path), "--from", "zephyr", *common, "--zephyr-url", sb.zephyr_url], env=env)
    assert z.exit_code == 0, z.output
    assert "0 passed, 0 failed, 2 not run" in z.output
    # usage: files and --from together, or neither; --from without a story
    assert runner.invoke(main, ["results", str(path)], env=env).exit_code == 2
    assert runner.invoke(main, ["results", str(path), "--from", "xray"], env=env).exit_code == 2
    bad = runner.invoke(
        main,
        ["results", str(path), "--from", "xray", *common, "--xray-url", sb.xray_url],
        env={**env, "FLOWCASE_XRAY_CLIENT_SECRET": "wrong"},
    )
    assert bad.exit_code == 3 and "Xray" in bad.output and "wrong" not in bad.output


TOKEN = "results-remote-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_web_api_reads_the_storys_results_from_the_projects_tool(
    sb: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.testclient import TestClient

    from flowcase.jira.settings_store import save_settings

    model = checkout_model("rweb")
    keys = run_sync(_publish(sb, model, "DEMO-4", "zephyr"))
    a, b, _ = (keys[t.id] for t in all_decisions(model).tests)
    sb.zephyr_execution({a: "Pass", b: "Fail"}, comment="Total wrong")
    body = {"issueKey": "DEMO-4", "doc": {"model": json.loads(dumps(model, "json"))}}
    with TestClient(standalone_app(TOKEN, sb)) as client:
        plain = client.post("/api/results/remote", json=body, headers=AUTH)  # the project publishes Jira issues
        assert plain.status_code == 200 and plain.json()["source"] is None
        assert "publishes plain Jira issues" in plain.json()["message"]

        async def to_zephyr() -> None:
            async with jira_client(sb) as c:
                await save_settings(c, PublishSettings(target="zephyr"), project_key="DEMO")

        run_sync(to_zephyr())
        try:
            unconfigured = client.post("/api/results/remote", json=body, headers=AUTH)
            assert unconfigured.status_code == 503 and "Zephyr Scale needs" in unconfigured.json()["error"]["message"]
            vendor_env(monkeypatch, sb, site="https://someone-else.atlassian.net")  # another site's credentials
            assert client.post("/api/results/remote", json=body, headers=AUTH).status_code == 503
            vendor_env(monkeypatch, sb)
            answer = client.post("/api/results/remote", json=body, headers=AUTH)
            assert answer.status_code == 200, answer.text
            data = answer.json()
            ids = {v: k for k, v in keys.items()}
            assert data["source"] == "zephyr" and data["published"] == 3
            assert data["counts"] == {"passed": 1, "failed": 1, "not-run": 1}
            assert data["tests"][ids[b]] == "failed" and data["messages"][ids[b]] == "Total wrong"
            assert data["sources"][ids[a]]["key"] == a and data["sources"][ids[a]]["execution"].startswith("DEMO-E")
            assert any(h["level"] == "fail" for h in data["elements"].values())
            # the other tool on request: nothing published there for this story, every test not run
            xray = client.post("/api/results/remote", json={**body, "source": "xray"}, headers=AUTH).json()
            assert xray["source"] == "xray" and xray["published"] == 0 and xray["counts"]["not-run"] == 3
            wrong = client.post("/api/results/remote", json={**body, "source": "jira"}, headers=AUTH)
            assert wrong.status_code == 422
        finally:

            async def back() -> None:
                async with jira_client(sb) as c:
                    await save_settings(c, PublishSettings(), project_key="DEMO")

            run_sync(back())


def test_the_latest_execution_is_the_latest_instant_whatever_the_dates_zone() -> None:
    from flowcase.targets.results_remote import Run, _latest, _when

    assert _when("2026-11-02T11:00:00+02:00") < _when("2026-11-02T10:00:00Z") == _when("2026-11-02T10:00:00")
    assert _when("") == 0.0 and _when("yesterday") == 0.0
    early = Run("TC-1", "DEMO-T1", "failed", "Fail", "DEMO-E2", "2026-11-02T11:00:00+02:00")
    late = Run("TC-1", "DEMO-T1", "passed", "Pass", "DEMO-E1", "2026-11-02T10:00:00Z")
    tie = Run("TC-1", "DEMO-T1", "failed", "Fail", "DEMO-E3", "2026-11-02T10:00:00Z")
    runs = [((_when(r.at), n, ""), r) for n, r in ((2, early), (1, late))]
    assert _latest(runs) == {"TC-1": late}
    assert _latest([*runs, ((_when(tie.at), 3, ""), tie)]) == {"TC-1": tie}  # the younger execution on a tie
