"""A hand-built model and suite for the export tests (importable as ``test_export_samples``), and their checks.

The suite is written by hand, independently of the generator: three tests of a parcel pickup, one with
pairwise data variants, one through a sub-workflow, one with text that tries every format's escaping
(quotes, pipes, backslashes, ``${var}``, ``#``, ``\"\"\"``, a line break, non-ASCII).
"""

from __future__ import annotations

from flowcase.generate.suite import CoverageItem, Suite
from flowcase.generate.suite import TestCase as Case
from flowcase.generate.suite import TestStep as Step
from flowcase.model.io import loads
from flowcase.model.types import Model

MODEL_YAML = """
flowcase: "1"
id: parcel-pickup
name: Parcel pickup at a locker
description: |-
  The customer opens a locker with the code from the SMS.
  Scenario: a line that looks like Gherkin must stay description.
parameters:
  - {name: code, values: [valid, wrong]}
  - {name: size, values: [S, M, L]}
  - {name: paid, values: [true, false]}
variables:
  - {name: tries, initial: 0}
workflows:
  - id: pickup
    name: Pick up
    nodes:
      - {id: start, kind: start, next: enter_code}
      - id: enter_code
        kind: step
        name: Enter code
        decisions:
          - id: ok
            when: code == "valid"
            action: Type the 6-digit code from the SMS.
            expected: The locker door opens.
            next: pay_check
            requirements: [PICK-1]
          - id: wrong
            when: code == "wrong" and tries < 1
            set: tries = tries + 1
            action: Type a wrong code.
            expected: '"Wrong code | try again" is shown'
            next: enter_code
            requirements: [PICK-2]
          - id: give_up
            when: code == "wrong" and tries == 1
            action: Type a wrong code again.
            expected: The screen says ${contact} support # now
            next: refused
      - id: pay_check
        kind: call
        name: Verify payment
        workflow: verify
        decisions:
          - {id: go, after: verified, action: Take the parcel., expected: The door closes by itself., next: done}
          - {id: stop, after: unpaid, next: refused}
      - {id: done, kind: end, name: collected}
      - {id: refused, kind: end, name: refused}
  - id: verify
    name: Payment check
    nodes:
      - {id: start, kind: start, next: check}
      - id: check
        kind: choice
        name: Paid?
        decisions:
          - {id: is_paid, when: paid, next: verified, action: Look at the screen., expected: '"Paid" is shown'}
          - {id: not_paid, when: not paid, next: unpaid, action: Look at the screen., expected: 'Pay 2,50 € first'}
      - {id: verified, kind: end, name: verified}
      - {id: unpaid, kind: end, name: unpaid}
"""

NASTY = 'Say "hi" | pipe \\ backslash ${var} @{list} # hash """ triple\nsecond line, ünïcödé ✓'


def sample_model() -> Model:
    return loads(MODEL_YAML, "yaml", "parcel-pickup.yaml").model


def _step(
    workflow: str,
    node: str,
    decision: str,
    name: str,
    action: str = "",
    expected: str = "",
    condition: str = "",
    requirements: tuple[str, ...] = (),
) -> Step:
    return Step(
        workflow=workflow,
        node=node,
        decision=decision,
        name=name,
        action=action,
        expected=expected,
        condition=condition,
        requirements=requirements,
    )


START = _step("pickup", "start", "1", "start")
OK = _step(
    "pickup",
    "enter_code",
    "ok",
    "Enter code",
    "Type the 6-digit code from the SMS.",
    "The locker door opens.",
    'code == "valid"',
    ("PICK-1",),
)
SUB_START = _step("pay_check>verify", "start", "1", "start")


