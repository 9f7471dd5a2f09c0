"""GraphWalker JSON: what reader and writer share: JavaScript guards and actions <-> flowcase expressions."""

from __future__ import annotations

import json
import re

from flowcase.model import expr as ex
from flowcase.model.expr import Expr, ExprError, format_value, parse_assignments, parse_condition
from flowcase.model.semantics import format_expr

GENERATOR = "random(edge_coverage(100))"
DECISION_FIELDS = ("when", "set", "action", "expected", "after", "objective", "priority", "risk")


# -- expressions: flowcase <-> JavaScript ---------------------------------------------------------------

_JS_OPS = {
    "and": "&&",
    "or": "||",
    "==": "==",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "+": "+",
    "-": "-",
    "*": "*",
    "/": "/",
    "%": "%",
}


def js(expr: Expr) -> str:
    """JavaScript for an expression, fully parenthesised where precedence could differ."""
    if isinstance(expr, ex.Const):
        return json.dumps(expr.value, ensure_ascii=False) if isinstance(expr.value, str) else format_value(expr.value)
    if isinstance(expr, ex.Name):
        return expr.name
    if isinstance(expr, ex.ListExpr):
        return "[" + ", ".join(js(i) for i in expr.items) + "]"
    if isinstance(expr, ex.Not):
        return f"!({js(expr.operand)})" if not isinstance(expr.operand, ex.Name) else f"!{expr.operand.name}"
    if isinstance(expr, ex.Neg):
        return f"-({js(expr.operand)})"
    if expr.op in ("in", "not in"):
        found = f"{js(expr.right)}.indexOf({js(expr.left)})"
        return f"({found} {'>=' if expr.op == 'in' else '<'} 0)"
    return f"{_operand(expr.left)} {_JS_OPS[expr.op]} {_operand(expr.right)}"


def _operand(expr: Expr) -> str:
    return f"({js(expr)})" if isinstance(expr, ex.BinOp) and expr.op not in ("in", "not in") else js(expr)


def condition_to_js(text: str) -> str:
    """A flowcase condition as a GraphWalker (JavaScript) guard; empty for an always-true condition."""
    expr = parse_condition(text)
    return "" if expr is None else js(expr)


def assignments_to_js(text: str) -> list[str]:
    """Flowcase assignments as GraphWalker actions, one ``name = value;`` statement each."""
    return [f"{a.target} = {js(a.expr)};" for a in parse_assignments(text)]


def _negations(js: str) -> str:
    """JavaScript's ``!`` binds tighter than comparisons, flowcase's ``not`` looser: make it explicit."""
    out: list[str] = []
    i = 0
    while i < len(js):
        char = js[i]
        if char == "!" and not js.startswith("!=", i):
            j = i + 1
            while j < len(js) and js[j].isspace():
                j += 1
            if j < len(js) and js[j] == "(":
                depth, k = 0, j
                while k < len(js):
                    depth += {"(": 1, ")": -1}.get(js[k], 0)
                    if depth == 0:
                        break
                    k += 1
                out.append(f"(not {_negations(js[j : k + 1])})")
                i = k + 1
                continue
            match = re.match(r"[A-Za-z_$][\w.$]*", js[j:])
            if match:
                out.append(f"(not {match.group()})")
                i = j + match.end()
                continue
        if char in "\"'":  # copy string literals unchanged
            end = i + 1
            while end < len(js) and js[end] != char:
                end += 2 if js[end] == "\\" else 1
            out.append(js[i : end + 1])
            i = end + 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def js_to_condition(js: str) -> str | None:
    """A GraphWalker guard in flowcase's language (normal form), or ``None`` when it cannot be read."""
    text = _negations(js.strip().rstrip(";").replace("===", "==").replace("!==", "!="))
    try:
        expr = parse_condition(text)
    except ExprError:
        return None
    return "" if expr is None else format_expr(expr)


_STATEMENT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(\+\+|--|\+=|-=|\*=|=)\s*(.*?)\s*$", re.DOTALL)


def js_to_assignments(actions: list[str]) -> tuple[str, list[str]]:
    """GraphWalker actions as flowcase assignments, plus the statements that could not be read."""
    done: list[str] = []
    unread: list[str] = []
    for action in actions:
        for statement in _statements(action):
            match = _STATEMENT.match(statement)
            if match is None or statement.strip().startswith(("var ", "let ", "const ")):
                unread.append(statement.strip())
                continue
            target, op, rest = match.groups()
            if op in ("++", "--"):
                value: str | None = f"{target} {op[0]} 1" if not rest else None
            else:
                value = js_to_condition(rest)
                if value and op != "=":
                    value = f"{target} {op[0]} ({value})"
            if not value:
                unread.append(statement.strip())
                continue
            done.append(f"{target} = {value}")
    text = "; ".join(done)
    try:
        parsed = parse_assignments(text)
    except ExprError:  # e.g. the same variable assigned twice
        return "", [s for a in actions for s in _statements(a)]
    return "; ".join(f"{a.target} = {format_expr(a.expr)}" for a in parsed), unread


def _statements(action: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in action:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ";":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def unique(wanted: str, used: set[str]) -> str:
    """``wanted``, or ``wanted_2``, ``wanted_3``... if taken; the name returned is marked taken."""
    candidate, n = wanted, 1
    while candidate in used:
        n += 1
        candidate = f"{wanted}_{n}"
    used.add(candidate)
    return candidate
