"""ADF rendered as HTML the way Jira shows an issue description: paragraphs, headings, lists, code blocks and
real tables (header row, cells), every text escaped. Unknown nodes show their text."""

from __future__ import annotations

from html import escape
from typing import Any

from markupsafe import Markup

_TAGS = {
    "paragraph": "p",
    "bulletList": "ul",
    "orderedList": "ol",
    "listItem": "li",
    "blockquote": "blockquote",
    "tableRow": "tr",
    "tableHeader": "th",
    "tableCell": "td",
}
_MARKS = {"strong": "strong", "em": "em", "code": "code", "strike": "s", "underline": "u"}


def adf_html(doc: Any) -> Markup:
    """The HTML of an ADF document (an empty string for anything that is not one)."""
    # every text node is escaped in _node; only the tags written here are markup
    return Markup(_node(doc)) if isinstance(doc, dict) else Markup("")  # noqa: S704


def _children(node: dict[str, Any]) -> str:
    return "".join(_node(c) for c in node.get("content", []) or [] if isinstance(c, dict))


def _node(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        out = escape(str(node.get("text", "")))
        for mark in node.get("marks", []) or []:
            tag = _MARKS.get(mark.get("type", "")) if isinstance(mark, dict) else None
            if tag:
                out = f"<{tag}>{out}</{tag}>"
        return out
    if kind == "hardBreak":
        return "<br>"
    if kind == "rule":
        return "<hr>"
    if kind == "doc":
        return _children(node)
    if kind == "heading":
        level = node.get("attrs", {}).get("level", 3) if isinstance(node.get("attrs"), dict) else 3
        level = level if level in (1, 2, 3, 4, 5, 6) else 3
        return f"<h{level}>{_children(node)}</h{level}>"
    if kind == "codeBlock":
        return f"<pre><code>{_children(node)}</code></pre>"
    if kind == "table":
        return f'<table class="adf-table"><tbody>{_children(node)}</tbody></table>'
    tag = _TAGS.get(str(kind))
    if tag:
        return f"<{tag}>{_children(node)}</{tag}>"
    return _children(node)
