"""``flowcase jira save`` / ``restore`` against the sandbox: two CLI processes saving one revision at once (one
saves, the other exits 4), the previous revision restored, and a damaged model repaired only with the flag."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import yaml

from builders import jira_client, new_story
from flowcase.jira.client import JiraClient
from flowcase.jira.storage import CHUNK_PREFIX, MANIFEST_KEY, load_model
from flowcase.sandbox.testing import RunningSandbox

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "login.yaml"


def env(sb: RunningSandbox) -> dict[str, str]:
    return {
        **os.environ,
        "FLOWCASE_JIRA_EMAIL": sb.email,
        "FLOWCASE_JIRA_TOKEN": sb.api_token,
        "FLOWCASE_JIRA_URL": sb.base_url,
        "FLOWCASE_SAVE_SETTLE_SECONDS": "0.4",
    }


def flowcase(sb: RunningSandbox, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from flowcase.cli import main; main()", *args]
    return subprocess.Popen(command, env=env(sb), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def done(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=120)
    return proc.returncode, out


def variant(tmp_path: Path, name: str) -> str:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["name"] = name
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def jira(sb: RunningSandbox, fn: object) -> object:
    async def go() -> object:
        async with jira_client(sb) as c:
            return await fn(c)  # type: ignore[operator]

    return asyncio.run(go())


def test_two_cli_saves_of_one_revision_one_saves_one_exits_4(sb: RunningSandbox, tmp_path: Path) -> None:
    key = new_story(sb, summary="S")
    assert done(flowcase(sb, "jira", "save", variant(tmp_path, "base"), "--story", key))[0] == 0
    sb.add_fault(kind="latency", path_prefix=f"/rest/api/3/issue/{key}", latency_ms=50)
    try:
        procs = [
            flowcase(sb, "jira", "save", variant(tmp_path, n), "--story", key, "--expect-revision", "1")
            for n in ("alice", "bob")
        ]
        results = [done(p) for p in procs]
    finally:
        sb.clear_faults()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 4], results
    winner = ["alice", "bob"][[code for code, _ in results].index(0)]
    loser_out = next(out for code, out in results if code == 4)
    assert "changed by someone else (now revision 2" in loser_out and "Traceback" not in loser_out
    stored = jira(sb, lambda c: load_model(c, key))
    assert stored.revision == 2 and stored.model.name == winner  # type: ignore[attr-defined]


def test_restore_and_repair_from_the_cli(sb: RunningSandbox, tmp_path: Path) -> None:
    key = new_story(sb, summary="S")
    assert done(flowcase(sb, "jira", "save", variant(tmp_path, "one"), "--story", key))[0] == 0
    code, out = done(flowcase(sb, "jira", "save", variant(tmp_path, "two"), "--story", key))
    assert code == 4 and "now revision 1" in out  # no --expect-revision: a stored model is never replaced blindly
    code, out = done(flowcase(sb, "jira", "save", variant(tmp_path, "two"), "--story", key, "--expect-revision", "1"))
    assert code == 0, out

    async def damage(c: JiraClient) -> None:
        manifest = await c.get_property("issue", key, MANIFEST_KEY)
        await c.delete_property("issue", key, f"{CHUNK_PREFIX}{manifest['token']}-0")

    jira(sb, damage)
    code, out = done(flowcase(sb, "jira", "save", variant(tmp_path, "three"), "--story", key, "--expect-revision", "2"))
    assert code == 3 and "damaged" in out and "--replace-damaged" in out and "jira restore" in out
    code, out = done(flowcase(sb, "jira", "restore", key))
    assert code == 0 and "revision 1 restored as revision 3" in out, out
    assert jira(sb, lambda c: load_model(c, key)).model.name == "one"  # type: ignore[attr-defined]

    jira(sb, lambda c: c.put_property("issue", key, MANIFEST_KEY, {"garbage": True}))
    code, out = done(flowcase(sb, "jira", "save", variant(tmp_path, "four"), "--story", key, "--expect-revision", "3"))
    assert code == 3 and "not a flowcase manifest" in out
    code, out = done(flowcase(sb, "jira", "save", variant(tmp_path, "four"), "--story", key, "--replace-damaged"))
    assert code == 0 and "revision 4" in out, out
    stored = jira(sb, lambda c: load_model(c, key))
    assert stored.model.name == "four"  # type: ignore[attr-defined]
    code, out = done(flowcase(sb, "jira", "save", variant(tmp_path, "five"), "--story", key, "--replace-damaged"))
    assert code == 3 and "not damaged" in out
