"""Namespaces, tags and typed values shared by the BPMN reader and writer."""

from __future__ import annotations

from flowcase.model.types import Layout, NodeKind, Scalar

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FLOWCASE = "https://flowcase.dev/schema/bpmn/1"
TARGET_NAMESPACE = "https://flowcase.dev/models"
PREFIXES = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "xsi": XSI, "flowcase": FLOWCASE}


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _b(tag: str) -> str:
    return _q(BPMN, tag)


def _f(tag: str) -> str:
    return _q(FLOWCASE, tag)


_ELEMENT_OF: dict[NodeKind, str] = {
    "start": "startEvent",
    "step": "task",
    "choice": "exclusiveGateway",
    "call": "callActivity",
    "end": "endEvent",
}


def _default_label(lay: Layout) -> Layout:
    """Where export puts the label of an event or gateway that has no drawn label: below the shape."""
    width = lay.width if lay.width is not None else 100.0
    height = lay.height if lay.height is not None else 80.0
    return Layout(x=lay.x + width / 2 - 45, y=lay.y + height + 7, width=90, height=14)


# the BPMN element types of every kind of task, sub-process and gateway
_TASKS = frozenset(
    {"task", "userTask", "serviceTask", "manualTask", "scriptTask", "sendTask", "receiveTask", "businessRuleTask"}
)
_SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
_GATEWAYS = frozenset(
    {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "complexGateway", "eventBasedGateway"}
)


# ``set`` is a method of every element in bpmn-moddle (bpmn.io's model): an attribute of that name would be lost
# when bpmn.io saves the diagram, so assignments are written as ``assign`` (``set`` is still read).
_ATTRIBUTE = {"set": "assign"}


# -- scalars -------------------------------------------------------------------------------------------


def _scalar_type(value: Scalar) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "string"


def _scalar_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class BadScalar(ValueError):
    """A typed value (``type="int"``, ``"float"``) whose text does not read as its type."""


def _scalar_from(kind: str | None, text: str) -> Scalar:
    try:
        if kind == "int":
            return int(text.strip())
        if kind == "float":
            return float(text.strip())
    except ValueError:
        raise BadScalar(f"{text.strip()!r} is not a{'n' if kind == 'int' else ''} {kind}") from None
    if kind == "bool":
        return text.strip() == "true"
    return text
