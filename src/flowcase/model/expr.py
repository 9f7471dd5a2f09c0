"""The condition and assignment language of decision tables.

A small, safe language, parsed by hand and never passed to ``eval``::

    condition   := or
    or          := and ("or" and)*
    and         := not ("and" not)*
    not         := "not" not | comparison
    comparison  := sum (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") sum)?
    sum         := product (("+" | "-") product)*
    product     := unary (("*" | "/" | "%") unary)*
    unary       := "-" unary | atom
    atom        := NUMBER | STRING | "true" | "false" | NAME | "(" or ")" | "[" [or ("," or)*] "]"
    assignments := NAME "=" or (";" NAME "=" or)*

``/`` is integer division on integers (rounded toward zero). ``=`` is accepted for ``==`` in conditions,
the way testers tend to write them. Errors carry the 1-based column of the offending character.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from flowcase.errors import ExpressionError

Value = bool | int | float | str
ListValue = tuple[Value, ...]
Result = Value | ListValue

__all__ = [
    "Assignment",
    "BinOp",
    "Const",
    "EvalError",
    "Expr",
    "ExprError",
    "ListExpr",
    "Name",
    "Not",
    "Value",
    "evaluate",
    "format_value",
    "parse_assignments",
    "parse_condition",
]


class ExprError(ExpressionError):
    """A condition or assignment that does not parse or does not type-check; ``column`` is 1-based."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column
        super().__init__(message if column is None else f"{message} (column {column})")


class EvalError(ExpressionError):
    """An expression that parsed but cannot be evaluated in the given state (unknown name, bad types)."""


@dataclass(frozen=True, slots=True)
class Const:
    value: Value
    column: int = 0


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    column: int = 0


@dataclass(frozen=True, slots=True)
class ListExpr:
    items: tuple[Expr, ...]
    column: int = 0


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    column: int = 0


BinOperator = Literal["or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "+", "-", "*", "/", "%"]


@dataclass(frozen=True, slots=True)
class BinOp:
    op: BinOperator
    left: Expr
    right: Expr
    column: int = 0


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    column: int = 0


Expr = Const | Name | ListExpr | Not | BinOp | Neg


@dataclass(frozen=True, slots=True)
class Assignment:
    target: str
    expr: Expr
    column: int = 0


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>=+\-*/%(),\[\];!])
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "True", "False"}
_WORD_OPS = {"&&": "and", "||": "or", "!": "not"}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # number, string, name, op, kw, end
    text: str
    column: int


def _tokenize(source: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            char = source[pos]
            if char in "\"'":
                raise ExprError("unterminated string", pos + 1)
            raise ExprError(f"unexpected character {char!r}", pos + 1)
        kind = m.lastgroup or ""
        text = m.group()
        if kind == "name" and text in _KEYWORDS:
            kind = "kw"
        if kind == "op" and text in _WORD_OPS:
            kind, text = "kw", _WORD_OPS[text]
        if kind != "space":
            tokens.append(_Tok(kind, text, pos + 1))
        pos = m.end()
    tokens.append(_Tok("end", "", len(source) + 1))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.tokens[self.i]

    def take(self) -> _Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "kw") and self.tok.text in texts

    def expect(self, text: str) -> _Tok:
        if not self.at(text):
            raise ExprError(f"expected {text!r} but found {self._describe(self.tok)}", self.tok.column)
        return self.take()

    @staticmethod
    def _describe(tok: _Tok) -> str:
        return "end of expression" if tok.kind == "end" else repr(tok.text)

    def expect_end(self) -> None:
        if self.tok.kind != "end":
            raise ExprError(f"unexpected {self._describe(self.tok)}", self.tok.column)

    def parse_or(self) -> Expr:
        left = self.parse_and()
        while self.at("or"):
            col = self.take().column
            left = BinOp("or", left, self.parse_and(), col)
        return left

    def parse_and(self) -> Expr:
        left = self.parse_not()
        while self.at("and"):
            col = self.take().column
            left = BinOp("and", left, self.parse_not(), col)
        return left

    def parse_not(self) -> Expr:
        if self.at("not"):
            col = self.take().column
            return Not(self.parse_not(), col)
        return self.parse_comparison()

    def parse_comparison(self) -> Expr:
        left = self.parse_sum()
        tok = self.tok
        op: BinOperator
        if self.at("==", "!=", "<", "<=", ">", ">=", "in", "="):
            self.take()
            op = "==" if tok.text == "=" else tok.text  # type: ignore[assignment]
        elif self.at("not") and self.tokens[self.i + 1].text == "in":
            self.i += 2
            op = "not in"
        else:
            return left
        right = self.parse_sum()
        if self.at("==", "!=", "<", "<=", ">", ">=", "in", "="):
            raise ExprError("comparisons cannot be chained; use 'and'", self.tok.column)
        return BinOp(op, left, right, tok.column)

    def parse_sum(self) -> Expr:
        left = self.parse_product()
        while self.at("+", "-"):
            tok = self.take()
            left = BinOp(tok.text, left, self.parse_product(), tok.column)  # type: ignore[arg-type]
        return left

    def parse_product(self) -> Expr:
        left = self.parse_unary()
        while self.at("*", "/", "%"):
            tok = self.take()
            left = BinOp(tok.text, left, self.parse_unary(), tok.column)  # type: ignore[arg-type]
        return left

    def parse_unary(self) -> Expr:
        if self.at("-"):
            col = self.take().column
            return Neg(self.parse_unary(), col)
        return self.parse_atom()

    def parse_atom(self) -> Expr:
        tok = self.take()
        if tok.kind == "number":
            return Const(float(tok.text) if "." in tok.text else int(tok.text), tok.column)
        if tok.kind == "string":
            return Const(_unescape(tok.text[1:-1]), tok.column)
        if tok.kind == "kw" and tok.text in ("true", "True"):
            return Const(True, tok.column)
        if tok.kind == "kw" and tok.text in ("false", "False"):
            return Const(False, tok.column)
        if tok.kind == "name":
            return Name(tok.text, tok.column)
        if tok.kind == "op" and tok.text == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner
        if tok.kind == "op" and tok.text == "[":
            items: list[Expr] = []
            if not self.at("]"):
                items.append(self.parse_or())
                while self.at(","):
                    self.take()
                    items.append(self.parse_or())
            self.expect("]")
            return ListExpr(tuple(items), tok.column)
        if tok.kind == "end":
            raise ExprError("expression ends too early", tok.column)
        raise ExprError(f"unexpected {tok.text!r}", tok.column)


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


