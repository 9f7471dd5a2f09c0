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

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

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

    def model_post_init(self, context: Any, /) -> None:
        """Share the set of names of the fields given with every instance given the same ones.

        pydantic keeps that set per instance: 728 bytes for a row of eight given fields, more than the row's values
        (109 of the 209 MB a 50,000-vertex GraphWalker model took). The instances are frozen, so nothing adds to
        the set, and pydantic copies it before changing it in ``model_copy``."""
        object.__setattr__(self, "__pydantic_fields_set__", shared_fields(self.__pydantic_fields_set__))


#: one set of given field names per distinct set (a few dozen over all classes)
_FIELD_SETS: dict[frozenset[str], set[str]] = {}


def shared_fields(fields: set[str]) -> set[str]:
    """The one set of given field names equal to ``fields``, shared by every instance given those fields (never
    changed: pydantic copies it before changing it)."""
    return _FIELD_SETS.setdefault(frozenset(fields), fields)


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


class Layout(_Frozen):
    """Where the node is drawn (top-left corner, in diagram units)."""

    x: float
    y: float
    width: float | None = None
    height: float | None = None


Point = tuple[float, float]

BpmnNodeType = Literal[
    "startEvent",
    "endEvent",
    "boundaryEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "task",
    "userTask",
    "serviceTask",
    "manualTask",
    "scriptTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
    "adHocSubProcess",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "complexGateway",
    "eventBasedGateway",
]
BpmnEventKind = Literal[
    "message", "timer", "error", "escalation", "cancel", "compensate", "conditional", "link", "signal", "terminate"
]
BpmnArtifactType = Literal[
    "textAnnotation",
    "association",
    "group",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "dataInputAssociation",
    "dataOutputAssociation",
    "dataInput",
    "dataOutput",
]


class BpmnFlow(_Frozen):
    """How a decision was drawn as a BPMN sequence flow, kept so that export writes the same flow back."""

    id: str = Field(description="The sequence flow's XML id.")
    waypoints: tuple[Point, ...] = Field(default=(), description="The edge's bend points, as drawn.")
    label: Layout | None = Field(default=None, description="Where the flow's label is drawn.")


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
    bpmn: BpmnFlow | None = Field(
        default=None, description="Set by BPMN import: the sequence flow this row was read from; no effect on tests."
    )


class BpmnNode(_Frozen):
    """The BPMN element a node was read from, kept so that export writes the same element back.

    Set by BPMN import; it changes only how the node is drawn in BPMN, never what a test does there. Export uses
    it only while it still fits the node (a ``parallelGateway`` for a choice, a ``boundaryEvent`` whose activity
    still has the row leading to it, ...), and otherwise writes the node's default element.
    """

    type: BpmnNodeType = Field(description="The element, e.g. userTask, parallelGateway, boundaryEvent.")
    id: str | None = Field(default=None, description="The element's XML id when it is not the node id.")
    events: tuple[BpmnEventKind, ...] = Field(default=(), description="An event's definitions: timer, message, ...")
    link: str | None = Field(default=None, description="A link event's name.")
    attached_to: Identifier | None = Field(default=None, description="A boundary event's activity (a node id).")
    interrupting: bool = Field(
        default=True, description="false: a non-interrupting boundary event or event sub-process start."
    )
    loop: Literal["standard", "parallel", "sequential"] | None = Field(
        default=None, description="The activity's loop or multi-instance marker."
    )
    triggered_by_event: bool = Field(default=False, description="An event sub-process.")
    for_compensation: bool = Field(default=False, description="A compensation handler.")
    called: str | None = Field(
        default=None, description="A call activity's calledElement when it is no workflow of the model."
    )
    default: str | None = Field(default=None, description="The XML id of the default outgoing flow.")
    expanded: bool | None = Field(default=None, description="A sub-process drawn expanded (its content inside).")
    origin: Point | None = Field(
        default=None, description="An expanded sub-process: where its content is drawn (its layouts are relative)."
    )
    label: Layout | None = Field(default=None, description="Where the node's label is drawn.")


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
    bpmn: BpmnNode | None = Field(
        default=None, description="Set by BPMN import: the element it was read from; no effect on tests."
    )

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
            d if d.id is not None else d.model_copy(update={"id": str(i + 1)}) for i, d in enumerate(self.decisions)
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


