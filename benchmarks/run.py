"""Generation benchmarks: synthetic workflows of 100 to 10,000 steps and the standard pairwise configurations.

Run: ``.venv/bin/python benchmarks/run.py [--quick]``. Prints Markdown tables (time, peak memory measured by
tracemalloc in a second run, suite size, lower bound) and the machine, for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import synthetic

from flowcase.generate import GenerateOptions, generate
from flowcase.generate.cover import digraph
from flowcase.generate.flow import min_cover
from flowcase.generate.graph import flatten
from flowcase.generate.pairwise import covering_array, lower_bound

PAIRWISE = {
    "3^4": [3] * 4,
    "3^13": [3] * 13,
    "4^15 3^17 2^29": [4] * 15 + [3] * 17 + [2] * 29,
    "4^1 3^39 2^35": [4] + [3] * 39 + [2] * 35,
    "2^100": [2] * 100,
    "10^20": [10] * 20,
}


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.platform()}, {cpu}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def measure(run: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds, peak MiB): timed without tracing, then run again under tracemalloc for the peak."""
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak / 2**20


def workflows(sizes: list[int]) -> None:
    print(
        "| model | steps | decisions | criterion | tests | lower bound | optimal | test steps | time (s) | peak MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for steps in sizes:
        for label, kwargs in (
            ("branches", {"loops": False}),
            ("branches+loops", {}),
            ("guarded+loops", {"guards": True}),
        ):
            if label == "guarded+loops" and steps > 3000:
                continue
            model = synthetic(steps, **kwargs)
            for criterion in ("all-decisions", "all-pairs") if steps <= 1000 else ("all-decisions",):
                options = GenerateOptions(criterion=criterion)  # type: ignore[arg-type]
                suite, seconds, peak = measure(lambda m=model, o=options: generate(m, o))
                decisions = sum(1 for w in model.workflows for _ in w.edges())
                length = sum(len(t.steps) for t in suite.tests)
                print(
                    f"| {label} | {steps} | {decisions} | {criterion} | {len(suite.tests)} | {suite.lower_bound} "
                    f"| {suite.optimal} | {length} | {seconds:.2f} | {peak:.0f} |"
                )
        sys.stdout.flush()


def solvers(sizes: list[int]) -> None:
    """The four min-flow solvers on the same covers (the pure-Python one only where it is meant to run)."""
    print("| steps | solver | walks | total steps | time (s) |")
    print("|---|---|---|---|---|")
    for steps in sizes:
        graph = flatten(synthetic(steps))
        g = digraph(graph)
        required = [e.index for e in graph.decision_edges]
        for solver in ("primal-dual", "highs", "networkx", "ssp"):
            if solver == "ssp" and steps > 1000:
                continue
            start = time.perf_counter()
            cover = min_cover(g, required, solver=solver)  # type: ignore[arg-type]
            seconds = time.perf_counter() - start
            length = sum(g.cost[e] for w in cover.walks for e in w)
            print(f"| {steps} | {solver} | {cover.count} | {length} | {seconds:.3f} |")
            sys.stdout.flush()


def pairwise_table() -> None:
    print("| configuration | rows | lower bound v1*v2 | time (s) | peak MiB |")
    print("|---|---|---|---|---|")
    for name, sizes in PAIRWISE.items():
        rows, seconds, peak = measure(lambda s=sizes: covering_array(s))
        print(f"| {name} | {len(rows)} | {lower_bound(sizes)} | {seconds:.2f} | {peak:.0f} |")
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only the small sizes")
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    workflows([100, 1000] if args.quick else [100, 1000, 3000, 10_000])
    print()
    solvers([20, 100, 1000] if args.quick else [20, 100, 1000, 10_000])
    print()
    pairwise_table()


if __name__ == "__main__":
    main()
