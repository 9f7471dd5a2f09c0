"""The generator on hand-written models: inlining, optimality, feasibility, data, ids, purposes, maintenance."""

from __future__ import annotations

import itertools

import pytest

from flowcase.generate import GenerateOptions, GenerationError, Suite, diff, generate, parse_purpose, regenerate
from flowcase.generate.graph import flatten
from flowcase.model.expr import Value, evaluate, parse_assignments, parse_condition
from flowcase.model.io import loads
from flowcase.model.types import Model

SHOP = """
flowcase: "1"
id: shop
workflows:
  - id: main
    nodes:
      - {id: start, kind: start, next: browse}
      - id: browse
        kind: step
        decisions:
          - {id: add, action: add to cart, next: cart, requirements: [SHOP-1]}
          - {id: leave, action: leave, next: gone}
      - id: cart
        kind: step
        decisions:
          - {id: pay, action: pay, next: payment, objective: Buy, priority: high}
          - {id: more, action: keep browsing, next: browse}
      - id: payment
        kind: call
        workflow: pay
        decisions:
          - {id: ok, after: paid, next: done}
          - {id: ko, after: refused, next: cart, tags: [negative]}
      - {id: done, kind: end, name: success}
      - {id: gone, kind: end, name: left}
  - id: pay
    nodes:
      - {id: s, kind: start, next: method}
      - id: method
        kind: choice
        decisions:
          - {id: card, action: by card, next: paid}
          - {id: wallet, action: by wallet, next: paid}
          - {id: fraud, action: flagged, next: refused, risk: critical}
      - {id: paid, kind: end}
      - {id: refused, kind: end}
"""

GUARDED = """
flowcase: "1"
id: atm
parameters:
  - {name: pin_ok, values: [true, false]}
  - {name: amount, values: [20, 100, 500]}
  - {name: balance, values: [0, 50, 1000]}
  - {name: lang, values: [en, fr, de]}
variables:
  - {name: tries, initial: 0}
  - {name: cash, initial: 0}
workflows:
  - id: main
    nodes:
      - {id: start, kind: start, next: pin}
      - id: pin
        kind: step
        decisions:
          - {id: good, when: "pin_ok", next: menu}
          - {id: bad, when: "not pin_ok and tries < 2", set: "tries = tries + 1", next: pin}
          - {id: swallow, when: "not pin_ok and tries == 2", next: kept, objective: Card kept}
      - id: menu
        kind: choice
        decisions:
          - {id: withdraw, when: "amount <= balance", set: "cash = amount", next: give}
          - {id: refuse, when: "amount > balance", next: out, objective: Refuse}
          - {id: impossible, when: "amount > 1000", next: out}
      - id: give
        kind: step
        decisions:
          - {id: big, when: "cash >= 500", next: out, objective: Big note}
          - {id: small, when: "cash < 500", next: out}
          - {id: odd, when: "cash == 7", next: out}
      - {id: out, kind: end, name: card returned}
      - {id: kept, kind: end, name: card kept}
"""


def model(text: str) -> Model:
    return loads(text, "yaml").model


def simulate(m: Model, suite: Suite) -> None:
    """Independent check: every row of data satisfies every condition along the test's steps."""
    for test in suite.tests:
        for row in (test.data, *test.variants):
            env: dict[str, Value] = {**row, **m.initial_state}
            for step in test.steps:
                wf = m.workflow(step.workflow.split(">")[-1]) if ">" in step.workflow else m.workflow(step.workflow)
                decision = next(d for d in wf.node(step.node).table if d.id == step.decision)
                assert evaluate(parse_condition(decision.when), env) is True, (test.id, step)
                updates = {a.target: evaluate(a.expr, env) for a in parse_assignments(decision.set)}
                env.update(updates)  # type: ignore[arg-type]


def steps(suite: Suite) -> list[list[str]]:
    return [[f"{s.workflow}/{s.node}#{s.decision}" for s in t.steps] for t in suite.tests]


def test_sub_workflows_are_inlined_with_qualified_ids() -> None:
    graph = flatten(model(SHOP))
    assert "payment>pay/method#card" in graph.edge_by_ref
    assert "main/payment#ko" in graph.edge_by_ref
    suite = generate(model(SHOP))
    assert any("payment>pay/method#fraud" in path for path in steps(suite))
    after_fraud = [p[p.index("payment>pay/method#fraud") + 1] for p in steps(suite) if "payment>pay/method#fraud" in p]
    assert after_fraud == ["main/payment#ko"]  # the 'refused' end continues with the row whose after is 'refused'


def test_all_decisions_is_optimal_and_covers_everything() -> None:
    suite = generate(model(SHOP))
    decisions = [c for c in suite.coverage if c.kind == "decision"]
    assert decisions and all(c.covered_by for c in decisions)
    assert suite.optimal and suite.lower_bound == len(suite.tests)
    requirement = next(c for c in suite.coverage if c.kind == "requirement")
    assert requirement.ref == "SHOP-1" and requirement.covered_by