BpmnRef = Annotated[
    str,
    Field(
        description="A node ('workflow/node'), a decision's flow ('workflow/node/row'), or the id of a participant, "
        "lane or artifact of the same annotation."
    ),
]


class BpmnParticipant(_Frozen):
    """A pool: a participant of a collaboration, showing one workflow's process (none for a black-box pool)."""

    id: str
    name: str = ""
    workflow: Identifier | None = None
    layout: Layout | None = None
    horizontal: bool | None = None


class BpmnMessageFlow(_Frozen):
    id: str
    name: str = ""
    source: BpmnRef
    target: BpmnRef
    waypoints: tuple[Point, ...] = ()
    label: Layout | None = None


class BpmnArtifact(_Frozen):
    """A text annotation, association, group, data object or store, data association, or a process's data input
    or output, with its drawing.

    A data association has the node it belongs to at one end: ``target`` for an input, ``source`` for an output.
    """

    id: str
    type: BpmnArtifactType
    container: str = Field(description="The workflow the artifact belongs to (the collaboration's id for its own).")
    name: str = Field(default="", description="Its name; a group's category value.")
    text: str = Field(default="", description="A text annotation's text.")
    source: BpmnRef | None = None
    target: BpmnRef | None = None
    ref: str | None = Field(default=None, description="The data object, data store or category value referred to.")
    collection: bool = Field(default=False, description="A data object that is a collection.")
    layout: Layout | None = None
    waypoints: tuple[Point, ...] = ()
    label: Layout | None = None


class BpmnCollaboration(_Frozen):
    id: str
    name: str = ""
    participants: tuple[BpmnParticipant, ...] = ()
    message_flows: tuple[BpmnMessageFlow, ...] = ()
    artifacts: tuple[BpmnArtifact, ...] = Field(default=(), description="Text annotations, groups, associations.")


class BpmnLane(_Frozen):
    """A lane of a workflow's process, listing the nodes drawn in it."""

    id: str
    name: str = ""
    workflow: Identifier
    lane_set: str = Field(description="The XML id of the lane set holding the lane.")
    parent: str | None = Field(default=None, description="The enclosing lane's id, for a nested lane.")
    nodes: tuple[Identifier, ...] = ()
    layout: Layout | None = None
    horizontal: bool | None = None


class BpmnDiagram(_Frozen):
    """Set by BPMN import: the parts of a BPMN file that are not flow (pools, lanes, message flows, artifacts), with
    their drawing, so that export writes them back. They have no effect on tests."""

    collaborations: tuple[BpmnCollaboration, ...] = ()
    lanes: tuple[BpmnLane, ...] = ()
    artifacts: tuple[BpmnArtifact, ...] = Field(default=(), description="The artifacts of the workflows.")

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        """Every id is an XML id of the same document: each may be used once."""
        seen: set[str] = set()
        ids = [
            *(
                x
                for c in self.collaborations
                for x in (
                    c.id,
                    *(p.id for p in c.participants),
                    *(m.id for m in c.message_flows),
                    *(a.id for a in c.artifacts),
                )
            ),
            *(lane.id for lane in self.lanes),
            *(a.id for a in self.artifacts),
        ]
        for value in ids:
            if value in seen:
                raise ValueError(f"the BPMN id {value!r} is used twice")
            seen.add(value)
        return self


class Model(_Frozen):
    """A flowcase model document (``flowcase: "1"``)."""

    flowcase: Literal["1"] = Field(default=FORMAT_VERSION, description="Format version.")
    id: Identifier
    name: str = ""
    description: str = ""
    parameters: tuple[Parameter, ...] = ()
    variables: tuple[Variable, ...] = ()
    workflows: tuple[Workflow, ...] = Field(min_length=1, description="The first is the main workflow.")
    bpmn: BpmnDiagram | None = Field(
        default=None, description="Set by BPMN import: pools, lanes, message flows and artifacts; no effect on tests."
    )
    pins: tuple[dict[str, Any], ...] = Field(
        default=(),
        description="Tests a user pinned (each a test of a generated suite: path, data, id, name): generation keeps "
        "them exactly and makes the rest of the suite minimal given them. Saved with the model; no effect on its "
        "meaning.",
    )

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
