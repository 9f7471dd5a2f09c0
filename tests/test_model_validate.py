"""Validation: each error and warning names the element, the field and, in files, the line and column."""

from __future__ import annotations

from typing import Any

import pytest

from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.io import dumps, from_data, loads
from flowcase.model.validate import validate


def doc(nodes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "flowcase": "1",
        "id": "m",
        "parameters": [{"name": "card", "values": ["visa", "amex"]}, {"name": "amount", "values": [10, 500]}],
        "variables": [{"name": "attempts", "initial": 0}, {"name": "locked", "initial": False}],
        "workflows": [{"id": "main", "nodes": nodes}],
    }
    base.update(extra)
    return base


START = {"id": "start", "kind": "start", "next": "pay"}
END = {"id": "done", "kind": "end", "name": "success"}


def codes(data: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    return [(d.severity, d.code, d.element, d.field) for d in validate(from_data(data))]


def test_a_sound_model_has_no_diagnostics() -> None:
    data = doc(
        [
            START,
            {
                "id": "pay",
                "kind": "step",
                "decisions": [
                    {
                        "id": "ok",
                        "when": "card == 'visa' and amount < 100",
                        "set": "attempts = attempts + 1",
                        "next": "done",
                    },
                    {"id": "big", "when": "card == 'visa' and amount >= 100", "set": "locked = true", "next": "done"},
                    {"id": "other", "when": "card == 'amex'", "next": "done"},
                ],
            },
            END,
        ]
    )
    assert validate(from_data(data)) == []


@pytest.mark.parametrize(
    ("decision", "code", "field"),
    [
        ({"next": "nowhere"}, "unknown-target", "next"),
        ({"next": "start"}, "target-is-start", "next"),
        ({"when": "card ==", "next": "done"}, "bad-expression", "when"),
        ({"when": "crad == 'visa'", "next": "done"}, "unknown-name", "when"),
        ({"when": "amount == 'visa'", "next": "done"}, "type-mismatch", "when"),
        ({"when": "amount + 1", "next": "done"}, "not-a-condition", "when"),
        ({"when": "card < amount", "next": "done"}, "type-mismatch", "when"),
        ({"set": "card = 'amex'", "next": "done"}, "bad-assignment", "set"),
        ({"set": "nothing = 1", "next": "done"}, "bad-assignment", "set"),
        ({"set": "attempts = true", "next": "done"}, "type-mismatch", "set"),
        ({"set": "attempts = attempts +", "next": "done"}, "bad-expression", "set"),
        ({"after": "approved", "next": "done"}, "after-not-on-call", "after"),
    ],
)
def test_decision_errors_name_the_row_and_field(decision: dict[str, Any], code: str, field: str) -> None:
    data = doc([START, {"id": "pay", "kind": "step", "decisions": [{"id": "r1", **decision}]}, END])
    found = codes(data)
    assert ("error", code, "step 'pay', decision 'r1'", field) in found, found


@pytest.mark.parametrize(
    ("nodes", "code"),
    [
        ([{"id": "pay", "kind": "step", "next": "done"}, END], "no-start"),
        (
            [START, {"id": "pay", "kind": "step", "next": "pay2"}, {"id": "pay2", "kind": "step", "next": "pay"}],
            "no-end",
        ),
        (
            [START, {"id": "s2", "kind": "start", "next": "done"}, {"id": "pay", "kind": "step", "next": "done"}, END],
            "several-starts",
        ),
        ([START, {"id": "pay", "kind": "step"}, END], "no-exit"),
        (
            [START, {"id": "pay", "kind": "step", "next": "done"}, {"id": "pay", "kind": "step", "next": "done"}, END],
            "duplicate-id",
        ),
        ([START, {"id": "pay", "kind": "step", "next": "done"}, {**END, "next": "pay"}], "end-has-exit"),
        ([START, {"id": "pay", "kind": "call", "next": "done"}, END], "call-without-workflow"),
        ([START, {"id": "pay", "kind": "call", "workflow": "ghost", "next": "done"}, END], "unknown-workflow"),
        ([START, {"id": "pay", "kind": "step", "workflow": "main", "next": "done"}, END], "not-a-call"),
        (
            [START, {"id": "pay", "kind": "step", "next": "done", "decisions": [{"next": "done"}]}, END],
            "next-and-decisions",
        ),
    ],
)
def test_structural_errors(nodes: list[dict[str, Any]], code: str) -> None:
    assert code in [c for sev, c, _, _ in codes(doc(nodes)) if sev == "error"]


def test_recursive_calls_are_refused() -> None:
    data = doc([START, {"id": "pay", "kind": "call", "workflow": "sub", "next": "done"}, END])
    data["workflows"].append(
        {
            "id": "sub",
            "nodes": [
                {"id": "s", "kind": "start", "next": "again"},
                {"id": "again", "kind": "call", "workflow": "main", "next": "e"},
                {"id": "e", "kind": "end"},
            ],
        }
    )
    messages = [d.message for d in validate(from_data(data)) if d.code == "recursive-call"]
    assert messages == ["calls itself: main -> sub -> main"]


def test_after_must_name_an_end_of_the_callee() -> None:
    data = doc(
        [
            START,
            {
                "id": "pay",
                "kind": "call",
                "workflow": "sub",
                "decisions": [
                    {"id": "yes", "after": "approved", "next": "done"},
                    {"id": "no", "after": "rejectd", "next": "done"},
                ],
            },
            END,
        ]
    )
    data["workflows"].append(
        {
            "id": "sub",
            "nodes": [
                {"id": "s", "kind": "start", "decisions": [{"next": "a"}, {"next": "r"}]},
                {"id": "a", "kind": "end", "name": "approved"},
                {"id": "r", "kind": "end", "name": "rejected"},
            ],
        }
    )
    bad = [d for d in validate(from_data(data)) if d.code == "unknown-end"]
    assert len(bad) == 1
    assert bad[0].element == "call 'pay', decision 'no'"
    assert "approved, rejected" in bad[0].message


def test_warnings_for_unreachable_dead_ends_and_impossible_conditions() -> None:
    data = doc(
        [
            START,
            {
                "id": "pay",
                "kind": "step",
                "decisions": [
                    {"id": "ok", "when": "card == 'visa'", "next": "done"},
                    {"id": "never", "when": "card == 'diners'", "next": "done"},
                    {"id": "loop", "when": "card == 'amex'", "next": "spin"},
                ],
            },
            {"id": "spin", "kind": "step", "next": "spin2"},
            {"id": "spin2", "kind": "step", "next": "spin"},
            {"id": "island", "kind": "step", "next": "done"},
            END,
        ]
    )
    found = [(d.severity, d.code, d.element) for d in validate(from_data(data))]
    assert ("warning", "never-holds", "step 'pay', decision 'never'") in found
    assert ("warning", "dead-end", "step 'spin'") in found
    assert ("warning", "dead-end", "step 'spin2'") in found
    assert ("warning", "unreachable", "step 'island'") in found
    assert all(sev == "warning" for sev, _, _ in found)


def test_incomplete_table_names_the_uncovered_input() -> None:
    data = doc(
        [
            START,
            {
                "id": "pay",
                "kind": "step",
                "decisions": [
                    {"when": "card == 'visa'", "next": "done"},
                    {"when": "card == 'amex' and amount < 100", "next": "done"},
                ],
            },
            END,
        ]
    )
    [warning] = [d for d in validate(from_data(data)) if d.code == "incomplete-table"]
    assert warning.message == 'no row applies when amount = 500, card = "amex"'


def test_variables_set_only_to_constants_count_as_finite() -> None:
    data = doc(
        [
            START,
            {"id": "pay", "kind": "step", "decisions": [{"id": "lock", "set": "locked = true", "next": "check"}]},
            {
                "id": "check",
                "kind": "choice",
                "decisions": [
                    {"id": "yes", "when": "locked", "next": "done"},
                    {"id": "impossible", "when": "attempts == 1", "next": "done"},
                ],
            },
            END,
        ]
    )
    # attempts is never assigned: it stays 0, so "attempts == 1" can never hold.
    found = [(d.code, d.element) for d in validate(from_data(data))]
    assert ("never-holds", "choice 'check', decision 'impossible'") in found
    assert ("never-holds", "choice 'check', decision 'yes'") not in found


YAML_WITH_ERRORS = """\
flowcase: "1"
id: demo
parameters:
  - name: card
    values: [visa, amex]
workflows:
  - id: main
    nodes:
      - id: start
        kind: start
        next: pay
      - id: pay
        kind: step
        decisions:
          - id: ok
            when: card == 'visa' and
            next: done
          - id: ko
            when: "card == 'amex'"
            next: nowhere
      - id: done
        kind: end
"""


def test_file_diagnostics_carry_line_and_column() -> None:
    loaded = loads(YAML_WITH_ERRORS, "yaml", source="demo.yaml")
    found = {d.code: d for d in loaded.locate(validate(loaded.model))}
    bad = found["bad-expression"]
    # the plain scalar starts at column 19 of line 16; the error is at the end of the expression
    assert (bad.line, bad.column) == (16, 19 + len("card == 'visa' and"))
    assert found["unknown-target"].line == 20
    assert found["unknown-target"].format("demo.yaml") == (
        "demo.yaml:20:19: error: workflow 'main', step 'pay', decision 'ko', field 'next': "
        "leads to unknown node 'nowhere' [unknown-target]"
    )


def test_json_positions_work_too() -> None:
    model = loads(YAML_WITH_ERRORS, "yaml").model
    text = dumps(model, "json")
    loaded = loads(text, "json", source="demo.json")
    [target] = [d for d in loaded.locate(validate(loaded.model)) if d.code == "unknown-target"]
    line = text.splitlines()[target.line - 1]  # type: ignore[operator]
    assert '"next": "nowhere"' in line
    assert line.index('"nowhere"') + 2 == target.column


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ('{"id": "x",\n "workflows": [}', "json", "x.json:2:16: error: invalid JSON: Expecting value [syntax]"),
        (
            "id: x\nworkflows: [\n  - a",
            "yaml",
            "x.yaml:3:3: error: invalid YAML: expected the node content, but found '-' [syntax]",
        ),
        (
            "- just\n- a list\n",
            "yaml",
            "x.yaml: error: the document must be a mapping/object with 'flowcase', "
            "'id' and 'workflows', not a list [not-a-model]",
        ),
        ('{"id": "x", "workflows": []}', "json", "x.json:1:26: error: field 'workflows': must not be empty [schema]"),
    ],
)
def test_syntax_and_schema_errors_are_one_precise_line(text: str, fmt: str, expected: str) -> None:
    with pytest.raises(ModelError) as info:
        loads(text, fmt, source=f"x.{fmt}")  # type: ignore[arg-type]
    assert str(info.value) == expected


