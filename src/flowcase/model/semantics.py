"""What a model means, independent of how it is written: for checking that conversions keep meaning.

:func:`canonical` keeps ids, kinds, names, every decision with every field (the effective table, so the
``next`` shorthand and an explicit single row are the same), parameters and variables; it drops layouts
and, unless asked, descriptions. Conditions and assignments are compared as parsed expressions, so
``a==1`` and ``a == 1`` mean the same. :func:`same_meaning` lists the differences in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowcase.model import expr as ex
from flowcase.model.expr import Expr, ExprError, format_value, parse_assignments, parse_condition
from flowcase.model.types import Decision, Model, Node, Scalar, Workflow

__all__ = ["canonical", "format_expr", "normal_assignments", "normal_condition", "same_meaning"]

# binding strength of each operator: a higher number binds tighter
_STRENGTH = {
    "or": 1,
    "and": 2,
    "==": 4,
    "!=": 4,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "in": 4,
    "not in": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
_NOT, _COMPARISON, _NEG, _ATOM = 3, 4, 7, 8


def format_expr(expr: Expr) -> str:
    """The expression written in its normal form (single spaces, only the parentheses needed)."""
    return _format(expr)[0]


def _format(expr: Expr) -> tuple[str, int]:
    if isinstance(expr, ex.Const):
        return format_value(expr.value), _ATOM
    if isinstance(expr, ex.Name):
        return expr.name, _ATOM
    if isinstance(expr, ex.ListExpr):
        return "[" + ", ".join(format_expr(i) for i in expr.items) + "]", _ATOM
    if isinstance(expr, ex.Not):
        return "not " + _wrap(expr.operand, _NOT), _NOT
    if isinstance(expr, ex.Neg):
        return "-" + _wrap(expr.operand, _NEG), _NEG
    strength = _STRENGTH[expr.op]
    # comparisons do not chain: a comparison inside a comparison needs parentheses on either side
    left = _wrap(expr.left, strength + 1 if strength == _COMPARISON else strength)
    # operators are left-associative: an operand of equal strength on the right needs parentheses
    right = _wrap(expr.right, strength + 1)
    return f"{left} {expr.op} {right}", strength


def _wrap(expr: Expr, strength: int) -> str:
    text, own = _format(expr)
    return text if own >= strength else f"({text})"


def normal_condition(text: str) -> str:
    """A condition in normal form; the text unchanged if it does not parse."""
    try:
        expr = parse_condition(text)
    except ExprError:
        return text
    return "" if expr is None else format_expr(expr)


def normal_assignments(text: str) -> str:
    """Assignments in normal form (``a = 1; b = a + 1``); the text unchanged if they do not parse."""
    try:
        parsed = parse_assignments(text)
    except ExprError:
        return text
    return "; ".join(f"{a.target} = {format_expr(a.expr)}" for a in parsed)


def canonical(model: Model, *, descriptions: bool = False) -> dict[str, Any]:
    """The model's meaning as plain, order-normalised data (scalars tagged with their type)."""
    data: dict[str, Any] = {
        "id": model.id,
        "name": model.name,
        "parameters": {p.name: [_scalar(v) for v in p.values] for p in model.parameters},
        "variables": {v.name: _scalar(v.initial) for v in model.variables},
        "workflow_order": [w.id for w in model.workflows],
        "workflows": {w.id: _workflow(w, descriptions) for w in model.workflows},
    }
    if descriptions:
        data["description"] = model.description
        data["parameter_descriptions"] = {p.name: p.description for p in model.parameters}
        data["variable_descriptions"] = {v.name: v.description for v in model.variables}
    return data


def _workflow(workflow: Workflow, descriptions: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"name": workflow.name, "nodes": {n.id: _node(n, descriptions) for n in workflow.nodes}}
    if workflow.stop_anywhere:
        data["stop_anywhere"] = True
    if descriptions:
        data["description"] = workflow.description
    return data


def _node(node: Node, descriptions: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": node.kind, "name": node.name}
    if node.kind == "call":
        data["workflow"] = node.workflow
    table = node.table
    data["decision_order"] = [d.id for d in table]
    data["decisions"] = {d.id: _decision(d) for d in table}
    if descriptions:
        data["description"] = node.description
    return data


def _decision(decision: Decision) -> dict[str, Any]:
    return {
        "when": normal_condition(decision.when),
        "set": normal_assignments(decision.set),
        "action": decision.action,
        "expected": decision.expected,
        "next": decision.next,
        "after": decision.after,
        "objective": decision.objective,
        "requirements": list(decision.requirements),
        "priority": decision.priority,
        "risk": decision.risk,
        "tags": list(decision.tags),
        "custom": {k: _scalar(v) for k, v in sorted(decision.custom.items())},
    }


def _scalar(value: Scalar) -> str:
    """A value with its type, so that ``1``, ``1.0``, ``true`` and ``"1"`` stay different."""
    return f"{type(value).__name__}:{value!r}"


def same_meaning(a: Model, b: Model, *, descriptions: bool = False) -> list[str]:
    """Every difference in meaning between two models, in words; empty when they mean the same."""
    found: list[str] = []
    _diff(canonical(a, descriptions=descriptions), canonical(b, descriptions=descriptions), [], found)
    return found


_LABELS = {
    "workflows": "workflow",
    "nodes": "node",
    "decisions": "decision",
    "parameters": "parameter",
    "variables": "variable",
    "custom": "custom attribute",
}


def _diff(a: Any, b: Any, where: list[str], found: list[str]) -> None:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in b:
                found.append(f"{_place([*where, str(key)])} only in the first model")
            elif key not in a:
                found.append(f"{_place([*where, str(key)])} only in the second model")
            else:
                _diff(a[key], b[key], [*where, str(key)], found)
        return
    if a != b:
        found.append(f"{_place(where)}: {a!r} != {b!r}")


def _place(where: list[str]) -> str:
    """``workflows/login/nodes/enter/decisions/2/when`` as ``workflow 'login', node 'enter', ..., field 'when'``."""
    parts: list[str] = []
    i = 0
    while i < len(where):
        kind = _LABELS.get(where[i])
        if kind and i + 1 < len(where):
            parts.append(f"{kind} {where[i + 1]!r}")
            i += 2
        else:
            parts.append(f"field {where[i]!r}" if i == len(where) - 1 else where[i])
            i += 1
    return ", ".join(parts) or "model"
