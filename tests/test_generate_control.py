"""Control over a suite: pinned tests (kept exactly, the rest minimal given them) and risk-based strength
(pairs of decisions where the focus is, all decisions elsewhere), each checked against brute force."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import assume, given
from hypothesis import strategies as st

from flowcase.cli import main
from flowcase.generate import GenerateOptions, GenerationError, generate, regenerate
from flowcase.generate.assemble import build_test
from flowcase.generate.flow import Digraph
from flowcase.generate.graph import flatten
from flowcase.generate.suite import TestCase as Case
from flowcase.model.types import Decision, Model, Node, Workflow
from test_generate_minimal import SETTINGS, brute_min, dag_model, graphs, walks

ROOT = Path(__file__).parent.parent


def _pin_of(model: Model, g: Digraph, path: list[int]) -> Case:
    graph = flatten(model)
    walk = [graph.edge_by_ref["main/start#1"]]
    walk += [graph.edge_by_ref[f"main/v{g.src[e]}#e{e}"] for e in path]
    here = graph.edges[walk[-1]].dst
    walk += graph.synthetic_route(here, graph.sink)
    return build_test(graph, walk, {}, ()).model_copy(update={"name": "my pinned test"})


@SETTINGS
@given(graphs(cyclic=False), st.data())
def test_pinned_tests_are_kept_and_the_rest_is_minimal(g: Digraph, data: st.DataObject) -> None:
    paths = walks(g, 1)
    assume(len(paths) <= 10)
    model = dag_model(g)
    path = data.draw(st.sampled_from(paths))
    pin = _pin_of(model, g, path)
    suite = generate(model, pins=[pin])
    assert pin.model_copy(update={"pinned": True}) in suite.tests  # exactly, name included
    assert all(c.covered_by for c in suite.coverage if c.kind == "decision")
    required = {f"e{e}" for p in paths for e in p} - {f"e{e}" for e in path}
    best = brute_min(required, [({f"e{e}" for e in p}, len(p)) for p in paths]) if required else (0, 0)
    assert best is not None
    assert len(suite.tests) == 1 + best[0] == suite.lower_bound and suite.optimal


@SETTINGS
@given(graphs(cyclic=False), st.data())
def test_focus_adds_pairs_only_where_asked_and_stays_minimal(g: Digraph, data: st.DataObject) -> None:
    paths = walks(g, 1)
    assume(len(paths) <= 10)
    focus = data.draw(st.sets(st.integers(0, g.n - 2), min_size=1, max_size=2))
    model = dag_model(g)
    suite = generate(model, GenerateOptions(focus=tuple(f"step:v{v}" for v in sorted(focus))))

    def items(walk: list[int]) -> set[str]:
        refs = {f"e{e}" for e in walk}
        refs |= {f"e{a}>e{b}" for a, b in itertools.pairwise(walk) if g.src[a] in focus or g.src[b] in focus}
        if walk and g.src[walk[0]] in focus:  # the start node's row, then the first decision
            refs.add(f"start>e{walk[0]}")
        return refs

    required: set[str] = set().union(*(items(w) for w in paths))
    best = brute_min(required, [(items(w), len(w)) for w in paths])
    assert best is not None
    assert len(suite.tests) == best[0] == suite.lower_bound and suite.optimal
    pairs = {c.ref for c in suite.coverage if c.kind == "pair"}
    assert len(pairs) == sum(1 for r in required if ">" in r)
    assert all(c.covered_by for c in suite.coverage if c.kind in ("pair", "decision"))


def test_focus_gives_pairwise_data_only_to_tests_in_focus() -> None:
    from flowcase.model.types import Parameter

    nodes = (
        Node(
            id="start",
            kind="start",
            decisions=(Decision(id="safe", next="e"), Decision(id="risky", risk="high", next="e")),
        ),
        Node(id="e", kind="end"),
    )
    model = Model(
        id="m",
        parameters=tuple(Parameter(name=f"p{i}", values=(1, 2, 3)) for i in range(4)),
        workflows=(Workflow(id="w", nodes=nodes),),
    )
    suite = generate(model, GenerateOptions(focus=("risk:high",)))
    rows = {t.steps[0].decision: len(t.variants) for t in suite.tests}
    assert rows == {"safe": 0, "risky": 9}  # 3^4 pairwise: the orthogonal array
    assert GenerateOptions.from_suite_options(suite.criterion, suite.options).focus == ("risk:high",)
    with pytest.raises(GenerationError, match="focus 'risky' must be"):
        generate(model, GenerateOptions(focus=("risky",)))


def test_a_pin_that_no_longer_fits_is_refused_and_regenerate_keeps_pins() -> None:
    g = Digraph(3, [0, 0, 1], [1, 2, 2], [1, 1, 1], 0, 2)
    model = dag_model(g)
    pin = _pin_of(model, g, [0, 2])
    suite = generate(model, pins=[pin])
    again = regenerate(model, None, suite)
    assert [t for t in again.tests if t.pinned] == [pin.model_copy(update={"pinned": True})]
    gone = dag_model(Digraph(3, [0, 1], [2, 2], [1, 1], 0, 2))
    with pytest.raises(GenerationError, match=f"pinned test {pin.id} no longer fits the model"):
        generate(gone, pins=[pin])


def test_cli_pins_a_test_of_a_previous_suite(tmp_path: Path) -> None:
    model = str(ROOT / "examples" / "checkout.yaml")
    first = tmp_path / "first.json"
    assert CliRunner().invoke(main, ["generate", model, "-o", str(first)]).exit_code == 0
    chosen = json.loads(first.read_text())["tests"][3]
    second = tmp_path / "second.json"
    result = CliRunner().invoke(
        main,
        ["generate", model, "--pins", str(first), "--pin", chosen["id"], "--focus", "risk:high", "-o", str(second)],
    )
    assert result.exit_code == 0, result.output
    assert f"1 pinned, kept exactly: {chosen['id']}" in result.stderr
    tests = {t["id"]: t for t in json.loads(second.read_text())["tests"]}
    assert {**chosen, "pinned": True} == tests[chosen["id"]]
    bad = CliRunner().invoke(main, ["generate", model, "--pins", str(first), "--pin", "TC-nope"])
    assert bad.exit_code == 1 and "has no test TC-nope" in bad.stderr


def test_cli_keeps_the_tests_pinned_in_the_model_file(tmp_path: Path) -> None:
    """The editor saves pins with the workflow (the model's ``pins``); the CLI keeps them too."""
    model_path = ROOT / "examples" / "login.yaml"
    first = tmp_path / "first.json"
    assert CliRunner().invoke(main, ["generate", str(model_path), "-o", str(first)]).exit_code == 0
    fewest = tmp_path / "fewest.json"
    assert (
        CliRunner().invoke(main, ["generate", str(model_path), "--criterion", "all-steps", "-o", str(fewest)]).exit_code
        == 0
    )
    dropped = {t["id"] for t in json.loads(fewest.read_text())["tests"]}
    chosen = next(t for t in json.loads(first.read_text())["tests"] if t["id"] not in dropped)
    data = yaml.safe_load(model_path.read_text())
    pinned_model = tmp_path / "pinned.json"
    pinned_model.write_text(json.dumps({**data, "pins": [chosen]}))
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["generate", str(pinned_model), "--criterion", "all-steps", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"1 pinned, kept exactly: {chosen['id']}" in result.stderr
    assert {t["id"]: t for t in json.loads(out.read_text())["tests"]}[chosen["id"]] == {**chosen, "pinned": True}
    pinned_model.write_text(json.dumps({**data, "pins": [{"id": "TC-x"}]}))
    bad = CliRunner().invoke(main, ["generate", str(pinned_model)])
    assert bad.exit_code == 1 and "is not a test of a generated suite" in bad.stderr
    # the pins are saved with the model, so they go where it goes: through flowcase's own BPMN and GraphWalker files
    pinned_model.write_text(json.dumps({**data, "pins": [chosen]}))
    for to, suffix in (("bpmn", ".bpmn"), ("graphwalker", ".json")):
        converted = tmp_path / f"converted-{to}{suffix}"
        done = CliRunner().invoke(main, ["convert", str(pinned_model), "--to", to, "-o", str(converted)])
        assert done.exit_code == 0, done.output
        out = tmp_path / f"out-{to}.json"
        result = CliRunner().invoke(main, ["generate", str(converted), "--criterion", "all-steps", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert f"1 pinned, kept exactly: {chosen['id']}" in result.stderr
        assert {t["id"]: t for t in json.loads(out.read_text())["tests"]}[chosen["id"]] == {**chosen, "pinned": True}
