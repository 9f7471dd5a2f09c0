"""Errors and warnings about a model, each pointing at one place: workflow, element, field, line, column."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from flowcase.errors import ModelError as ModelError  # the class lives in the one error tree

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    workflow: str | None = None
    element: str | None = None
    field: str | None = None
    line: int | None = None
    column: int | None = None
    path: tuple[str | int, ...] = ()

    def located(self, line: int | None, column: int | None) -> Diagnostic:
        return replace(self, line=line, column=column)

    def where(self) -> str:
        parts = []
        if self.workflow:
            parts.append(f"workflow {self.workflow!r}")
        if self.element:
            parts.append(self.element)
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)

    def as_json(self) -> dict[str, Any]:
        """The diagnostic as the API sends it (``text`` is :meth:`format` without a file name)."""
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "workflow": self.workflow,
            "element": self.element,
            "field": self.field,
            "line": self.line,
            "column": self.column,
            "path": list(self.path),
            "text": self.format(),
        }

    def format(self, source: str | None = None) -> str:
        """One line: ``file:line:col: severity: where: message [code]``."""
        prefix = ""
        if source:
            prefix = source
            if self.line is not None:
                prefix += f":{self.line}"
                if self.column is not None:
                    prefix += f":{self.column}"
            prefix += ": "
        where = self.where()
        return f"{prefix}{self.severity}: {where + ': ' if where else ''}{self.message} [{self.code}]"
