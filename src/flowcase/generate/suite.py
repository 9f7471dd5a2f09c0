"""A generated test suite: the contract between generation, exports, the web app and publishing.

Serialised as JSON (``flowcase-suite/1``) by :func:`Suite.model_dump_json`; byte-identical for the same
model and options.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from flowcase.model.types import Level, Scalar, shared_fields

SUITE_FORMAT: Literal["flowcase-suite/1"] = "flowcase-suite/1"

Criterion = Literal["all-steps", "all-decisions", "all-pairs", "all-paths", "purposes"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TestStep(_Frozen):
    """One decision taken on the path: at ``node`` (of ``workflow``), row ``decision``."""

    workflow: str = Field(description="Workflow id; for an inlined sub-workflow, 'caller_node>sub_workflow'.")
    node: str
    decision: str
    name: str = Field(description="The node's display name.")
    action: str = ""
    expected: str = ""
    condition: str = ""
    objective: str = ""
    requirements: tuple[str, ...] = ()

    @classmethod
    def trusted(
        cls,
        workflow: str,
        node: str,
        decision: str,
        name: str,
        action: str,
        expected: str,
        condition: str,
        objective: str,
        requirements: tuple[str, ...],
    ) -> TestStep:
        """A step from values that are of the fields' types already (they come from a validated model), equal to
        ``TestStep(...)`` with the same values but built without validating them and sharing one set of field
        names: a walk of a large model has hundreds of thousands of steps (at 50,000 GraphWalker vertices this
        is 0.4 s -> 0.17 s and 180 -> 60 MiB; ``model_construct`` is slower than validating)."""
        values = {
            "workflow": workflow,
            "node": node,
            "decision": decision,
            "name": name,
            "action": action,
            "expected": expected,
            "condition": condition,
            "objective": objective,
            "requirements": requirements,
        }
        return _trusted(cls, values, _STEP_FIELDS)


_M = TypeVar("_M", bound=BaseModel)


def _trusted(cls: type[_M], values: dict[str, Any], fields_set: set[str]) -> _M:
    """An instance of ``cls`` holding ``values`` as they are, without validation (the callers' values are of the
    fields' types already), its set of field names shared: pydantic copies that set before changing it."""
    made = cls.__new__(cls)
    object.__setattr__(made, "__dict__", values)
    object.__setattr__(made, "__pydantic_fields_set__", fields_set)
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


#: The fields a trusted step sets (all of them), shared by every trusted step
_STEP_FIELDS = shared_fields(set(TestStep.model_fields))


def is_test_step(step: TestStep) -> bool:
    """Whether a path step is a step the tester performs: it has an action, an expected result, a condition or
    a name of its own. A start node or an unnamed junction is routing, not a step. This is the one definition of
    "steps" that the editor, the command line, every export and the published Jira issues count and show."""
    return bool(step.action or step.expected or step.condition or (step.name and step.name != step.node))


class TestCase(_Frozen):
    id: str = Field(description="Stable id derived from the path, e.g. 'TC-1a2b3c4d'.")
    name: str
    steps: tuple[TestStep, ...]
    end: str = Field(description="Id of the end node reached in the main workflow.")
    end_name: str = ""
    data: dict[str, Scalar] = Field(default_factory=dict, description="Parameter values for this test.")
    variants: tuple[dict[str, Scalar], ...] = Field(
        default=(), description="Data variants of the same path (pairwise/n-wise); empty when only 'data'."
    )
    objectives: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    priority: Level | None = None
    risk: Level | None = None
    pinned: bool = Field(default=False, description="Pinned by a user: regeneration keeps it exactly (path and data).")

    def test_steps(self) -> tuple[TestStep, ...]:
        """The steps a tester performs (see :func:`is_test_step`); ``steps`` is the whole path."""
        return tuple(s for s in self.steps if is_test_step(s))


class CoverageItem(_Frozen):
    kind: Literal["step", "decision", "pair", "path", "purpose", "requirement"]
    ref: str = Field(description="What is covered, e.g. 'main/pin' or 'main/pin#ok' or 'main/pin#ok>main/pay#card'.")
    covered_by: tuple[str, ...] = ()
    reason: str | None = Field(default=None, description="Why it is not covered, when covered_by is empty.")

    @classmethod
    def trusted_covered(
        cls, kind: Literal["step", "decision", "pair", "requirement"], ref: str, covered_by: tuple[str, ...]
    ) -> CoverageItem:
        """``CoverageItem(kind=kind, ref=ref, covered_by=covered_by)`` built without validating values that are of
        the fields' types already (generation lists an item per step and decision: 150,000 at 50,000 GraphWalker
        vertices)."""
        values = {"kind": kind, "ref": ref, "covered_by": covered_by, "reason": None}
        return _trusted(cls, values, _COVERED_FIELDS)


#: The fields a trusted covered item sets, shared by all of them (pydantic copies the set before changing it)
_COVERED_FIELDS = shared_fields({"kind", "ref", "covered_by"})


class Suite(_Frozen):
    format: Literal["flowcase-suite/1"] = SUITE_FORMAT
    model: str = Field(description="Model id.")
    model_name: str = ""
    model_hash: str = Field(description="sha256 of the model's canonical JSON.")
    criterion: Criterion
    options: dict[str, Scalar] = Field(default_factory=dict)
    tests: tuple[TestCase, ...]
    coverage: tuple[CoverageItem, ...] = ()
    lower_bound: int | None = Field(default=None, description="Proven lower bound on the number of tests.")
    optimal: bool = Field(default=False, description="True only when len(tests) == lower_bound is proven minimal.")
    notes: tuple[str, ...] = ()
    source_model: dict[str, Any] | None = Field(
        default=None,
        description="The model itself (flowcase JSON data), written by `flowcase generate` so that a tests file is "
        "enough for the exports that draw the diagram; left out of the JSON when absent.",
    )

    @model_serializer(mode="wrap")
    def _omit_absent_source(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("source_model", 0) is None:
            del data["source_model"]
        return data