def test_unknown_field_is_located_at_its_key() -> None:
    text = "id: x\nworkflows:\n  - id: main\n    nodes:\n      - id: s\n        kind: start\n        nxt: e\n"
    with pytest.raises(ModelError) as info:
        loads(text, "yaml", source="m.yaml")
    [d] = info.value.diagnostics
    assert isinstance(d, Diagnostic)
    assert (d.line, d.column, d.field, d.element) == (7, 9, "nxt", "start 's'")


def test_rows_given_the_same_fields_share_their_set_and_a_copy_changes_only_its_own() -> None:
    from pathlib import Path

    text = Path(__file__).resolve().parent.parent.joinpath("examples", "checkout.yaml").read_text()
    model = loads(text, "yaml").model
    rows = [decision for workflow in model.workflows for _, decision in workflow.edges()]
    by_set: dict[int, list[Any]] = {}
    for row in rows:
        by_set.setdefault(id(row.model_fields_set), []).append(row)
    assert len(by_set) < len(rows) / 2  # shared (pydantic would give each row a set of its own)
    first, second = next(group for group in by_set.values() if len(group) > 1)[:2]
    before = set(second.model_fields_set)
    changed = first.model_copy(update={"priority": "high"})
    assert "priority" in changed.model_fields_set
    assert second.model_fields_set == before and first.model_fields_set == before
    written = dumps(model, "json")
    assert dumps(loads(written, "json").model, "json") == written  # read and written as before