@pytest.mark.parametrize("criterion", ["all-steps", "all-decisions", "all-pairs"])
def test_same_input_same_bytes(criterion: str) -> None:
    options = GenerateOptions(criterion=criterion, data="pairwise")  # type: ignore[arg-type]
    outputs = {generate(model(GUARDED), options).model_dump_json() for _ in range(3)}
    assert len(outputs) == 1


def test_guarded_tests_are_feasible_and_impossible_rows_explained() -> None:
    m = model(GUARDED)
    suite = generate(m)
    simulate(m, suite)
    reasons = {c.ref: c.reason for c in suite.coverage if not c.covered_by}
    assert reasons["main/menu#impossible"] == "condition 'amount > 1000' can never hold"
    assert reasons["main/give#odd"] == (
        "contradictory conditions: 'give' is reached, but its condition 'cash == 7' never holds there"
    )
    covered = {c.ref for c in suite.coverage if c.covered_by}
    assert {"main/pin#swallow", "main/give#big", "main/give#small", "main/menu#refuse"} <= covered
    assert suite.lower_bound is not None and len(suite.tests) >= suite.lower_bound


def test_data_uses_first_values_unless_a_condition_needs_others() -> None:
    suite = generate(model(GUARDED))
    swallowed = next(t for t in suite.tests if t.end == "kept")
    assert swallowed.data == {"pin_ok": False, "amount": 20, "balance": 0, "lang": "en"}
    big = next(t for t in suite.tests if "Big note" in t.objectives)
    assert big.data["amount"] == 500 and big.data["balance"] == 1000


def test_pairwise_variants_cover_free_pairs_under_the_path_constraints() -> None:
    m = model(GUARDED)
    suite = generate(m, GenerateOptions(data="pairwise"))
    simulate(m, suite)
    kept = next(t for t in suite.tests if t.end == "kept")
    rows = kept.variants
    assert rows[0] == kept.data
    free = ["amount", "balance", "lang"]
    domains = {p.name: p.values for p in m.parameters}
    for a, b in itertools.combinations(free, 2):
        assert {(r[a], r[b]) for r in rows} == set(itertools.product(domains[a], domains[b]))
    assert len(rows) == 9


def test_nwise_strength_three() -> None:
    suite = generate(model(GUARDED), GenerateOptions(data="nwise", strength=3))
    kept = next(t for t in suite.tests if t.end == "kept")
    assert {(r["amount"], r["balance"], r["lang"]) for r in kept.variants} >= set(
        itertools.product([20, 100, 500], [0, 50, 1000], ["en", "fr", "de"])
    )


def test_ids_survive_unrelated_edits() -> None:
    before = generate(model(SHOP))
    edited = SHOP.replace(
        "{id: leave, action: leave, next: gone}",
        "{id: leave, action: leave the shop, next: gone}\n          - {id: help, action: ask for help, next: gone}",
    )
    after = generate(model(edited))
    untouched = [t for t in before.tests if not any(s.node == "browse" and s.decision == "leave" for s in t.steps)]
    assert untouched
    assert {t.id for t in untouched} <= {t.id for t in after.tests}


def test_names_come_from_objectives_and_are_unique() -> None:
    suite = generate(model(SHOP))
    names = [t.name for t in suite.tests]
    assert len(set(names)) == len(names)
    assert all("Buy" in n for n in names)  # the objective, with its step's name: "cart: Buy (...)"


def test_filters_restrict_the_targets() -> None:
    suite = generate(model(SHOP), GenerateOptions(risk="critical"))
    assert len(suite.tests) == 1
    assert "payment>pay/method#fraud" in steps(suite)[0]
    excluded = next(c for c in suite.coverage if c.ref == "payment>pay/method#wallet")
    assert excluded.covered_by or excluded.reason == "excluded by the filters"
    tagged = generate(model(SHOP), GenerateOptions(tags=("negative",)))
    assert all("main/payment#ko" in p for p in steps(tagged))


def test_all_pairs_covers_every_feasible_pair() -> None:
    suite = generate(model(SHOP), GenerateOptions(criterion="all-pairs"))
    pairs = [c for c in suite.coverage if c.kind == "pair"]
    assert pairs and all(c.covered_by for c in pairs)
    assert suite.optimal
    assert len(suite.tests) >= len(generate(model(SHOP)).tests)


def test_all_paths_counts_before_enumerating() -> None:
    suite = generate(model(SHOP), GenerateOptions(criterion="all-paths", loop_bound=1))
    paths = [c for c in suite.coverage if c.kind == "path"]
    assert len(paths) == len(suite.tests) == suite.lower_bound
    assert len({t.id for t in suite.tests}) == len(suite.tests)
    with pytest.raises(GenerationError, match="more than the limit of 10"):
        generate(model(SHOP), GenerateOptions(criterion="all-paths", loop_bound=3, max_paths=10))


