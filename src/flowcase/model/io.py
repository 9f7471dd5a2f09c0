"""Reading and writing models in every supported format, with precise, located errors.

``load_path``/``loads`` return a :class:`Loaded` (the model plus warnings about anything a format could not
carry); they raise :class:`ModelError` for anything unreadable or not a valid document. Semantic checks
(targets, expressions, reachability) are :func:`flowcase.model.validate.validate`'s job.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from flowcase.model import bpmn, graphwalker
from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.naming import readable_model_id
from flowcase.model.source import MAX_DEPTH as MAX_DEPTH
from flowcase.model.source import MAX_MODEL_BYTES as MAX_MODEL_BYTES
from flowcase.model.source import MAX_NODES as MAX_NODES
from flowcase.model.source import Loaded as Loaded
from flowcase.model.source import _limit_error, _Positions, check_tree, parse_json
from flowcase.model.types import Model

Format = Literal["json", "yaml", "bpmn", "graphwalker"]
FORMATS: tuple[Format, ...] = ("json", "yaml", "bpmn", "graphwalker")


def detect_format(name: str, text: str) -> Format:
    """Guess the format from the file name, then from the content."""
    lower = name.lower()
    head = text.lstrip()[:4096]
    if lower.endswith((".bpmn", ".bpmn20.xml", ".xml")) or head.startswith("<"):
        return "bpmn"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if head.startswith("{"):
        if '"workflows"' not in head and '"models"' in head:  # GraphWalker exports carry "flowcase" properties
            return "graphwalker"
        return "json"
    return "yaml"


def load_path(path: str | Path, fmt: Format | None = None) -> Loaded:
    p = Path(path)
    if p.stat().st_size > MAX_MODEL_BYTES:
        raise ModelError([Diagnostic("error", "too-large", f"file is larger than {MAX_MODEL_BYTES} bytes")], str(p))
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        kind = _binary_kind(raw)
        what = f"a {kind} file" if kind else "not UTF-8 text"
        raise ModelError(
            [
                Diagnostic(
                    "error",
                    "not-text",
                    f"{what} (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                    "a model is a flowcase YAML or JSON file, BPMN 2.0 XML or GraphWalker JSON, in UTF-8",
                )
            ],
            str(p),
        ) from None
    return loads(text, fmt or detect_format(p.name, text), source=str(p))


_MAGIC = (
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "gzip archive"),
)


def _binary_kind(raw: bytes) -> str | None:
    return next((kind for magic, kind in _MAGIC if raw.startswith(magic)), None)


def loads(text: str, fmt: Format, source: str | None = None) -> Loaded:
    if len(text) > MAX_MODEL_BYTES:
        raise ModelError(
            [Diagnostic("error", "too-large", f"the model is larger than {MAX_MODEL_BYTES} bytes")], source
        )
    if fmt == "yaml":
        data, positions = _parse_yaml(text, source)
        return Loaded(from_data(data, source, positions), positions=positions)
    if fmt == "json":
        data = parse_json(text, source)
        positions = _json_positions(text)
        return Loaded(from_data(data, source, positions), positions=positions)
    if fmt == "bpmn":
        loaded = bpmn.loads(text, source)
        return replace(loaded, model=readable_model_id(loaded.model, source))
    return graphwalker.loads(text, source)


def dumps(model: Model, fmt: Format) -> str:
    if fmt == "json":
        return json.dumps(model.to_data(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(model.to_data(), sort_keys=False, allow_unicode=True, width=100)
    if fmt == "bpmn":
        return bpmn.dumps(model)
    return graphwalker.dumps(model)


def from_data(data: Any, source: str | None = None, positions: _Positions | None = None) -> Model:
    """Build a model from plain data (parsed JSON/YAML), turning schema errors into located diagnostics."""
    if data is None:
        raise ModelError(
            [
                Diagnostic(
                    "error",
                    "empty",
                    "the file is empty: a model starts with 'flowcase: \"1\"', "
                    "then its id, parameters and workflows (see docs/model.md)",
                )
            ],
            source,
        )
    if not isinstance(data, dict):
        found = {list: "a list", str: "a single text", bool: "a single value", int: "a number", float: "a number"}
        what = found.get(type(data), type(data).__name__)
        raise ModelError(
            [
                Diagnostic(
                    "error",
                    "not-a-model",
                    f"the document must be a mapping/object with 'flowcase', 'id' and 'workflows', not {what}",
                )
            ],
            source,
        )
    check_tree(data, source)
    try:
        return Model.model_validate(data)
    except ValidationError as exc:
        errors = [
            err
            for err in exc.errors()
            # pydantic also reports a non-empty list whose items failed as "too short": a consequence, not a cause
            if not (err["type"] == "too_short" and isinstance(err.get("input"), list) and err["input"])
        ]
        raise ModelError([_diagnostic(err, data, positions) for err in errors], source) from None


class _BoundedLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses anchors and aliases and bounds nesting depth and node count.

    Aliases are what make a 1 KB file expand to gigabytes; a model never needs them, so they are refused where
    they appear instead of being expanded.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            what = "aliases (*name)" if isinstance(event, yaml.AliasEvent) else "anchors (&name)"
            raise _Refused("alias", f"YAML {what} are not allowed in a model; write the value out", event.start_mark)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused("too-large", f"the document holds more than {MAX_NODES} values", event.start_mark)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused("too-deep", f"the document nests deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Refused(Exception):
    def __init__(self, code: str, message: str, mark: yaml.Mark) -> None:
        super().__init__(message)
        self.code, self.message, self.mark = code, message, mark


def _compose(text: str, source: str | None) -> yaml.Node | None:
    try:
        loader = _BoundedLoader(text)
    except yaml.YAMLError as exc:  # the reader refuses control characters up front
        raise _limit_error("syntax", f"invalid YAML: {str(exc).splitlines()[0]}", source) from None
    try:
        return loader.get_single_node()
    except _Refused as exc:
        raise _limit_error(exc.code, exc.message, source, exc.mark.line + 1, exc.mark.column + 1) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ModelError(
            [
                Diagnostic(
                    "error",
                    "syntax",
                    f"invalid YAML: {problem}",
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            ],
            source,
        ) from None
    finally:
        loader.dispose()


def _parse_yaml(text: str, source: str | None) -> tuple[Any, _Positions | None]:
    root = _compose(text, source)
    if root is None:
        return None, None
    constructor = yaml.SafeLoader("")
    try:
        data = constructor.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _limit_error(
            "syntax",
            f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
            source,
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    return data, _node_positions(root)


def _json_positions(text: str) -> _Positions | None:
    """Line and column of every value of a JSON text (read as YAML; None where YAML reads it otherwise)."""
    try:
        root = _compose(text, None)
    except ModelError:
        return None
    return _node_positions(root) if root is not None else None


def _node_positions(root: yaml.Node) -> _Positions:
    """Line and column of every value under ``root``, keyed by its path (iterative: depth is bounded anyway)."""
    found: _Positions = {}
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
        found[path] = (node.start_mark.line + 1, node.start_mark.column + 1 + quoted)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    found[(*path, key.value, "<key>")] = (key.start_mark.line + 1, key.start_mark.column + 1)
                    stack.append((value, (*path, key.value)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
    return found


def describe_path(data: Any, loc: tuple[str | int, ...]) -> tuple[str | None, str | None, str | None]:
    """(workflow id, element description, field) for a location inside a model document."""
    workflow = element = fieldname = None
    node: Any = data
    parts: list[str] = []
    i = 0
    while i < len(loc):
        key = loc[i]
        child = (
            node[key]
            if isinstance(node, dict) and key in node
            else (node[key] if isinstance(node, list) and isinstance(key, int) and key < len(node) else None)
        )
        if isinstance(key, int) and isinstance(child, dict):
            label = child.get("id") or child.get("name")
            container = loc[i - 1] if i else ""
            if container == "workflows":
                workflow = str(label) if label else f"#{key + 1}"
            else:
                node_kind = child.get("kind")
                kinds = {
                    "nodes": node_kind if node_kind in _KINDS else "node",
                    "decisions": "decision",
                    "parameters": "parameter",
                    "variables": "variable",
                }
                kind = kinds.get(str(container), str(container))
                parts.append(f"{kind} {label!r}" if label else f"{kind} #{key + 1}")
        elif isinstance(key, str) and (not isinstance(child, list | dict) or i == len(loc) - 1):
            fieldname = key
        node = child
        i += 1
    element = ", ".join(parts) or None
    return workflow, element, fieldname


_KINDS = ("start", "step", "choice", "call", "end")
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_pattern_mismatch": "must start with a letter or '_' and use only letters, digits, '_', '.', '-'",
    "too_short": "must not be empty",
}


def _diagnostic(err: Any, data: Any, positions: _Positions | None) -> Diagnostic:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("bool", "int", "float", "str")))
    workflow, element, fieldname = describe_path(data, loc)
    message = _MESSAGES.get(err["type"], err["msg"])
    if err["type"] == "literal_error" and loc and loc[-1] == "kind":
        message = "must be one of start, step, choice, call, end"
    if err["type"] == "extra_forbidden" and loc:
        fieldname = str(loc[-1])
    line = column = None
    if positions:
        key = (*loc, "<key>") if err["type"] == "extra_forbidden" else loc
        probe = key
        while probe and probe not in positions:
            probe = probe[:-1]
        if probe in positions:
            line, column = positions[probe]
    return Diagnostic("error", "schema", message, workflow, element, fieldname, line, column, path=loc)
