"""flowcase and ACE 11.5.3 (atlassian-connect-express, the reference Connect framework) side by side, in one run.

Both apps serve one JSON route behind Connect authentication: ``GET /api/me`` (flowcase: ``ConnectHost``; ACE:
``addon.authenticate()``), both on the same PostgreSQL (ACE's sequelize store, flowcase's installations table),
one process each (flowcase: uvicorn with uvloop + httptools; ACE: node + express). One load generator (autocannon,
from npm, in a node process) sends every request with a fresh HS256 JWT with the qsh of that request, at the same
concurrency, for the same time, alternating between the two apps round after round.

The npm packages (``atlassian-connect-express@11.5.3``, express 4, pg, autocannon) are installed by this script
into ``benchmarks/.cache/ace`` (gitignored). PostgreSQL: ``--database-url`` or ``FLOWCASE_TEST_POSTGRES_URL``, else
a throwaway server (``initdb``/``pg_ctl``). Everything listens on 127.0.0.1 only.

    python benchmarks/ace_side_by_side.py --seconds 10 --rounds 2 --concurrency 16 64

Prints a markdown table (docs/performance.md has the figures of a run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from npm_install import npm_install

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache" / "ace"
PACKAGES = ["atlassian-connect-express@11.5.3", "express@4", "pg@8", "pg-hstore@2", "autocannon@8"]
CLIENT_KEY = "bench-client-key"
SECRET = "bench-shared-secret-" + "x" * 24
ROUTE = "/api/me"

ACE_APP = r"""
// A minimal ACE app: one route behind addon.authenticate(); the tenant is stored through ACE's own store.
const express = require("express");
const ace = require("atlassian-connect-express");
const app = express();
app.set("env", "production");
app.use(express.json());  // as ACE's app template: its token lookup expects a parsed body
app.use(express.urlencoded({ extended: false }));
const addon = ace(app);
app.get("/api/me", addon.authenticate(), (req, res) => {
  res.json({ host: "connect", site: req.context.clientKey, accountId: req.context.userAccountId || null });
});
addon.settings
  .set("clientInfo", { key: "flowcase-bench", clientKey: process.env.BENCH_CLIENT_KEY,
    sharedSecret: process.env.BENCH_SECRET, baseUrl: "https://bench.atlassian.net", productType: "jira" },
    process.env.BENCH_CLIENT_KEY)
  .then(() => {
    app.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ACE ready"));
  });
"""

ACE_DESCRIPTOR = {
    "key": "flowcase-bench",
    "name": "ACE bench",
    "baseUrl": "{{localBaseUrl}}",
    "authentication": {"type": "jwt"},
    "lifecycle": {"installed": "/installed"},
    "scopes": ["READ"],
    "apiVersion": 1,
    "modules": {},
}

LOAD = r"""
// Load generator: every request carries a fresh HS256 JWT whose qsh is that request's.
const autocannon = require("autocannon");
const jwt = require("atlassian-jwt");
const [url, seconds, connections, clientKey, secret] = process.argv.slice(2);
const path = new URL(url).pathname;
const qsh = jwt.createQueryStringHash(jwt.fromMethodAndUrl("GET", path));
function token() {
  const now = Math.floor(Date.now() / 1000);
  return jwt.encodeSymmetric({ iss: clientKey, iat: now, exp: now + 180, qsh, sub: "bench-user" }, secret);
}
autocannon({
  url, connections: Number(connections), duration: Number(seconds), pipelining: 1,
  requests: [{ method: "GET", path, setupRequest: (req) => {
    req.headers = { ...(req.headers || {}), authorization: "JWT " + token() }; return req; } }],
}, (err, result) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(JSON.stringify({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99,
    non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, total: result.requests.total }));
});
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def install_ace() -> None:
    marker = CACHE / "node_modules" / "atlassian-connect-express" / "package.json"
    if marker.exists() and json.loads(marker.read_text())["version"] == "11.5.3":
        return
    marker.unlink(missing_ok=True)  # another version: installed again
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "package.json").write_text(json.dumps({"name": "ace-bench", "version": "1.0.0", "private": True}))
    print("installing ACE 11.5.3 into", CACHE, file=sys.stderr)
    problem = npm_install(PACKAGES, CACHE, marker, "--omit=optional")
    if problem is not None:
        sys.exit(f"{problem} (Debian: apt-get install nodejs npm)")


def write_ace_app(port: int, database_url: str) -> None:
    (CACHE / "app.js").write_text(ACE_APP)
    (CACHE / "load.js").write_text(LOAD)
    (CACHE / "atlassian-connect.json").write_text(json.dumps(ACE_DESCRIPTOR))
    libpq = database_url.replace("postgresql+psycopg://", "postgres://")
    config = {
        "production": {
            "port": port,
            "localBaseUrl": f"http://127.0.0.1:{port}",
            "errorTemplate": False,
            "store": {"adapter": "sequelize", "dialect": "postgres", "url": libpq, "logging": False},
        }
    }
    (CACHE / "config.json").write_text(json.dumps(config))


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    sys.path.insert(0, str(ROOT / "src"))
    from flowcase.db.testing import postgres_url

    if url:
        yield url
        return
    with postgres_url() as found:
        yield found