@lru_cache(maxsize=8192)
def parse_condition(source: str) -> Expr | None:
    """Parse a condition cell; an empty cell is ``None`` (always true)."""
    if not source.strip():
        return None
    parser = _Parser(source)
    expr = parser.parse_or()
    parser.expect_end()
    return expr


@lru_cache(maxsize=8192)
def parse_assignments(source: str) -> tuple[Assignment, ...]:
    """Parse an assignments cell such as ``attempts = attempts + 1; locked = true``."""
    if not source.strip():
        return ()
    parser = _Parser(source)
    result: list[Assignment] = []
    seen: set[str] = set()
    while True:
        tok = parser.take()
        if tok.kind != "name":
            raise ExprError(f"expected a variable name but found {parser._describe(tok)}", tok.column)
        if tok.text in seen:
            raise ExprError(f"variable {tok.text!r} is assigned twice", tok.column)
        seen.add(tok.text)
        parser.expect("=")
        result.append(Assignment(tok.text, parser.parse_or(), tok.column))
        if parser.at(";", ","):
            parser.take()
            if parser.tok.kind == "end":
                break
            continue
        parser.expect_end()
        break
    return tuple(result)


def names(expr: Expr | None) -> Iterator[Name]:
    """Every name an expression reads, in source order."""
    if expr is None:
        return
    if isinstance(expr, Name):
        yield expr
    elif isinstance(expr, ListExpr):
        for item in expr.items:
            yield from names(item)
    elif isinstance(expr, Not | Neg):
        yield from names(expr.operand)
    elif isinstance(expr, BinOp):
        yield from names(expr.left)
        yield from names(expr.right)


def _num(value: Result, op: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EvalError(f"'{op}' needs numbers, got {format_value(value)}")
    return value


def _ordered(left: Result, right: Result, op: str) -> tuple[int | float | str, int | float | str]:
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    return _num(left, op), _num(right, op)


def evaluate(expr: Expr | None, env: Mapping[str, Value]) -> Result:
    """Evaluate ``expr`` in ``env``; ``None`` (an empty condition) is ``True``."""
    if expr is None:
        return True
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Name):
        try:
            return env[expr.name]
        except KeyError:
            raise EvalError(f"unknown name {expr.name!r}") from None
    if isinstance(expr, ListExpr):
        return tuple(_scalar(evaluate(item, env)) for item in expr.items)
    if isinstance(expr, Not):
        return not _truth(evaluate(expr.operand, env))
    if isinstance(expr, Neg):
        return -_num(evaluate(expr.operand, env), "-")
    op = expr.op
    if op == "and":
        return _truth(evaluate(expr.left, env)) and _truth(evaluate(expr.right, env))
    if op == "or":
        return _truth(evaluate(expr.left, env)) or _truth(evaluate(expr.right, env))
    left = evaluate(expr.left, env)
    right = evaluate(expr.right, env)
    if op == "==":
        return _same(left, right)
    if op == "!=":
        return not _same(left, right)
    if op in ("in", "not in"):
        if not isinstance(right, tuple):
            raise EvalError(f"'{op}' needs a list on its right, got {format_value(right)}")
        found = any(_same(left, item) for item in right)
        return found if op == "in" else not found
    if op in ("<", "<=", ">", ">="):
        a, b = _ordered(left, right, op)
        if op == "<":
            return a < b  # type: ignore[operator]
        if op == "<=":
            return a <= b  # type: ignore[operator]
        if op == ">":
            return a > b  # type: ignore[operator]
        return a >= b  # type: ignore[operator]
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    x, y = _num(left, op), _num(right, op)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        raise EvalError(f"'{op}' by zero")
    if op == "/":
        if isinstance(x, int) and isinstance(y, int):
            quotient = abs(x) // abs(y)
            return quotient if (x >= 0) == (y >= 0) else -quotient
        return x / y
    return math.fmod(x, y) if isinstance(x, float) or isinstance(y, float) else int(math.fmod(x, y))


def _scalar(value: Result) -> Value:
    if isinstance(value, tuple):
        raise EvalError("lists cannot be nested")
    return value


def _same(left: Result, right: Result) -> bool:
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return left == right


def _truth(value: Result) -> bool:
    if not isinstance(value, bool):
        raise EvalError(f"expected true or false, got {format_value(value)}")
    return value


def format_value(value: Result) -> str:
    """A value as it would be written in an expression."""
    if isinstance(value, tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
