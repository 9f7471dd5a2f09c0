"""``flowcase demo`` (the README's main command) and ``flowcase sandbox`` as real processes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

FLOWCASE = [sys.executable, "-m", "flowcase"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWCASE_", "DATABASE_URL"))}
    return subprocess.Popen(
        [*FLOWCASE, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def read_until(proc: subprocess.Popen[str], pattern: str, timeout: float = 60) -> tuple[str, re.Match[str]]:
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen += line
        match = re.search(pattern, seen)
        if match:
            return seen, match
    raise AssertionError(f"no {pattern!r} in output:\n{seen}")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    return out


def test_demo_starts_everything_prints_the_url_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """The README's main command: sandbox + app in one process, app installed, demo data, URL printed."""
    app_port, sandbox_port = free_port(), free_port()
    proc = start(["demo", "--port", str(app_port), "--sandbox-port", str(sandbox_port)], tmp_path)
    try:
        output, match = read_until(proc, r"Open (http://\S+)")
        url = match.group(1)
        assert url == f"http://127.0.0.1:{sandbox_port}/browse/DEMO-1"
        assert "Stored the example workflow" in output
        # the fresh site is set up for publishing, and the demo says so
        assert "created the issue type 'Test'" in output and "created the issue link type 'Test'" in output
        assert "project DEMO is ready for publishing" in output
        assert "Embedded PostgreSQL running" in output and "Publish worker running" in output
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200
        assert f'src="http://127.0.0.1:{app_port}/connect/issue-panel?issueKey=DEMO-1' in page.text
        token = re.search(r"API token:\s+(\S+)", output).group(1)  # type: ignore[union-attr]
        me = httpx.get(f"http://127.0.0.1:{sandbox_port}/rest/api/3/myself", auth=("demo@example.com", token))
        assert me.status_code == 200
    finally:
        rest = stop(proc)
    assert proc.returncode == 0, rest
    assert "Stopped." in rest
    assert (tmp_path / "var" / "sandbox.db").exists() and (tmp_path / "var" / "postgres" / "PG_VERSION").exists()


def test_demo_data_and_workflow_survive_a_restart(tmp_path: Path) -> None:
    """What ``flowcase demo`` does at start, twice on the same ./var database: nothing is duplicated."""
    from flowcase.sandbox import SandboxConfig, create_sandbox_app
    from flowcase.sandbox.demo_workflow import set_up_demo_project, store_demo_workflow
    from flowcase.sandbox.testing import run_sync

    url = f"sqlite:///{tmp_path / 'sandbox.db'}"
    messages = []
    setups = []
    for _ in range(2):
        app = create_sandbox_app(SandboxConfig(database_url=url, demo_data=True))
        messages.append(run_sync(store_demo_workflow(app)))
        setups.append(run_sync(set_up_demo_project(app)))
        app.sandbox.engine.dispose()
    assert len(setups[0]) == 4 and setups[1] == ["project DEMO is ready for publishing"]  # set up once
    assert messages[0].startswith("Stored the example workflow 'Shop checkout with coupons' on DEMO-1")
    assert messages[1] == "Example workflow already on DEMO-1 (revision 1)."
    from sqlalchemy import func, select

    from flowcase.sandbox.models import Issue

    app = create_sandbox_app(SandboxConfig(database_url=url, demo_data=True))
    with app.sandbox.session() as s:
        assert s.scalar(select(func.count()).select_from(Issue)) == 4


def test_sandbox_command_refuses_a_taken_port_with_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from flowcase.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["sandbox", "--port", str(port), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"flowcase: error: cannot listen on 127.0.0.1:{port}")
    assert result.output.count("\n") == 1


def test_a_sandbox_database_from_an_older_sandbox_is_refused_with_what_to_do(tmp_path: Path) -> None:
    import sqlite3

    from click.testing import CliRunner

    from flowcase.cli import main

    # what an older sandbox left: a table of today's schema without one of today's columns
    with sqlite3.connect(tmp_path / "sandbox.db") as db:
        db.execute("CREATE TABLE sb_project (id INTEGER PRIMARY KEY)")
    result = CliRunner().invoke(main, ["sandbox", "--port", str(free_port()), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("flowcase: error: the sandbox database sqlite:///")
    assert "older flowcase sandbox (table sb_project lacks" in result.output
    assert "delete it" in result.output
    assert result.output.count("\n") == 1
    assert (tmp_path / "sandbox.db").exists()  # nothing the user had is removed for them