def seed_flowcase(url: str, key: str) -> None:
    from flowcase.db.crypto import SecretBox
    from flowcase.db.engine import make_engine
    from flowcase.db.migrate import upgrade
    from flowcase.db.store import InstallationData, InstallationStore

    upgrade(url)
    engine = make_engine(url)
    store = InstallationStore(engine, SecretBox([key]))
    store.installed(
        InstallationData(
            client_key=CLIENT_KEY,
            app_key="flowcase",
            base_url="https://bench.atlassian.net",
            shared_secret=SECRET,
            product_type="jira",
        ),
        datetime.now(UTC),
    )
    engine.dispose()


def wait_ready(url: str, proc: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{name} exited: {proc.stdout.read().decode() if proc.stdout else ''}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=1)
            return
        time.sleep(0.1)
    sys.exit(f"{name} did not start")


def signed_get(base: str) -> httpx.Response:
    import hashlib

    import jwt

    now = int(time.time())
    qsh = hashlib.sha256(f"GET&{ROUTE}&".encode()).hexdigest()
    token = jwt.encode(
        {"iss": CLIENT_KEY, "iat": now, "exp": now + 60, "qsh": qsh, "sub": "bench-user"}, SECRET, algorithm="HS256"
    )
    return httpx.get(base + ROUTE, headers={"Authorization": f"JWT {token}"}, timeout=10)


def load(base: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["node", "load.js", base + ROUTE, str(seconds), str(connections), CLIENT_KEY, SECRET],
        cwd=CACHE,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each load (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per concurrency (default 2)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--database-url", default=os.environ.get("FLOWCASE_TEST_POSTGRES_URL"))
    parser.add_argument(
        "--uncached",
        action="store_true",
        help="also load a flowcase with the installations cache off (one read per request)",
    )
    args = parser.parse_args()
    install_ace()
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    with database(args.database_url) as url:
        seed_flowcase(url, key)
        fc_port, ace_port, raw_port = free_port(), free_port(), free_port()
        write_ace_app(ace_port, url)
        fc_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "FLOWCASE_ENV": "production",
            "FLOWCASE_DATABASE_URL": url,
            "FLOWCASE_SECRET_KEYS": key,
            "FLOWCASE_LICENCE_POLICY": "off",
            "FLOWCASE_BASE_URL": f"http://127.0.0.1:{fc_port}",
        }
        ace_env = {
            **os.environ,
            "NODE_ENV": "production",
            "PORT": str(ace_port),
            "BENCH_CLIENT_KEY": CLIENT_KEY,
            "BENCH_SECRET": SECRET,
        }
        flowcase = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "flowcase.web.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(fc_port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=fc_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        ace = subprocess.Popen(
            ["node", "app.js"], cwd=CACHE, env=ace_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        targets = {"flowcase": f"http://127.0.0.1:{fc_port}", "ACE 11.5.3": f"http://127.0.0.1:{ace_port}"}
        procs = [flowcase, ace]
        if args.uncached:  # the same flowcase reading the installation for every request (cache off)
            raw_env = {
                **fc_env,
                "FLOWCASE_INSTALLATIONS_CACHE_SECONDS": "0",
                "FLOWCASE_BASE_URL": f"http://127.0.0.1:{raw_port}",
            }
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "flowcase.web.app:create_app",
                        "--factory",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(raw_port),
                        "--loop",
                        "uvloop",
                        "--http",
                        "httptools",
                        "--log-level",
                        "warning",
                        "--no-access-log",
                    ],
                    env=raw_env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            )
            targets["flowcase, no cache"] = f"http://127.0.0.1:{raw_port}"
        try:
            wait_ready(targets["flowcase"] + "/atlassian-connect.json", flowcase, "flowcase")
            wait_ready(targets["ACE 11.5.3"] + "/atlassian-connect.json", ace, "ACE")
            if args.uncached:
                wait_ready(targets["flowcase, no cache"] + "/atlassian-connect.json", procs[2], "flowcase")
            for name, base in targets.items():
                ok = signed_get(base)
                assert ok.status_code == 200 and CLIENT_KEY in ok.text, (name, ok.status_code, ok.text[:200])
                refused = httpx.get(base + ROUTE, headers={"Authorization": "JWT x.y.z"}, timeout=10)
                assert refused.status_code in (401, 403), (name, refused.status_code)
                load(base, 2, 16)  # warm-up
            results: dict[tuple[str, int], list[dict[str, float]]] = {}
            for connections in args.concurrency:
                for _ in range(args.rounds):
                    for name, base in targets.items():
                        results.setdefault((name, connections), []).append(load(base, args.seconds, connections))
        finally:
            for proc in procs:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
    print(
        f"| concurrency | app | req/s | p50 ms | p99 ms | non-2xx | flowcase/ACE req/s |  "
        f"({args.rounds} x {args.seconds} s each, medians)"
    )
    print("|---|---|---|---|---|---|---|")
    for connections in args.concurrency:
        med = {
            name: {
                k: statistics.median(r[k] for r in results[(name, connections)])
                for k in ("rps", "p50", "p99", "non2xx")
            }
            for name in targets
        }
        for name in targets:
            m = med[name]
            print(
                f"| {connections} | {name} | {m['rps']:.0f} | {m['p50']:.1f} | {m['p99']:.1f} | {m['non2xx']:.0f} | "
                + (f"{m['rps'] / med['ACE 11.5.3']['rps']:.2f} |" if name != "ACE 11.5.3" else "|")
            )


if __name__ == "__main__":
    main()
