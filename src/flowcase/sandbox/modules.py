"""Which app modules a sandbox page embeds, read from the installed descriptors (with simple conditions)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from flowcase.sandbox.models import Installation, IssueProperty

PAGE_MODULE_TYPES = ("generalPages", "adminPages", "jiraProjectPages", "dialogs", "webPanels", "jiraIssueContents")


@dataclass(frozen=True, slots=True)
class Module:
    app_key: str
    key: str
    kind: str
    name: str
    url: str
    options: dict[str, Any]


def _name(module: dict[str, Any]) -> str:
    name = module.get("name")
    if isinstance(name, dict):
        return str(name.get("value", module.get("key", "")))
    return str(name or module.get("key", ""))


def _url(module: dict[str, Any]) -> str | None:
    url = module.get("url")
    if url is None and isinstance(module.get("target"), dict):
        url = module["target"].get("url")
    return url if isinstance(url, str) else None


def modules_of(installation: Installation, kind: str) -> list[Module]:
    descriptor = json.loads(installation.descriptor)
    out = []
    for module in (descriptor.get("modules") or {}).get(kind) or []:
        url = _url(module) if isinstance(module, dict) else None
        if url is not None:
            options = module.get("options") if isinstance(module.get("options"), dict) else {}
            out.append(Module(installation.app_key, str(module.get("key")), kind, _name(module), url, options))
    return out


def raw_modules(installation: Installation, kind: str) -> list[dict[str, Any]]:
    descriptor = json.loads(installation.descriptor)
    return [m for m in (descriptor.get("modules") or {}).get(kind) or [] if isinstance(m, dict)]


def find_module(installation: Installation, module_key: str) -> Module | None:
    for kind in PAGE_MODULE_TYPES:
        for module in modules_of(installation, kind):
            if module.key == module_key:
                return module
    return None


def condition_holds(session: Session, condition: Any, issue_id: int | None) -> bool:
    """Evaluate a Connect condition for the demo user (logged in, admin) on one issue."""
    if not isinstance(condition, dict):
        return True
    if "conditions" in condition:
        parts = [condition_holds(session, c, issue_id) for c in condition.get("conditions") or []]
        result = any(parts) if str(condition.get("type", "and")).lower() == "or" else all(parts)
    else:
        name = condition.get("condition")
        params = condition.get("params") or {}
        result = True
        if name in ("entity_property_exists", "entity_property_equal_to") and params.get("entity") == "issue":
            row = session.get(IssueProperty, (issue_id, params.get("propertyKey"))) if issue_id else None
            result = row is not None
            if result and name == "entity_property_equal_to" and row is not None:
                value = json.loads(row.value)
                for part in str(params.get("objectName") or "").split("."):
                    value = value.get(part) if isinstance(value, dict) and part else value
                result = json.dumps(value) == str(params.get("value")) or str(value) == str(params.get("value"))
    return not result if condition.get("invert") else result


def all_hold(session: Session, conditions: Any, issue_id: int | None) -> bool:
    return all(condition_holds(session, c, issue_id) for c in conditions or [])
