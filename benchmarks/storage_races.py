"""Concurrent saves of one issue, many times over, against the sandbox Jira: the storage guarantee, counted.

Each run makes a story with revision 1, then starts 2-5 savers of revision 1 at random offsets (0-1 s), with a
random latency (0-200 ms) on every Jira call of that story, a random model size (one chunk, several chunks or an
attachment). It then counts runs where the story holds no loadable model, runs where two saves of revision 1 were
both reported saved, and runs where the stored model is not the one reported saved.

Run: ``.venv/bin/python benchmarks/storage_races.py [--runs 500] [--parallel 8] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import time
from collections import Counter
from typing import Any

from flowcase.jira.auth import ApiTokenAuth
from flowcase.jira.client import JiraClient
from flowcase.jira.lease import LeaseTiming
from flowcase.jira.storage import ConflictError, StorageError, load_model, save_model
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox, running_sandbox

TIMING = LeaseTiming(settle=0.6, wait=120)


def model_of(label: str, steps: int) -> Model:
    nodes: list[dict[str, Any]] = [{"id": "start", "kind": "start", "next": "s0"}]
    for i in range(steps):
        decision = {"id": "1", "action": f"{label} {i} " + "lorem ipsum " * 4, "next": f"s{i + 1}"}
        nodes.append({"id": f"s{i}", "kind": "step", "name": f"Step {i}", "decisions": [decision]})
    nodes.append({"id": f"s{steps}", "kind": "end"})
    return Model.model_validate({"id": "m", "name": label, "workflows": [{"id": "main", "nodes": nodes}]})


async def one_run(sb: RunningSandbox, rng: random.Random, tally: Counter[str]) -> None:
    savers = rng.randint(2, 5)
    latency = rng.choice([0, 0, 20, 50, 100, 200])
    steps, threshold = rng.choice([(3, 1_000_000), (600, 1_000_000), (600, 20_000)])
    offsets = [rng.choice([0.0, 0.0, rng.random()]) for _ in range(savers)]
    auth = ApiTokenAuth(sb.email, sb.api_token)
    async with JiraClient(sb.base_url, auth) as c:
        made = await c.create_issue({"project": {"key": "DEMO"}, "issuetype": {"name": "Story"}, "summary": "race"})
        key = str(made["key"])
        await save_model(c, key, model_of("base", 3), None, timing=TIMING)
    prefix = f"/rest/api/3/issue/{key}/"
    fault = sb.add_fault(kind="latency", path_prefix=prefix, latency_ms=latency) if latency else None
    saved: list[tuple[int, str]] = []

    async def saver(i: int) -> None:
        await asyncio.sleep(offsets[i])
        async with JiraClient(sb.base_url, auth) as c:
            try:
                revision = await save_model(
                    c, key, model_of(f"saver{i}", steps), 1, timing=TIMING, attachment_threshold=threshold
                )
                saved.append((revision, f"saver{i}"))
            except ConflictError:
                tally["conflicts reported"] += 1

    try:
        await asyncio.gather(*(saver(i) for i in range(savers)))
    finally:
        if fault is not None:
            sb.sandbox.faults.remove(fault.id)
    async with JiraClient(sb.base_url, auth) as c:
        try:
            stored = await load_model(c, key)
        except StorageError:
            stored = None
    tally["runs"] += 1
    tally["saves attempted"] += savers
    if stored is None:
        tally["runs without a loadable model"] += 1
    if len(saved) != 1:
        tally["runs where saves of one revision were not exactly one"] += 1
    elif stored is not None and (stored.model.name != saved[0][1] or stored.revision != saved[0][0]):
        tally["runs where the stored model differs from the last reported save"] += 1


async def main(runs: int, parallel: int, seed: int) -> None:
    rng = random.Random(seed)
    tally: Counter[str] = Counter()
    started = time.perf_counter()
    with running_sandbox(demo_data=True) as sb:
        queue = list(range(runs))

        async def lane() -> None:
            while queue:
                queue.pop()
                await one_run(sb, random.Random(rng.random()), tally)
                if tally["runs"] % 50 == 0:
                    print(f"... {tally['runs']} runs", flush=True)

        await asyncio.gather(*(lane() for _ in range(parallel)))
    elapsed = time.perf_counter() - started
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{tally['runs']} runs in {elapsed:.0f} s (seed {seed}, {parallel} at a time)\n")
    print("| count | what |\n|---:|---|")
    for name in (
        "saves attempted",
        "conflicts reported",
        "runs without a loadable model",
        "runs where saves of one revision were not exactly one",
        "runs where the stored model differs from the last reported save",
    ):
        print(f"| {tally[name]} | {name} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.parallel, args.seed))
