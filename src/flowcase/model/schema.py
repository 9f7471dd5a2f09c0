"""The published JSON Schema of the flowcase model format."""

from __future__ import annotations

from typing import Any

from flowcase.model.types import Model

SCHEMA_ID = "https://flowcase.dev/schema/model/1.json"


def model_schema() -> dict[str, Any]:
    schema = Model.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
