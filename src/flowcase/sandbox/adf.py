"""Minimal Atlassian Document Format validation: enough to refuse what Jira refuses for ``description``."""

from __future__ import annotations

from typing import Any

BLOCK_NODES = frozenset(
    {
        "paragraph",
        "heading",
        "bulletList",
        "orderedList",
        "listItem",
        "codeBlock",
        "blockquote",
        "rule",
        "panel",
        "table",
        "tableRow",
        "tableHeader",
        "tableCell",
        "mediaSingle",
        "mediaGroup",
        "media",
        "expand",
        "nestedExpand",
        "taskList",
        "taskItem",
        "decisionList",
        "decisionItem",
        "blockCard",
        "text",
        "hardBreak",
        "mention",
        "emoji",
        "inlineCard",
        "date",
        "status",
        "placeholder",
        "mediaInline",
    }
)
MAX_DEPTH = 40


class AdfError(ValueError):
    pass


def validate_adf(doc: Any) -> None:
    """Raise :class:`AdfError` unless ``doc`` is an ADF document (``type: doc``, ``version: 1``, known nodes)."""
    if not isinstance(doc, dict) or doc.get("type") != "doc":
        raise AdfError("Operation value must be an Atlassian Document (see the Atlassian Document Format)")
    if doc.get("version") != 1:
        raise AdfError("Atlassian Document version must be 1.")
    content = doc.get("content")
    if not isinstance(content, list):
        raise AdfError("An Atlassian Document must have a content array.")
    for node in content:
        _check_node(node, 1)


def _check_node(node: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise AdfError("Atlassian Document is nested too deeply.")
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        raise AdfError("Every Atlassian Document node must be an object with a type.")
    kind = node["type"]
    if kind not in BLOCK_NODES:
        raise AdfError(f"Unknown Atlassian Document node type '{kind}'.")
    if kind == "text" and not (isinstance(node.get("text"), str) and node["text"]):
        raise AdfError("A text node must have non-empty text.")
    children = node.get("content", [])
    if not isinstance(children, list):
        raise AdfError(f"The content of a '{kind}' node must be an array.")
    for child in children:
        _check_node(child, depth + 1)


def plain_text(doc: Any) -> str:
    """The text of an ADF document (for rendering and ``text ~`` search)."""
    if isinstance(doc, dict):
        if doc.get("type") == "text":
            return str(doc.get("text", ""))
        parts = [plain_text(c) for c in doc.get("content", []) or []]
        sep = "\n" if doc.get("type") in ("doc", "bulletList", "orderedList") else ""
        return sep.join(parts)
    return ""