def sample_suite() -> Suite:
    collected = Case(
        id="TC-0a1b2c3d",
        name="Collect a paid parcel",
        steps=(
            START,
            OK,
            SUB_START,
            _step("pay_check>verify", "check", "is_paid", "Paid?", "Look at the screen.", '"Paid" is shown', "paid"),
            _step("pickup", "pay_check", "go", "Verify payment", "Take the parcel.", "The door closes by itself."),
        ),
        end="done",
        end_name="collected",
        data={"code": "valid", "size": "S", "paid": True},
        variants=(
            {"code": "valid", "size": "S", "paid": True},
            {"code": "valid", "size": "M", "paid": True},
            {"code": "valid", "size": "L", "paid": True},
        ),
        objectives=("Collect a parcel that is paid",),
        requirements=("PICK-1",),
        tags=("smoke", "happy path"),
        priority="critical",
        risk="high",
    )
    unpaid = Case(
        id="TC-4e5f6a7b",
        name="Unpaid parcel stays in the locker",
        steps=(
            START,
            OK,
            SUB_START,
            _step(
                "pay_check>verify", "check", "not_paid", "Paid?", "Look at the screen.", "Pay 2,50 € first", "not paid"
            ),
            _step("pickup", "pay_check", "stop", "Verify payment"),
        ),
        end="refused",
        end_name="refused",
        data={"code": "valid", "size": "M", "paid": False},
        requirements=("PICK-1",),
        priority="high",
    )
    nasty = Case(
        id="TC-8c9d0e1f",
        name=NASTY,
        steps=(
            START,
            _step(
                "pickup",
                "enter_code",
                "wrong",
                "Enter code",
                "Type a wrong code.",
                '"Wrong code | try again" is shown',
                'code == "wrong" and tries < 1',
                ("PICK-2",),
            ),
            _step(
                "pickup",
                "enter_code",
                "give_up",
                "Enter code",
                NASTY,
                "The screen says ${contact} support # now",
                'code == "wrong" and tries == 1',
            ),
        ),
        end="refused",
        end_name="refused",
        data={"code": "wrong", "size": "L", "paid": False},
        objectives=(NASTY, "When the code is wrong twice, the customer gives up"),
        requirements=("PICK-2",),
        tags=("negative", "needs review"),
        priority="low",
        risk="low",
    )
    coverage = (
        CoverageItem(kind="decision", ref="pickup/enter_code#ok", covered_by=("TC-0a1b2c3d", "TC-4e5f6a7b")),
        CoverageItem(kind="decision", ref="pickup/enter_code#wrong", covered_by=("TC-8c9d0e1f",)),
        CoverageItem(kind="decision", ref="pickup/enter_code#give_up", covered_by=("TC-8c9d0e1f",)),
        CoverageItem(kind="decision", ref="pay_check>verify/check#is_paid", covered_by=("TC-0a1b2c3d",)),
        CoverageItem(kind="decision", ref="pay_check>verify/check#not_paid", covered_by=("TC-4e5f6a7b",)),
        CoverageItem(kind="decision", ref="pickup/pay_check#go", covered_by=("TC-0a1b2c3d",)),
        CoverageItem(kind="decision", ref="pickup/pay_check#stop", covered_by=("TC-4e5f6a7b",)),
        CoverageItem(
            kind="pair",
            ref="pickup/enter_code#wrong>pickup/enter_code#ok",
            reason="infeasible: after a wrong code the test data keeps the code wrong",
        ),
        CoverageItem(kind="requirement", ref="PICK-1", covered_by=("TC-0a1b2c3d", "TC-4e5f6a7b")),
        CoverageItem(kind="requirement", ref="PICK-2", covered_by=("TC-8c9d0e1f",)),
    )
    return Suite(
        model="parcel-pickup",
        model_name="Parcel pickup at a locker",
        model_hash="ab" * 32,
        criterion="all-decisions",
        tests=(collected, unpaid, nasty),
        coverage=coverage,
        lower_bound=3,
        optimal=True,
        options={"data": "pairwise"},
        notes=("hand-built sample",),
    )


def test_the_sample_suite_matches_the_sample_model() -> None:
    model, suite = sample_model(), sample_suite()
    for test in suite.tests:
        for step in test.steps:
            workflow = model.workflow(step.workflow.rsplit(">", 1)[-1])
            assert step.decision in {d.id for d in workflow.node(step.node).table}
    assert len({t.id for t in suite.tests}) == len(suite.tests)
