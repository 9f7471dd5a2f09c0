"""The layering rules: the pure core never reaches into web, hosts or Jira; only hosts know their host."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "flowcase"
CORE = ("model", "generate", "export")
OUTER = ("flowcase.web", "flowcase.hosts", "flowcase.jira", "flowcase.sandbox", "flowcase.cli", "flowcase.db",
         "flowcase.config")


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", CORE)
def test_core_imports_nothing_from_the_outer_layers(package: str) -> None:
    offenders = {
        f"{path.relative_to(SRC)} imports {module}"
        for path in (SRC / package).rglob("*.py")
        for module in imported_modules(path)
        if module.startswith(OUTER)
    }
    assert not offenders


def test_only_hosts_name_a_specific_host() -> None:
    offenders = {
        f"{path.relative_to(SRC)} imports {module}"
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] not in ("hosts", "web", "sandbox", "cli")
        for module in imported_modules(path)
        if module.startswith(("flowcase.hosts.connect", "flowcase.hosts.forge"))
    }
    assert not offenders


def test_the_model_is_immutable() -> None:
    from pydantic import ValidationError

    from flowcase.model.types import Model, Node, Workflow

    model = Model(id="m", workflows=(Workflow(id="w", nodes=(Node(id="s", kind="start", next="e"),
                                                               Node(id="e", kind="end"))),))
    with pytest.raises(ValidationError):
        model.main.nodes[0].next = "x"  # type: ignore[misc]
    assert isinstance(model.workflows, tuple) and isinstance(model.main.nodes, tuple)


def test_copies_do_not_keep_derived_values_of_the_original() -> None:
    from flowcase.model.types import Decision, Model, Node, Workflow

    node = Node(id="s", kind="step", next="e")
    assert [d.next for d in node.table] == ["e"]
    changed = node.model_copy(update={"next": None, "decisions": (Decision(next="x"), Decision(next="y"))})
    assert [d.next for d in changed.table] == ["x", "y"]
    workflow = Workflow(id="w", nodes=(node,))
    assert set(workflow.by_id) == {"s"}
    assert set(workflow.model_copy(update={"nodes": (changed,)}).by_id) == {"s"}
    model = Model(id="m", workflows=(workflow,))
    assert set(model.workflows_by_id) == {"w"}
    renamed = model.model_copy(update={"workflows": (workflow.model_copy(update={"id": "v"}),)})
    assert set(renamed.workflows_by_id) == {"v"}
