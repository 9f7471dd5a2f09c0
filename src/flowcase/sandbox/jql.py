"""A bounded subset of JQL: enough for what an app asks, with Jira's refusals for the rest.

Fields: ``project``, ``issuetype``/``type``, ``key``/``issuekey``/``id``, ``labels``, ``summary``, ``text``,
``issue.property[KEY].path`` and the aliases of indexed entity properties declared by installed apps
(``jiraEntityProperties``). Operators: ``= != IN NOT IN ~ !~ < <= > >= IS [NOT] EMPTY``; ``AND``, ``OR``,
``NOT`` and parentheses; ``ORDER BY`` key, created, updated, summary (ASC/DESC). A query without any restriction
(``ORDER BY key`` alone) is unbounded and refused, as the enhanced search endpoint does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flowcase.sandbox.errors import JiraHTTPError


@dataclass(frozen=True, slots=True)
class Extraction:
    property_key: str
    path: str
    type: str  # number | text | string | user | date


@dataclass(slots=True)
class Row:
    """What a query sees of one issue."""

    id: int
    key: str
    number: int
    project_key: str
    project_id: int
    issuetype_id: int
    issuetype_name: str
    summary: str
    text: str
    labels: list[str]
    created: str
    updated: str
    properties: dict[str, Any] = field(default_factory=dict)


Predicate = Callable[[Row], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|!~|<=|>=|=|~|<|>|\(|\)|,)
      | (?P<word>issue\.property\[[^\]]+\](?:\.[A-Za-z0-9_.\-]+)?|[A-Za-z0-9_.\-:*]+)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}
SORTABLE = {
    "key": "key",
    "issuekey": "key",
    "created": "created",
    "updated": "updated",
    "summary": "summary",
    "id": "key",
}


def _error(message: str) -> JiraHTTPError:
    return JiraHTTPError(400, f"Error in the JQL Query: {message}")


@dataclass(slots=True)
class Token:
    kind: str  # str | op | word | end
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower() if self.kind == "word" else ""


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise _error(f"The character '{text[pos:].lstrip()[:1]}' is a reserved JQL character (at {pos}).")
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append(Token(kind, value))
        pos = match.end()
    tokens.append(Token("end", ""))
    return tokens


@dataclass(slots=True)
class Query:
    predicate: Predicate | None
    order: list[tuple[str, bool]]  # (field, ascending)

    def sort_key(self) -> Callable[[Row], Any]:
        return lambda row: row.key

    def apply(self, rows: list[Row]) -> list[Row]:
        if self.predicate is None:
            raise JiraHTTPError(
                400, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
            )
        result = [r for r in rows if self.predicate(r)]
        order = self.order or [("key", True)]
        for name, ascending in reversed(order):
            result.sort(key=_SORTERS[name], reverse=not ascending)
        return result


_SORTERS: dict[str, Callable[[Row], Any]] = {
    "key": lambda r: (r.project_key, r.number),
    "created": lambda r: (r.created, r.id),
    "updated": lambda r: (r.updated, r.id),
    "summary": lambda r: r.summary.lower(),
}


class _Parser:
    def __init__(self, tokens: list[Token], resolver: Resolver) -> None:
        self.tokens = tokens
        self.pos = 0
        self.resolver = resolver

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect_word(self, word: str) -> None:
        token = self.next()
        if token.lower != word:
            raise _error(f"Expecting '{word.upper()}' but got '{token.text or 'end of query'}'.")

    def parse(self) -> Query:
        predicate = None
        if not (self.peek().lower == "order" or self.peek().kind == "end"):
            predicate = self.parse_or()
        order: list[tuple[str, bool]] = []
        if self.peek().lower == "order":
            self.next()
            self.expect_word("by")
            order = self.parse_order()
        if self.peek().kind != "end":
            raise _error(f"Expecting either 'OR' or 'AND' but got '{self.peek().text}'.")
        return Query(predicate, order)

    def parse_order(self) -> list[tuple[str, bool]]:
        order: list[tuple[str, bool]] = []
        while True:
            token = self.next()
            name = token.text.lower()
            if token.kind not in ("word", "str") or name not in SORTABLE:
                raise _error(f"Not able to sort using field '{token.text}'.")
            ascending = True
            if self.peek().lower in ("asc", "desc"):
                ascending = self.next().lower == "asc"
            order.append((SORTABLE[name], ascending))
            if self.peek().text != ",":
                break
            self.next()
        if len(order) > 7:
            raise _error("ORDER BY supports at most 7 fields.")
        return order

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.peek().lower == "or":
            self.next()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda row: any(p(row) for p in parts))

    def parse_and(self) -> Predicate:
        parts = [self.parse_unary()]
        while self.peek().lower == "and":
            self.next()
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else (lambda row: all(p(row) for p in parts))

    def parse_unary(self) -> Predicate:
        token = self.peek()
        if token.lower == "not":
            self.next()
            inner = self.parse_unary()
            return lambda row: not inner(row)
        if token.text == "(" and token.kind == "op":
            self.next()
            inner = self.parse_or()
            if self.next().text != ")":
                raise _error("Expecting ')'.")
            return inner
        return self.parse_clause()

    def parse_clause(self) -> Predicate:
        token = self.next()
        if token.kind not in ("word", "str") or token.lower in KEYWORDS:
            raise _error(f"Expecting a field name but got '{token.text or 'end of query'}'.")
        getter = self.resolver.field(token.text)
        op_token = self.next()
        op = op_token.text.lower() if op_token.kind in ("op", "word") else ""
        if op == "not":
            self.expect_word("in")
            op = "not in"
        if op == "is":
            negate = self.peek().lower == "not"
            if negate:
                self.next()
            if self.next().lower not in ("empty", "null"):
                raise _error("Expecting EMPTY after IS.")
            return lambda row: getter.is_empty(row) != negate
        if op in ("in", "not in"):
            values = self.parse_list()
            checked = [getter.check(v) for v in values]

            def found(row: Row) -> bool:
                return any(getter.compare(row, "=", v) for v in checked)

            return found if op == "in" else (lambda row: not found(row))
        if op not in ("=", "!=", "~", "!~", "<", "<=", ">", ">="):
            raise _error(f"Expecting an operator after '{token.text}' but got '{op_token.text or 'end of query'}'.")
        value_token = self.next()
        if value_token.kind not in ("word", "str") or value_token.lower in ("and", "or", "order"):
            raise _error(f"Expecting a value after '{token.text} {op_token.text}'.")
        value = getter.check(value_token.text)
        return lambda row: getter.compare(row, op, value)

    def parse_list(self) -> list[str]:
        if self.next().text != "(":
            raise _error("Expecting '(' after IN.")
        values: list[str] = []
        while True:
            token = self.next()
            if token.kind not in ("word", "str"):
                raise _error("Expecting a value in the list.")
            values.append(token.text)
            sep = self.next().text
            if sep == ")":
                return values
            if sep != ",":
                raise _error("Expecting ',' or ')' in the list.")


class Field:
    """How one JQL field reads a row and compares a value."""

    def __init__(
        self,
        name: str,
        read: Callable[[Row], Any],
        kind: str = "string",
        check: Callable[[str], str] | None = None,
        ops: frozenset[str] = frozenset({"=", "!="}),
    ) -> None:
        self.name = name
        self.read = read
        self.kind = kind
        self._check = check
        self.ops = ops

    def check(self, value: str) -> str:
        return self._check(value) if self._check else value

    def is_empty(self, row: Row) -> bool:
        value = self.read(row)
        return value is None or value == [] or value == ""

    def compare(self, row: Row, op: str, value: str) -> bool:
        if op not in self.ops and op not in ("in", "not in"):
            raise _error(f"The operator '{op}' is not supported by the '{self.name}' field.")
        current = self.read(row)
        values = current if isinstance(current, list) else [current]
        if op == "!=":
            return not any(_equal(v, value, self.kind) for v in values)
        if op == "!~":
            return not any(_contains(v, value) for v in values)
        if op == "~":
            return any(_contains(v, value) for v in values)
        if op == "=":
            return any(_equal(v, value, self.kind) for v in values)
        return any(_ordered(v, op, value, self.kind) for v in values)


def _equal(current: Any, value: str, kind: str) -> bool:
    if current is None:
        return False
    if kind == "number" or (isinstance(current, int | float) and not isinstance(current, bool)):
        try:
            return float(current) == float(value)
        except (TypeError, ValueError):
            return False
    if isinstance(current, bool):
        return str(current).lower() == value.lower()
    if kind in ("key", "text"):
        return str(current).lower() == value.lower()
    return str(current) == value


def _contains(current: Any, value: str) -> bool:
    if current is None:
        return False
    words = [w for w in re.split(r"\W+", value.lower().strip("*")) if w]
    haystack = str(current).lower()
    return all(w in haystack for w in words)


def _ordered(current: Any, op: str, value: str, kind: str) -> bool:
    if current is None:
        return False
    left: Any
    right: Any
    try:
        left, right = float(current), float(value)
    except (TypeError, ValueError):
        if kind == "number":
            return False
        left, right = str(current), value
    result: bool = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    return result


def _path(value: Any, path: str) -> Any:
    if not path:
        return value
    current: list[Any] = [value]
    for part in path.split("."):
        nxt: list[Any] = []
        for item in current:
            for element in item if isinstance(item, list) else [item]:
                if isinstance(element, dict) and part in element:
                    nxt.append(element[part])
        current = nxt
    flat: list[Any] = []
    for item in current:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


class Resolver:
    """Maps JQL field names to :class:`Field` objects for one site (projects, keys, aliases)."""

    def __init__(
        self,
        project_keys: dict[str, int],
        issue_types: dict[str, int],
        issue_keys: set[str],
        aliases: dict[str, Extraction],
    ) -> None:
        self.project_keys = project_keys
        self.issue_types = issue_types
        self.issue_keys = issue_keys
        self.aliases = {k.lower(): v for k, v in aliases.items()}
        self.property_keys: set[str] = {e.property_key for e in aliases.values()}

    def _project(self, value: str) -> str:
        for key, pid in self.project_keys.items():
            if value.upper() == key or value == str(pid):
                return key
        raise JiraHTTPError(400, f"The value '{value}' does not exist for the field 'project'.")

    def _issuetype(self, value: str) -> str:
        for name, tid in self.issue_types.items():
            if value.lower() == name.lower() or value == str(tid):
                return name
        raise JiraHTTPError(400, f"The value '{value}' does not exist for the field 'issuetype'.")

    def _key(self, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-\d+|\d+", value):
            raise JiraHTTPError(400, f"The issue key '{value}' for field 'key' is invalid.")
        return value.upper()

    def field(self, name: str) -> Field:
        lower = name.lower()
        if lower == "project":
            return Field("project", lambda r: r.project_key, "key", self._project)
        if lower in ("issuetype", "type"):
            return Field("issuetype", lambda r: r.issuetype_name, "text", self._issuetype)
        if lower in ("key", "issuekey", "id"):
            ordered = frozenset({"=", "!=", "<", "<=", ">", ">="})
            return Field("key", lambda r: r.key, "key", self._key, ordered)
        if lower == "labels":
            return Field("labels", lambda r: r.labels, "string")
        if lower == "summary":
            return Field("summary", lambda r: r.summary, "text", ops=frozenset({"~", "!~"}))
        if lower == "text":
            return Field("text", lambda r: f"{r.summary}\n{r.text}", "text", ops=frozenset({"~", "!~"}))
        match = re.fullmatch(r"issue\.property\[([^\]]+)\](?:\.(.+))?", name, re.IGNORECASE)
        if match:
            prop, path = match.group(1).strip().strip("\"'"), match.group(2) or ""
            self.property_keys.add(prop)
            all_ops = frozenset({"=", "!=", "~", "!~", "<", "<=", ">", ">="})
            return Field(
                name,
                lambda r: _path(r.properties.get(prop), path) if prop in r.properties else None,
                "string",
                ops=all_ops,
            )
        if lower in self.aliases:
            ex = self.aliases[lower]
            ops = {
                "number": frozenset({"=", "!=", "<", "<=", ">", ">="}),
                "text": frozenset({"~", "!~"}),
                "date": frozenset({"=", "!=", "<", "<=", ">", ">="}),
            }.get(ex.type, frozenset({"=", "!="}))
            return Field(
                name,
                lambda r: (
                    _path(r.properties.get(ex.property_key), ex.path) if ex.property_key in r.properties else None
                ),
                ex.type,
                ops=ops,
            )
        raise JiraHTTPError(400, f"Field '{name}' does not exist or you do not have permission to view it.")


def parse(text: str, resolver: Resolver) -> Query:
    if len(text) > 10000:
        raise _error("The query is too long.")
    return _Parser(tokenize(text), resolver).parse()


def aliases_from_descriptors(descriptors: list[dict[str, Any]]) -> dict[str, Extraction]:
    """The JQL aliases declared by installed apps' ``jiraEntityProperties`` modules (issue entities)."""
    out: dict[str, Extraction] = {}
    for descriptor in descriptors:
        modules = descriptor.get("modules") or {}
        for module in modules.get("jiraEntityProperties") or []:
            if not isinstance(module, dict) or module.get("entityType", "issue") != "issue":
                continue
            for config in module.get("keyConfigurations") or []:
                prop = config.get("propertyKey")
                for ex in config.get("extractions") or []:
                    alias = ex.get("alias")
                    if isinstance(prop, str) and isinstance(alias, str) and isinstance(ex.get("objectName"), str):
                        out[alias] = Extraction(prop, ex["objectName"], str(ex.get("type", "string")))
    return out
