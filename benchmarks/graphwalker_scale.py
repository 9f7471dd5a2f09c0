"""GraphWalker at scale: import (``graphwalker.loads``) and all-edges generation on synthetic GraphWalker
files of 5,000 to 50,000 vertices, and GraphWalker's own SuperLarge model, in one run.

The synthetic models are what GraphWalker users draw at scale: one strongly connected machine made of features
(a ring of vertices; from every vertex a chord to a vertex at most 20 away, and from one vertex in fifty a link
to any vertex of the model instead; fixed seed), a start edge, a few guards and actions on a counter, and one
vertex in ten carrying a requirement (the guards hold on every walk: guards that cut the walk send generation
through its state search, which is not linear; see docs/performance.md). Every suite is checked: every edge
covered, one test (a strongly connected machine that may stop anywhere needs one walk).

Run: ``.venv/bin/python benchmarks/graphwalker_scale.py [--sizes 5000,10000,20000,50000]``. Prints a Markdown
table (each model's best CPU time over ``--repeat`` rounds, default 7), the ratio of the time at the largest size
to the time at the smallest (linear: about 10 for 5k -> 50k; the input text grows x10.4, its ids get longer),
and the machine.

The ratio is measured in rounds: in every round the smallest model is measured twice before and twice after the
largest (its time in the round is the median of the four: one measurement of 0.4 s is at the mercy of a moment,
the largest's 5 s are not), and the ratio of the run is the median of the rounds' ratios. This machine is a
virtual one shared with other jobs, and its speed changes for seconds to tens of seconds at a time: the same code
measured twice, interleaved, gave 9.9 and 12.2 as the ratio of the best times (each size's best came from another
moment). The ratio of the best times is printed as well, twice: over as many measurements of each size (the
smallest's measurement right before the largest in each round), and over all of them (the best of 36 measurements
of the smallest is a lower extreme than the best of 9 of the largest, so that ratio is biased upwards).
``--instructions`` also counts the instructions that import and generation execute at the smallest and the largest
size (valgrind's cachegrind, Debian package ``valgrind``; minutes): a count that a busy machine does not change,
so it shows whether the work is linear.

Each measurement runs in a process of its own, after a warm-up on a 500-vertex model (modules loaded, caches
filled, little memory touched), so every size starts from the same kind of heap. In one process a small model
would run in memory that a larger one had already faulted in and freed, while the larger one pays its page
faults (about 130,000 at 50,000 vertices, 0.3 s of system time): that asymmetry moved the ratio by about 0.6.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowcase.generate import generate
from flowcase.model.graphwalker import loads

SUPERLARGE = Path(__file__).resolve().parent.parent / "tests" / "data" / "graphwalker" / "project" / "SuperLarge.json"


def synthetic(n: int, seed: int = 1) -> str:
    """A GraphWalker file with ``n`` vertices and about ``2n`` edges, strongly connected."""
    rng = random.Random(seed)
    vertices: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for i in range(n):
        vertex: dict[str, Any] = {"id": f"n{i}", "name": f"v_State{i}"}
        if i % 10 == 0:
            vertex["requirements"] = [f"REQ-{i // 10}"]
        vertices.append(vertex)
    for i in range(n):
        edges.append(
            {"id": f"r{i}", "name": f"e_Next{i}", "sourceVertexId": f"n{i}", "targetVertexId": f"n{(i + 1) % n}"}
        )
        # a feature's screens link among themselves; one screen in fifty links to any other feature
        target = rng.randrange(n) if i % 50 == 10 else (i + rng.randint(-20, 20)) % n
        chord: dict[str, Any] = {
            "id": f"c{i}",
            "name": f"e_Jump{i}",
            "sourceVertexId": f"n{i}",
            "targetVertexId": f"n{target}",
        }
        if i % 50 == 0:
            chord["guard"] = "count >= 0"
            chord["actions"] = ["count++;"]
        elif i % 50 == 25:
            chord["actions"] = ["count = 0;"]
        edges.append(chord)
    edges.append({"id": "e_start", "name": "e_Start", "targetVertexId": "n0", "actions": ["count = 0;"]})
    model = {
        "name": f"Synthetic{n}",
        "generator": "random(edge_coverage(100))",
        "startElementId": "e_start",
        "vertices": vertices,
        "edges": edges,
    }
    return json.dumps({"models": [model]})


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


@dataclass
class Measured:
    label: str
    size: int  # 0: SuperLarge
    best_import: float = float("inf")
    best_total: float = float("inf")
    row: str = ""
    imports: list[float] = field(default_factory=list)  # per round
    totals: list[float] = field(default_factory=list)


def text_of(size: int) -> str:
    return SUPERLARGE.read_text() if size == 0 else synthetic(size)


def warm_up() -> None:
    """Load the modules and fill the caches on a 500-vertex model, touching little memory."""
    generate(loads(synthetic(500)).model)


def measure(size: int) -> dict[str, Any]:
    """Import and generate once (in this process, after a warm-up); CPU times and the table's row. Garbage of the
    warm-up is collected first, outside the timed part (import and generation pause the cyclic collector)."""
    warm_up()
    text = text_of(size)
    gc.collect()
    t0 = time.process_time()
    model = loads(text).model
    t1 = time.process_time()
    suite = generate(model)
    t2 = time.process_time()
    decisions = [c for c in suite.coverage if c.kind == "decision"]
    assert all(c.covered_by for c in decisions), "an edge is not covered"
    steps = sum(len(t.steps) for t in suite.tests)
    vertices = len(model.main.nodes) - 1
    row = f"{vertices} | {len(decisions)} | {len(suite.tests)} | {steps} | {suite.optimal}"
    return {"import": t1 - t0, "total": t2 - t0, "row": row}


def run_once(m: Measured) -> None:
    """One measurement of ``m`` in a fresh process; keep the best times."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(m.size)], check=True, capture_output=True, text=True
    ).stdout
    got = json.loads(out)
    m.best_import, m.best_total = min(m.best_import, got["import"]), min(m.best_total, got["total"])
    m.imports.append(got["import"])
    m.totals.append(got["total"])
    m.row = f"| {m.label} | {got['row']}"


