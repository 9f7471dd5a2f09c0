"""Names for things other tools leave unnamed: ids a modeler generated (``Flow_0ab3x9k``) name nothing a tester
would recognise, so readable names come from labels instead."""

from __future__ import annotations

import re
from pathlib import PurePath

from flowcase.model.types import Model

_GENERATED_ID = re.compile(r"^(?:[A-Za-z]+_)+(?=[0-9a-z]*[0-9])[0-9a-z]{5,}$")
_NUMBERED = re.compile(r"^[A-Z][A-Za-z]*_[0-9][0-9a-z]*$")  # StartEvent_1, Definitions_1, Gateway_0x1y2z3
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_ID = re.compile(r"[^A-Za-z0-9]+")


def is_generated_id(text: str) -> bool:
    """An id a modeler made up (``Flow_0ab3x9k``, ``Activity_07vs91k``, ``Definitions_1``, ``3``): it names nothing."""
    return text.isdigit() or bool(_GENERATED_ID.match(text) or _NUMBERED.match(text))


def humanize(row_id: str) -> str:
    """``bad_postcode`` -> ``bad postcode``, ``validMinimum`` -> ``valid minimum``."""
    return " ".join(_CAMEL.sub(" ", row_id).replace("_", " ").replace("-", " ").split()).lower()


def identifier(text: str) -> str:
    """``Order approval`` -> ``order_approval`` (an Identifier, or "" when nothing is left)."""
    out = _NOT_ID.sub("_", text).strip("_").lower()[:128]
    return out if out and not out[0].isdigit() else (f"m_{out}"[:128] if out else "")


def readable_model_id(model: Model, source: str | None) -> Model:
    """The model with a readable id when the file gave it a generated one (``Definitions_1k9v3xq``): from its
    name, else from the file name. Exports and downloads are named after the model id."""
    if not is_generated_id(model.id):
        return model
    for candidate in (model.name, PurePath(source).stem if source else ""):
        new = identifier(candidate)
        if new and not is_generated_id(new):
            return model.model_copy(update={"id": new})
    return model
