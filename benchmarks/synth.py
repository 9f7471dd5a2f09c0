"""Synthetic workflows for benchmarks and tests: diamonds, parallel branches and retry loops, deterministic."""

from __future__ import annotations

import random

from flowcase.model.types import Decision, Model, Node, Parameter, Workflow


def synthetic(steps: int, seed: int = 7, loops: bool = True, feature: int = 50, guards: bool = False) -> Model:
    """A model with about ``steps`` step nodes: a menu of features, each a chain of about ``feature`` steps made
    of blocks (a 2-3 way branch that joins again), some with a retry loop back to the block's first step and
    some with an early exit to a second end. ``feature=0`` makes one long chain. With ``guards``, branch rows
    carry conditions on five three-valued parameters shared by all blocks (correlated decisions)."""
    rng = random.Random(seed)
    features = max(1, steps // feature) if feature else 1
    per = -(-steps // features)
    menu = tuple(Decision(id=f"f{i}", action=f"open feature {i}", next=f"s{i}_0") for i in range(features))
    nodes: list[Node] = [Node(id="start", kind="start", next="menu"), Node(id="menu", kind="choice", decisions=menu)]
    for i in range(features):
        nodes += _chain(rng, f"s{i}_", f"{i}_", per, loops, guards)
    nodes += [Node(id="done", kind="end", name="done"), Node(id="failed", kind="end", name="failed")]
    params = tuple(Parameter(name=f"p{i}", values=(0, 1, 2)) for i in range(5)) if guards else ()
    return Model(id=f"synthetic{steps}", parameters=params, workflows=(Workflow(id="main", nodes=tuple(nodes)),))


def _chain(rng: random.Random, prefix: str, tag: str, steps: int, loops: bool, guards: bool) -> list[Node]:
    nodes: list[Node] = []
    made = 0
    block = 0
    current = f"{prefix}0"
    while made < steps:
        ways = rng.choice((2, 2, 3))
        join = f"j{tag}{block}"
        branch_ids = [f"b{tag}{block}_{w}" for w in range(ways)]
        p = f"p{rng.randrange(5)}"
        rows = [
            Decision(
                id=f"r{w}",
                action=f"choose {w}",
                next=b,
                when=f"{p} {'>=' if w == ways - 1 else '=='} {w}" if guards else "",
            )
            for w, b in enumerate(branch_ids)
        ]
        if rng.random() < 0.1:
            rows.append(Decision(id="quit", action="give up", next="failed"))
        nodes.append(Node(id=current, kind="step", name=f"Step {current}", decisions=tuple(rows)))
        made += 1
        for b in branch_ids:
            nodes.append(Node(id=b, kind="step", next=join))
            made += 1
        made += 1
        nxt = f"{prefix}{block + 1}"
        join_rows = [Decision(id="on", action="continue", next=nxt if made < steps else "done")]
        if loops and rng.random() < 0.2:
            join_rows.append(Decision(id="retry", action="retry", next=current))
        nodes.append(Node(id=join, kind="step", decisions=tuple(join_rows)))
        current = nxt
        block += 1
    return nodes
