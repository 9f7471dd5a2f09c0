"""The workflow model: immutable typed objects, the single source of truth for every format.

A :class:`Model` holds parameters, variables and one or more workflows (the first is the main one;
the others are sub-workflows reached through ``call`` nodes). Each workflow is a set of nodes; every
node but an end carries a decision table (or the ``next`` shorthand: one implicit decision).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from flowcase.model.expr import Value

FORMAT_VERSION: Literal["1"] = "1"

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$"), Field(examples=["enter_pin"])
]
RowId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
Scalar = bool | int | float | str
Level = Literal["low", "medium", "high", "critical"]
NodeKind = Literal["start", "step", "choice", "call", "end"]

LEVELS: tuple[Level, ...] = ("low", "medium", "high", "critical")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied; values derived from the old fields (cached properties) are dropped."""
        copy = super().model_copy(update=update, deep=deep)
        for name in _cached_names(type(self)):
            copy.__dict__.pop(name, None)
        return copy


@functools.cache
def _cached_names(cls: type) -> tuple[str, ...]:
    return tuple(name for klass in cls.__mro__ for name, v in vars(klass).items() if isinstance(v, cached_property))


class Parameter(_Frozen):
    """A test input with a finite domain (values, or representatives of equivalence classes)."""

    name: Identifier
    values: tuple[Scalar, ...] = Field(min_length=1, description="The domain: every value a test may use.")
    description: str = ""


class Variable(_Frozen):
    """State that decisions update through assignments; starts at ``initial`` in every test."""

    name: Identifier
    initial: Scalar
    description: str = ""


class Decision(_Frozen):
    """One row of a decision table: when ``when`` holds, do ``action``, expect ``expected``, go to ``next``."""

    id: RowId | None = Field(
        default=None, description="Stable row id; keeps test identity across edits. Defaults to the row number."
    )
    when: str = Field(default="", description="Condition over parameters and variables; empty means always.")
    set: str = Field(default="", description="Assignments, e.g. 'attempts = attempts + 1; locked = true'.")
    action: str = ""
    expected: str = ""
    next: Identifier = Field(description="Id of the node this decision leads to.")
    after: str | None = Field(
        default=None, description="On a call node: the end of the called workflow this row follows (any if omitted)."
    )
    objective: str = Field(default="", description="Test purpose; names the tests that take this decision.")
    requirements: tuple[str, ...] = Field(default=(), description="Requirement keys, e.g. Jira issue keys.")
    priority: Level | None = None
    risk: Level | None = None
    tags: tuple[str, ...] = ()
    custom: dict[str, Scalar] = Field(default_factory=dict, description="Free custom attributes.")


class Layout(_Frozen):
    """Where the node is drawn (top-left corner, in diagram units)."""

    x: float
    y: float
    width: float | None = None
    height: float | None = None


class Node(_Frozen):
    """A start, step, choice point, call to a sub-workflow, or end."""

    id: Identifier
    kind: NodeKind
    name: str = ""
    description: str = ""
    decisions: tuple[Decision, ...] = ()
    next: Identifier | None = Field(default=None, description="Shorthand for a single implicit decision.")
    workflow: Identifier | None = Field(default=None, description="On a call node: the called workflow's id.")
    layout: Layout | None = None

    @property
    def label(self) -> str:
        return self.name or self.id

    @cached_property
    def table(self) -> tuple[Decision, ...]:
        """The effective decision table: explicit rows with ids filled in, or the implicit one of ``next``."""
        if self.kind == "end":
            return ()
        if not self.decisions:
            return (Decision(id="1", next=self.next),) if self.next is not None else ()
        return tuple(
            d if d.id is not None else d.model_copy(update={"id": str(i + 1)})
            for i, d in enumerate(self.decisions)
        )


class Workflow(_Frozen):
    id: Identifier
    name: str = ""
    description: str = ""
    stop_anywhere: bool = Field(
        default=False,
        description="A test may stop at any node of this (main) workflow, as a GraphWalker walk may: no end node "
        "is needed and stopping is not a step.",
    )
    nodes: tuple[Node, ...] = ()

    @property
    def label(self) -> str:
        return self.name or self.id

    @cached_property
    def by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}

    @property
    def start(self) -> Node | None:
        return next((n for n in self.nodes if n.kind == "start"), None)

    @property
    def ends(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.kind == "end")

    def node(self, node_id: str) -> Node:
        return self.by_id[node_id]

    def edges(self) -> Iterator[tuple[Node, Decision]]:
        """Every (node, decision) pair in document order."""
        for node in self.nodes:
            for decision in node.table:
                yield node, decision


class Model(_Frozen):
    """A flowcase model document (``flowcase: "1"``)."""

    flowcase: Literal["1"] = Field(default=FORMAT_VERSION, description="Format version.")
    id: Identifier
    name: str = ""
    description: str = ""
    parameters: tuple[Parameter, ...] = ()
    variables: tuple[Variable, ...] = ()
    workflows: tuple[Workflow, ...] = Field(min_length=1, description="The first is the main workflow.")

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def main(self) -> Workflow:
        return self.workflows[0]

    @cached_property
    def workflows_by_id(self) -> dict[str, Workflow]:
        return {w.id: w for w in self.workflows}

    def workflow(self, workflow_id: str) -> Workflow:
        return self.workflows_by_id[workflow_id]

    @cached_property
    def parameter_domains(self) -> dict[str, tuple[Value, ...]]:
        return {p.name: p.values for p in self.parameters}

    @cached_property
    def initial_state(self) -> dict[str, Value]:
        return {v.name: v.initial for v in self.variables}

    def to_data(self) -> dict[str, Any]:
        """The document as plain data, in the canonical form written to JSON and YAML."""
        return {"flowcase": FORMAT_VERSION} | self.model_dump(mode="json", exclude_defaults=True, by_alias=True)
