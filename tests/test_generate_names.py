"""Test names a tester would write: from objectives, else from the choices along the path; unique without
counters; never a raw condition; cut at a word boundary well under Jira's 255-character summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowcase.generate import GenerateOptions, generate
from flowcase.generate.assemble import MAX_NAME, cut, humanize, is_generated_id
from flowcase.model.io import load_path, loads

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "examples").glob("*.yaml")) + sorted((ROOT / "examples" / "bpmn").glob("*.bpmn"))
CONDITION = re.compile(r"==|!=|>=|<=| and | or |\bnot\b.*\(|\"")


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_example_names_are_readable_and_unique(path: Path) -> None:
    model = load_path(path).model
    conditions = {d.when for w in model.workflows for n in w.nodes for d in n.table if CONDITION.search(d.when)}
    names = [t.name for t in generate(model).tests]
    assert len(set(n.casefold() for n in names)) == len(names)
    for name in names:
        assert 0 < len(name) <= MAX_NAME < 255
        assert not re.search(r"\(\d+\)$", name), name
        assert not any(c in name for c in conditions), name


def test_checkout_names() -> None:
    names = [t.name for t in generate(load_path(ROOT / "examples" / "checkout.yaml").model).tests]
    assert "Main path to success" in names
    assert "Choose payment method: paypal \u2192 success" in names


SAME_OBJECTIVE = """\
flowcase: "1"
id: pay
parameters: [{name: method, values: [card, paypal]}, {name: answer, values: [ok, declined]}]
workflows:
  - id: main
    nodes:
      - {id: start, kind: start, next: method}
      - id: method
        kind: step
        name: Pay by
        decisions:
          - {id: card, when: "method == 'card'", action: pay by card, next: provider}
          - {id: payPal, when: "method == 'paypal'", action: pay by PayPal, next: provider}
      - id: provider
        kind: step
        name: Provider answer
        decisions:
          - {id: ok, when: "answer == 'ok'", next: done}
          - {id: Flow_0ab3x9k, when: "answer == 'declined'", objective: A decline is shown, next: failed}
      - {id: done, kind: end, name: paid}
      - {id: failed, kind: end, name: declined}
"""


def test_same_objective_is_told_apart_by_the_choices_not_a_counter() -> None:
    suite = generate(loads(SAME_OBJECTIVE, "yaml").model, GenerateOptions(criterion="all-paths"))
    names = sorted(t.name for t in suite.tests)
    assert names == [
        "A decline is shown (Pay by: card)",
        "A decline is shown (Pay by: pay pal)",
        "Main path to paid",
        "Pay by: pay pal \u2192 paid",
    ]
    # an unnamed row (a modeler's generated id) is described by where it leads
    assert all("Flow_" not in n for n in names)


def test_cut_keeps_whole_words() -> None:
    text = "Missing documents are chased by reminders; Documents sent after a reminder restart the claim"
    short = cut(text, 40)
    assert short == "Missing documents are chased by\u2026"
    assert len(short) <= 40
    assert cut("short", 40) == "short"
    assert cut("x" * 60, 40) == "x" * 39 + "\u2026"


def test_generated_ids_and_humanized_rows() -> None:
    assert is_generated_id("Flow_0ab3x9k") and is_generated_id("Activity_07vs91k") and is_generated_id("3")
    assert is_generated_id("SequenceFlow_1hq2v0z")
    assert not is_generated_id("bad_postcode") and not is_generated_id("valid_minimum") and not is_generated_id("ok")
    assert humanize("bad_postcode") == "bad postcode" and humanize("validMinimum") == "valid minimum"


def test_plain_camunda_imports_get_human_names() -> None:
    loaded = load_path(ROOT / "tests" / "data" / "bpmn" / "camunda-order-approval.bpmn")
    assert loaded.model.id == "order_approval"  # not 'Definitions_1k9v3xq': exports are named after it
    names = [t.name for t in generate(loaded.model).tests]
    assert names == [
        "Amount? more than 1000; Approved? yes",
        "Amount? more than 1000; Approved? no",
        "Amount? more than 1000; Manager approval: 3 days",
        "Amount? otherwise",
    ]
    claim = load_path(ROOT / "tests" / "data" / "bpmn" / "camunda-collaboration-claim.bpmn").model
    assert [t.name for t in generate(claim).tests] == ["Covered? policy covers damage", "Covered? not covered"]


def test_a_generated_model_id_falls_back_to_the_file_name(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "data" / "bpmn" / "camunda-order-approval.bpmn").read_text()
    text = text.replace('name="Order approval"', "")
    (tmp_path / "Leave request.bpmn").write_text(text)
    model = load_path(tmp_path / "Leave request.bpmn").model
    assert model.id == "leave_request"
    assert not is_generated_id(model.id)
