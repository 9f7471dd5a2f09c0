"""Generation options, test purposes and the generation error."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal, get_args

from flowcase.errors import GenerationError as GenerationError
from flowcase.errors import OptionError as OptionError
from flowcase.generate.suite import Criterion
from flowcase.model.types import LEVELS, Level, Scalar

DataMode = Literal["one", "pairwise", "nwise"]
CRITERIA: tuple[Criterion, ...] = get_args(Criterion)
DATA_MODES: tuple[DataMode, ...] = get_args(DataMode)


@dataclass(frozen=True, slots=True)
class Purpose:
    """A test purpose: one test that passes ``passes`` (in order), ends at ``reach`` and avoids ``avoid``.

    References name a node (``pin``, ``main/pin``, ``pay>payment/card``) or a decision (``pin#ok``).
    """

    name: str = ""
    passes: tuple[str, ...] = ()
    reach: str | None = None
    avoid: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [f"pass {p}" for p in self.passes]
        if self.reach:
            parts.append(f"reach {self.reach}")
        parts += [f"avoid {a}" for a in self.avoid]
        text = "; ".join(parts)
        return f"{self.name}: {text}" if self.name else text


def parse_purpose(text: str) -> Purpose:
    """Parse ``[name:] pass REF; reach END; avoid REF`` (clauses separated by ';')."""
    name = ""
    body = text.strip()
    head, sep, rest = body.partition(":")
    if sep and head.strip().split(" ")[0] not in ("pass", "reach", "avoid"):
        name, body = head.strip(), rest.strip()
    passes: list[str] = []
    avoid: list[str] = []
    reach: str | None = None
    for clause in (c.strip() for c in body.split(";")):
        if not clause:
            continue
        verb, _, ref = clause.partition(" ")
        ref = ref.strip()
        if not ref:
            raise GenerationError(f"purpose clause {clause!r} needs a reference after {verb!r}")
        if verb == "pass":
            passes.append(ref)
        elif verb == "avoid":
            avoid.append(ref)
        elif verb == "reach":
            if reach is not None:
                raise GenerationError(f"purpose {text!r} has more than one 'reach' clause")
            reach = ref
        else:
            raise GenerationError(f"purpose clause {clause!r} must start with 'pass', 'reach' or 'avoid'")
    if not passes and reach is None:
        raise GenerationError(f"purpose {text!r} needs at least one 'pass' or 'reach' clause")
    return Purpose(name, tuple(passes), reach, tuple(avoid))


def _typed(key: str, value: object, annotation: object) -> object:
    """``value`` when it has the option's type; :class:`OptionError` naming the option otherwise."""
    text = str(annotation)
    if value is None and "None" in text:
        return value
    if "int" in text and not (isinstance(value, int) and not isinstance(value, bool)):
        raise OptionError(f"option {key!r} must be a whole number, not {value!r}")
    if ("Level" in text or "DataMode" in text) and not isinstance(value, str):
        raise OptionError(f"option {key!r} must be text, not {value!r}")
    if text.startswith("tuple") and not isinstance(value, str):
        raise OptionError(f"option {key!r} must be text, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class GenerateOptions:
    """What to generate. Filters keep only targets at or above ``priority``/``risk`` or carrying a tag."""

    criterion: Criterion = "all-decisions"
    loop_bound: int = 1
    max_paths: int = 10_000
    purposes: tuple[Purpose, ...] = ()
    priority: Level | None = None
    risk: Level | None = None
    tags: tuple[str, ...] = ()
    data: DataMode = "one"
    strength: int = 2
    search_budget: int | None = None  # node expansions in all; None: 200 per edge, at least 200,000
    max_candidates: int = 4096
    # risk-based strength: decisions matching one of these selectors ('risk:high' = that level or higher,
    # 'priority:LEVEL', 'tag:T', 'step:NODE') also get every pair of consecutive decisions touching them, and the
    # tests passing them get ``focus_data`` variants, in the same suite
    focus: tuple[str, ...] = ()
    focus_data: DataMode = "pairwise"

    def check(self) -> None:
        if self.criterion not in CRITERIA:
            raise GenerationError(f"unknown criterion {self.criterion!r}; use one of {', '.join(CRITERIA)}")
        if self.data not in DATA_MODES:
            raise GenerationError(f"unknown data mode {self.data!r}; use one of {', '.join(DATA_MODES)}")
        if self.loop_bound < 0:
            raise GenerationError("the loop bound must be 0 or more")
        if not 1 <= self.strength <= 6:
            raise GenerationError("the strength must be between 1 and 6")
        if self.criterion == "purposes" and not self.purposes:
            raise GenerationError("criterion 'purposes' needs at least one purpose")
        for level in (self.priority, self.risk):
            if level is not None and level not in LEVELS:
                raise GenerationError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
        for selector in self.focus:
            kind, _, value = selector.partition(":")
            if kind not in ("risk", "priority", "tag", "step") or not value:
                raise GenerationError(f"focus {selector!r} must be risk:LEVEL, priority:LEVEL, tag:TAG or step:NODE")
            if kind in ("risk", "priority") and value not in LEVELS:
                raise GenerationError(f"unknown level {value!r} in focus {selector!r}; use one of {', '.join(LEVELS)}")
        if self.focus and self.criterion not in ("all-steps", "all-decisions"):
            raise GenerationError("focus strengthens all-steps or all-decisions suites")
        if self.focus_data not in DATA_MODES:
            raise GenerationError(f"unknown data mode {self.focus_data!r}; use one of {', '.join(DATA_MODES)}")
        if self.max_paths < 1 or (self.search_budget is not None and self.search_budget < 1) or self.max_candidates < 1:
            raise GenerationError("limits must be positive")

    def to_suite_options(self) -> dict[str, Scalar]:
        """The options as they are recorded in a suite (only what differs from the defaults)."""
        out: dict[str, Scalar] = {}
        default = GenerateOptions()
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if f.name == "purposes":
                out["purposes"] = " | ".join(p.describe() for p in value)
            elif f.name in ("tags", "focus"):
                out[f.name] = ",".join(value)
            else:
                out[f.name] = value
        return out

    @classmethod
    def from_suite_options(cls, criterion: Criterion, data: dict[str, Scalar]) -> GenerateOptions:
        """Rebuild the options recorded by :meth:`to_suite_options`."""
        kwargs: dict[str, object] = {"criterion": criterion}
        for key, value in data.items():
            if key == "purposes" and isinstance(value, str):
                kwargs["purposes"] = tuple(parse_purpose(p) for p in value.split(" | ") if p.strip())
            elif key in ("tags", "focus") and isinstance(value, str):
                kwargs[key] = tuple(t for t in value.split(",") if t)
            elif key in {f.name for f in fields(cls)} and key != "criterion":
                kwargs[key] = _typed(key, value, next(f.type for f in fields(cls) if f.name == key))
        options = cls(**kwargs)  # type: ignore[arg-type]
        options.check()
        return options
