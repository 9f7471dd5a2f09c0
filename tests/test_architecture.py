"""The layering rules: the pure core never reaches into web, hosts or Jira; only hosts know their host; no
module imports itself back through others (function-level imports count: they only hide a cycle); hosts never
import web and web never imports cli; the core loads only the third-party packages on its allow-list."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "flowcase"
CORE = ("model", "generate", "export")
OUTER = (
    "flowcase.web",
    "flowcase.hosts",
    "flowcase.jira",
    "flowcase.sandbox",
    "flowcase.cli",
    "flowcase.db",
    "flowcase.config",
)


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

    model = Model(
        id="m", workflows=(Workflow(id="w", nodes=(Node(id="s", kind="start", next="e"), Node(id="e", kind="end"))),)
    )
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


# --- the import graph ---------------------------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in SRC.rglob("*.py")}


def _type_only(tree: ast.AST) -> set[int]:
    """Nodes under ``if TYPE_CHECKING:`` (never imported at run time)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def run_time_imports(name: str) -> set[str]:
    """The flowcase modules ``name`` imports at run time, at any level (module, function, method)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_only(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    package = package.rsplit(".", 1)[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return (found & set(MODULES)) - {name}


GRAPH = {name: run_time_imports(name) for name in MODULES}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_there_are_no_import_cycles() -> None:
    assert cycles() == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    GRAPH["flowcase.model.types"].add("flowcase.model.io")
    try:
        assert any({"flowcase.model.io", "flowcase.model.types"} <= set(c) for c in cycles())
    finally:
        GRAPH["flowcase.model.types"].discard("flowcase.model.io")


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("flowcase.hosts", "flowcase.web"),
        ("flowcase.web", "flowcase.cli"),
        ("flowcase.jira", "flowcase.web"),
        ("flowcase.jira", "flowcase.cli"),
        ("flowcase.hosts", "flowcase.cli"),
    ],
)
def test_lower_layers_do_not_import_upper_ones(lower: str, upper: str) -> None:
    offenders = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        if name == lower or name.startswith(lower + ".")
        for target in targets
        if target == upper or target.startswith(upper + ".")
    )
    assert offenders == []


# The third-party packages the pure core (model, generate, export) may load. networkx is a dev dependency: the
# comparison solver (solver="networkx", benchmarks only) imports it when asked for, never by default.
CORE_THIRD_PARTY = {
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
    "yaml",
    "defusedxml",
    "numpy",
    "scipy",
}
CORE_DEV_ONLY = {"networkx"}

_PROBE = """
import importlib, json, sys
before = set(sys.modules)
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
from flowcase.generate import generate
from flowcase.model.io import load_path
generate(load_path(sys.argv[2]).model)
new = {m.split(".")[0] for m in set(sys.modules) - before}
print(json.dumps(sorted(m for m in new if m not in sys.stdlib_module_names and not m.startswith("_"))))
"""


def test_the_core_loads_only_its_allowed_third_party_packages() -> None:
    """In a fresh interpreter: import every core module and generate a suite, then list what was loaded."""
    core = sorted(n for n in MODULES if n.split(".")[1:2] and n.split(".")[1] in CORE)
    example = Path(__file__).resolve().parents[1] / "examples" / "checkout.yaml"
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(core), str(example)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC.parent), "PATH": "/usr/bin:/bin"},
    )
    loaded = set(json.loads(out.stdout)) - {"flowcase", "cython_runtime"}
    assert loaded <= CORE_THIRD_PARTY, loaded - CORE_THIRD_PARTY
    flowcase_outer = {m for m in loaded if m.startswith("flowcase.")}
    assert not flowcase_outer


def test_the_core_imports_name_only_allowed_third_party_packages() -> None:
    """Statically, function-level imports included (the subprocess sees only the paths it runs)."""
    allowed = CORE_THIRD_PARTY | CORE_DEV_ONLY | {"flowcase"} | set(sys.stdlib_module_names)
    offenders = set()
    for name in (n for n in MODULES if n.split(".")[1:2] and n.split(".")[1] in CORE):
        for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                tops = {node.module.split(".")[0]}
            else:
                continue
            offenders |= {f"{name}: {t}" for t in tops - allowed}
    assert offenders == set()
