"""A cheap authenticated route's latency while worst-case model requests run: idle vs loaded, in one run.

Starts the app as production runs it (uvicorn, one process, the compute pool with its default two workers) with the
standalone host, then measures ``GET /app/`` (an authenticated page) sequentially: first idle, then while four
clients keep sending the worst request the API allows (``POST /api/generate`` with all-pairs on a model of the
largest interactive size, ``interactive_max_nodes`` nodes), each sending its next as soon as one is answered.
The bar (issue 12): loaded p99 <= 3x idle p99.

Run: ``.venv/bin/python benchmarks/noisy_neighbours.py [--requests 1000] [--heavy 4]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import synthetic

from flowcase.config import Settings

TOKEN = "benchmark-token-0123456789abcdef"
HEADERS = {"X-Flowcase-Client": "web", "Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FLOWCASE_STANDALONE": "1",
        "FLOWCASE_LOCAL_TOKEN": TOKEN,
        "FLOWCASE_ENV": "production",
        "FLOWCASE_BASE_URL": f"http://127.0.0.1:{port}",
        "FLOWCASE_LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "flowcase.web.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/app/", headers=HEADERS, timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the app did not start")


def measure(client: httpx.Client, url: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.get(url, headers=HEADERS)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.status_code
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--heavy", type=int, default=4)
    args = parser.parse_args()
    nodes = Settings(env="test").interactive_max_nodes
    model = synthetic(nodes - 10, feature=0)
    body = {"doc": {"model": model.to_data()}, "criterion": "all-pairs"}
    size = sum(len(w.nodes) for w in model.workflows)
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    print(
        f"worst request: POST /api/generate all-pairs, model of {size} nodes "
        f"(limit {nodes}), {len(httpx.Request('POST', 'http://x', json=body).content) // 1024} KiB"
    )
    port = free_port()
    server = start_app(port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=120) as client:
            measure(client, f"{base}/app/", 100)  # warm up
            idle = measure(client, f"{base}/app/", args.requests)
            stop = threading.Event()
            answers: Counter[str] = Counter()

            def heavy() -> None:
                with httpx.Client(timeout=300) as c:
                    while not stop.is_set():
                        r = c.post(f"{base}/api/generate", json=body, headers=HEADERS)
                        code = r.json().get("error", {}).get("code", "") if r.status_code != 200 else ""
                        answers[f"{r.status_code} {code}".strip()] += 1

            threads = [threading.Thread(target=heavy, daemon=True) for _ in range(args.heavy)]
            for t in threads:
                t.start()
            time.sleep(2)  # the heavy requests are parsed, queued and running
            loaded = measure(client, f"{base}/app/", args.requests)
            stop.set()
            for t in threads:
                t.join(timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"{'':8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in (("idle", idle), ("loaded", loaded)):
        print(
            f"{name:8} {statistics.median(values):8.2f} {pct(values, 0.9):8.2f} {pct(values, 0.99):8.2f} "
            f"{max(values):8.2f}"
        )
    ratio = pct(loaded, 0.99) / pct(idle, 0.99)
    print(f"heavy answers while measuring: {dict(answers)}")
    print(f"loaded p99 / idle p99 = {ratio:.2f} (bar: <= 3.00) -> {'PASS' if ratio <= 3 else 'FAIL'}")


if __name__ == "__main__":
    main()
