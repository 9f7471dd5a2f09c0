"""What every format reader shares: the size limits, bounded JSON parsing, the message for invalid embedded
flowcase data, and :class:`Loaded` (a model read from a file with its warnings and, for JSON and YAML, where each
value was).

Kept apart from :mod:`flowcase.model.io` (which dispatches to the readers) so that the BPMN and GraphWalker
readers need not import the module that imports them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.types import Model

MAX_MODEL_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
"""Deepest nesting of mappings/lists (YAML, JSON, GraphWalker) or elements (BPMN) a model file may have."""
MAX_NODES = 2_000_000
"""Most values (YAML/JSON nodes) or elements (BPMN XML) a model file may hold."""


@dataclass(frozen=True)
class Loaded:
    model: Model
    warnings: tuple[Diagnostic, ...] = field(default=())
    positions: dict[tuple[str | int, ...], tuple[int, int]] | None = field(default=None, repr=False, compare=False)

    def locate(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> list[Diagnostic]:
        """Fill in line and column (for JSON and YAML sources) from each diagnostic's path."""
        if not self.positions:
            return list(diagnostics)
        located = []
        for d in diagnostics:
            probe = d.path
            while probe and probe not in self.positions:
                probe = probe[:-1]
            if not d.path or probe not in self.positions:
                located.append(d)
                continue
            line, column = self.positions[probe]
            if probe == d.path and d.column is not None:
                located.append(d.located(line, column + d.column - 1))
            else:
                located.append(d.located(line, column))
        return located


_Positions = dict[tuple[str | int, ...], tuple[int, int]]


def invalid_data(exc: ValidationError) -> str:
    """The message for flowcase data embedded in another format (BPMN, GraphWalker) that does not validate: where
    the first error is and what it is."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"the flowcase data in this file is invalid at {exc.title}{'.' + where if where else ''}: {first['msg']}"


def _limit_error(
    code: str, message: str, source: str | None, line: int | None = None, column: int | None = None
) -> ModelError:
    return ModelError([Diagnostic("error", code, message, line=line, column=column)], source)


def parse_json(text: str, source: str | None) -> Any:
    """JSON text -> data, refusing nesting deeper than :data:`MAX_DEPTH` or more than :data:`MAX_NODES` values.

    The parser runs first: its recursion is bounded (a document nested deeper than Python's recursion limit is a
    ``RecursionError``, not a crash), and the parsed tree's depth is checked after it. Only a document refused as
    too deep, or not JSON at all, is scanned again to name where it first nests too deep: scanning every
    document's strings took a fifth of a 50,000-vertex GraphWalker import."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        _check_json_depth(text, source)  # too deep before it is invalid: refused as too deep, as before
        raise ModelError(
            [Diagnostic("error", "syntax", f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno)], source
        ) from None
    except RecursionError:
        _check_json_depth(text, source)
        raise _limit_error("too-deep", f"the document nests deeper than {MAX_DEPTH} levels", source) from None
    try:
        check_tree(data, source)
    except ModelError as exc:
        if exc.diagnostics[0].code == "too-deep":
            _check_json_depth(text, source)  # the same refusal, with the line and column where it happens
        raise
    return data


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _check_json_depth(text: str, source: str | None) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH, naming the line and column (strings skipped, linear time)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        mark = match.group()
        if mark in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                raise _limit_error(
                    "too-deep", f"the document nests deeper than {MAX_DEPTH} levels", source, line, column
                )
        elif mark in "]}":
            depth -= 1


def check_tree(data: Any, source: str | None) -> None:
    """Refuse parsed data nested deeper than MAX_DEPTH or holding more than MAX_NODES values (iteratively)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    count = 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _limit_error("too-large", f"the document holds more than {MAX_NODES} values", source)
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise _limit_error("too-deep", f"the document nests deeper than {MAX_DEPTH} levels", source)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
