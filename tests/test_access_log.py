"""The access log as production runs it (the Procfile's command line): paths, never query strings or tokens."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from flowcase.sandbox.server import bind

ROOT = Path(__file__).resolve().parent.parent


def procfile_web() -> list[str]:
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    return shlex.split(line.removeprefix("web:").strip())


def test_the_procfile_turns_uvicorns_url_log_off() -> None:
    assert "--no-access-log" in procfile_web()


def test_tokens_in_query_strings_never_reach_the_log(tmp_path: Path) -> None:
    sock = bind()
    port = int(sock.getsockname()[1])
    sock.close()
    command = [sys.executable, "-m", *[x.replace("$PORT", str(port)) for x in procfile_web()]]
    command[command.index("0.0.0.0")] = "127.0.0.1"
    env = {
        **os.environ,
        "FLOWCASE_ENV": "production",
        "FLOWCASE_BASE_URL": "https://flowcase.example.com",
        "FLOWCASE_SECRET_KEYS": Fernet.generate_key().decode(),
        "FLOWCASE_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
    }
    subprocess.run([sys.executable, "-m", "flowcase", "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWNsYWltcw.c2lnbmF0dXJl"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/atlassian-connect.json", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.2)
        r = httpx.get(f"http://127.0.0.1:{port}/connect/issue-panel?issueKey=DEMO-1&jwt={secret}")
        assert r.status_code == 401
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "GET /connect/issue-panel 401" in output  # the request is logged ...
    assert secret not in output and "jwt=" not in output  # ... without its query string