def test_all_paths_on_guarded_model_keeps_only_feasible_paths() -> None:
    m = model(GUARDED)
    suite = generate(m, GenerateOptions(criterion="all-paths", loop_bound=2))
    simulate(m, suite)
    assert any(c.reason and "infeasible" in c.reason for c in suite.coverage if c.kind == "path")


def test_purposes() -> None:
    purposes = (
        parse_purpose("Fraud: pass method#fraud; reach success"),
        parse_purpose("pass browse#leave"),
        parse_purpose("Wallet no fraud: pass method#wallet; avoid method#fraud; avoid cart#more"),
    )
    suite = generate(model(SHOP), GenerateOptions(criterion="purposes", purposes=purposes))
    by_name = {t.name: t for t in suite.tests}
    fraud = [f"{s.node}#{s.decision}" for s in by_name["Fraud"].steps]
    assert "method#fraud" in fraud and by_name["Fraud"].end == "done"
    wallet = [f"{s.node}#{s.decision}" for s in by_name["Wallet no fraud"].steps]
    assert "method#wallet" in wallet and "method#fraud" not in wallet and "cart#more" not in wallet
    with pytest.raises(GenerationError, match="no node or decision"):
        generate(model(SHOP), GenerateOptions(criterion="purposes", purposes=(parse_purpose("pass nowhere"),)))


def test_impossible_purpose_is_reported() -> None:
    purposes = (parse_purpose("pass give#odd"),)
    suite = generate(model(GUARDED), GenerateOptions(criterion="purposes", purposes=purposes))
    assert not suite.tests
    item = next(c for c in suite.coverage if c.kind == "purpose")
    assert item.reason and item.reason.startswith("contradictory conditions: 'give' is reached")


def test_generation_stops_within_budget_on_unbounded_state() -> None:
    counter = """
flowcase: "1"
id: counter
variables: [{name: n, initial: 0}]
workflows:
  - id: main
    nodes:
      - {id: start, kind: start, next: loop}
      - id: loop
        kind: step
        decisions:
          - {id: again, set: "n = n + 1", next: loop}
          - {id: out, when: "n == 100000", next: end}
          - {id: quit, when: "n < 3", next: end}
      - {id: end, kind: end}
"""
    suite = generate(model(counter), GenerateOptions(search_budget=5000))
    reason = next(c.reason for c in suite.coverage if c.ref == "main/loop#out")
    assert reason is not None and "budget" in reason
    simulate(model(counter), suite)


def test_regenerate_keeps_still_valid_tests() -> None:
    old = generate(model(SHOP))
    edited = model(SHOP.replace("action: by wallet", "action: by e-wallet"))
    new = regenerate(edited, None, old)
    assert {t.id for t in new.tests} == {t.id for t in old.tests}
    result = diff(model(SHOP), edited, old)
    wallet_tests = [t.id for t in old.tests if any(s.decision == "wallet" for s in t.steps)]
    assert set(result.updated) == set(wallet_tests)
    assert all(result.changes[i] == ("name", "steps") or "steps" in result.changes[i] for i in result.updated)
    assert not result.new and not result.obsolete
    assert set(result.unchanged) == {t.id for t in old.tests} - set(wallet_tests)


def test_diff_finds_new_and_obsolete_tests() -> None:
    old = model(SHOP)
    new = model(
        SHOP.replace("          - {id: fraud, action: flagged, next: refused, risk: critical}\n", "")
        .replace("      - {id: refused, kind: end}\n", "")
        .replace("          - {id: ko, after: refused, next: cart, tags: [negative]}\n", "")
        .replace(
            "- {id: card, action: by card, next: paid}",
            "- {id: card, action: by card, next: paid}\n          - {id: cash, action: cash, next: paid}",
        )
    )
    result = diff(old, new)
    assert result.obsolete and result.new
    old_suite = generate(old)
    gone = {t.id for t in old_suite.tests if any(s.decision == "fraud" for s in t.steps)}
    assert gone <= set(result.obsolete)
    assert any(any(s.decision == "cash" for s in t.steps) for t in result.suite.tests if t.id in result.new)


def test_bad_options_are_refused() -> None:
    with pytest.raises(GenerationError):
        generate(model(SHOP), GenerateOptions(criterion="purposes"))
    with pytest.raises(GenerationError):
        parse_purpose("visit somewhere")
    with pytest.raises(GenerationError, match="recursive"):
        generate(
            model("""
flowcase: "1"
id: rec
workflows:
  - id: main
    nodes:
      - {id: start, kind: start, next: c}
      - {id: c, kind: call, workflow: main, next: e}
      - {id: e, kind: end}
""")
        )


def test_options_round_trip_through_the_suite() -> None:
    options = GenerateOptions(
        criterion="purposes", purposes=(parse_purpose("x: pass cart; reach success"),), tags=("a", "b"), data="pairwise"
    )
    suite = generate(model(SHOP), options)
    again = GenerateOptions.from_suite_options(suite.criterion, suite.options)
    assert again == options