BRACKET = 4  # measurements of the smallest model per round, half before and half after the largest


def paired(large: list[float], small: list[float]) -> tuple[float, list[float]]:
    """The median of the rounds' ratios, and the ratios (rounded): each round's largest time over the median of
    the round's measurements of the smallest."""
    rounds = [small[i : i + BRACKET] for i in range(0, len(small), BRACKET)]
    ratios = [a / statistics.median(b) for a, b in zip(large, rounds, strict=True)]
    return statistics.median(ratios), [round(r, 1) for r in ratios]


def work(size: int, full: bool) -> None:
    """What ``--instructions`` counts: the warm-up and the model's text, and when ``full`` also its import and
    generation (the difference of the two counts is the import and generation)."""
    warm_up()
    text = text_of(size)
    if full:
        generate(loads(text).model)


def instructions(size: int) -> int:
    """Instructions executed by this machine's CPU for importing and generating the model of ``size`` (valgrind's
    cachegrind: a count, the same on a busy machine as on a quiet one; about 50 times slower than running)."""
    counts = []
    valgrind = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    for part in ("base", "full"):
        done = subprocess.run(
            [*valgrind, sys.executable, __file__, "--work", str(size), part],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},  # the same hashes, so the same work, in every run
        )
        (line,) = [line for line in done.stderr.splitlines() if re.search(r"\bI\s+refs:", line)]
        counts.append(int(line.split(":")[1].replace(",", "")))
    return counts[1] - counts[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,10000,20000,50000")
    parser.add_argument("--repeat", type=int, default=9, help="rounds over all models")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # one measurement: the child process
    parser.add_argument("--work", nargs=2, help=argparse.SUPPRESS)  # what --instructions counts: the child process
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the instructions of import and generation at the smallest and the largest size "
        "(needs valgrind; takes minutes)",
    )
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return
    if args.work is not None:
        work(int(args.work[0]), args.work[1] == "full")
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    models = [Measured("SuperLarge (GraphWalker's own)", 0)]
    models += [Measured(f"synthetic {n}", n) for n in sizes]
    small, large = models[1], models[-1]
    half = [small] * (BRACKET // 2)
    order = [*half, large, *half, *(m for m in models if m not in (small, large))]
    for round_ in range(args.repeat):  # rounds: every size sees the machine in the same moods
        for m in order if round_ % 2 == 0 else order[::-1]:  # the other sizes before or after, in turn
            run_once(m)
    print("| model | vertices | edges (decisions) | tests | test steps | optimal | import s | generate s | total s |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    for m in models:
        print(f"{m.row} | {m.best_import:.2f} | {m.best_total - m.best_import:.2f} | {m.best_total:.2f} |")
    total, totals = paired(large.totals, small.totals)
    imported, imports = paired(large.imports, small.imports)
    before = BRACKET // 2 - 1  # in every round, the smallest's measurement right before the largest
    print(
        f"\n{sizes[-1]} / {sizes[0]} vertices (x{sizes[-1] / sizes[0]:.0f}), CPU time, each measurement in a process "
        f"of its own, median of {args.repeat} rounds (the smallest measured {BRACKET} times around the largest):\n"
        f"- import + all-edges generation: {total:.1f} (rounds: {', '.join(map(str, totals))})\n"
        f"- import: {imported:.1f} (rounds: {', '.join(map(str, imports))})\n"
        f"- ratio of the best times, {args.repeat} measurements of each (the smallest's right before the largest in "
        f"each round): {min(large.totals) / min(small.totals[before::BRACKET]):.1f} "
        f"(import {min(large.imports) / min(small.imports[before::BRACKET]):.1f})\n"
        f"- ratio of the best times, all measurements: {large.best_total / small.best_total:.1f} "
        f"(import {large.best_import / small.best_import:.1f}; the best of the smallest's {BRACKET * args.repeat} "
        f"measurements is a lower extreme than the best of the largest's {args.repeat})"
    )
    if args.instructions:
        few, many = instructions(sizes[0]), instructions(sizes[-1])
        print(
            f"- instructions executed (valgrind cachegrind, the same on a busy machine): {few:,} and {many:,}, "
            f"ratio {many / few:.2f}"
        )
    print(f"Machine: {machine()}")


if __name__ == "__main__":
    sys.exit(main())
