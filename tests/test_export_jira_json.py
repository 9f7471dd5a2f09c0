"""Xray Cloud bulk import JSON and Zephyr Scale test case JSON, validated against their documented shapes.

The schemas below encode what the vendors document:

- Xray Cloud "Import tests in bulk" (``POST /api/v2/import/test/bulk``, docs.getxray.app): an array of at most
  1000 tests; each has ``testtype`` (required), Jira ``fields`` (``summary`` required; ``project`` by key or id;
  labels), ``steps`` of ``action``/``data``/``result`` for step-based (Manual) tests, ``gherkin_def`` or
  ``unstructured_def`` for the others, ``xray_test_repository_folder``, ``xray_test_sets``,
  ``xray_preconditions`` and an ``update`` block as in Jira's create-issue API (``issuelinks``).
- Zephyr Scale (Server/DC REST API ``POST /rest/atm/1.0/testcase``): ``projectKey`` and ``name`` required;
  ``objective``, ``precondition``, ``folder`` (a path starting with '/'), ``status``, ``priority``, ``labels``,
  ``issueLinks`` (issue keys), ``customFields``, ``parameters`` (``variables`` of FREE_TEXT / DATA_SET and
  ``entries``) and ``testScript``: STEP_BY_STEP with ``steps`` of ``description``/``testData``/
  ``expectedResult``, or PLAIN_TEXT / BDD with ``text``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from flowcase.export import ExportOptions, export
from flowcase.export.common import visible_steps
from test_export_samples import sample_suite

ISSUE_KEY = r"^[A-Z][A-Z0-9_]+-[1-9][0-9]*$"
LABEL = {"type": "string", "pattern": r"^\S{1,255}$"}

XRAY_STEP = {
    "type": "object",
    "required": ["action"],
    "properties": {
        "action": {"type": "string", "minLength": 1},
        "data": {"type": "string"},
        "result": {"type": "string"},
    },
    "additionalProperties": False,
}
XRAY_TEST = {
    "type": "object",
    "required": ["testtype", "fields"],
    "properties": {
        "testtype": {"type": "string", "minLength": 1},
        "xray_testtype": {"type": "string"},
        "fields": {
            "type": "object",
            "required": ["summary"],
            "properties": {
                "summary": {"type": "string", "minLength": 1, "maxLength": 255},
                "project": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["key"],
                            "properties": {"key": {"type": "string"}},
                            "additionalProperties": False,
                        },
                        {
                            "type": "object",
                            "required": ["id"],
                            "properties": {"id": {"type": "string"}},
                            "additionalProperties": False,
                        },
                    ]
                },
                "labels": {"type": "array", "items": LABEL},
                "description": {"type": "string"},
                "priority": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"enum": ["Highest", "High", "Medium", "Low", "Lowest"]}},
                },
            },
        },
        "steps": {"type": "array", "items": XRAY_STEP, "minItems": 1},
        "gherkin_def": {"type": "string"},
        "unstructured_def": {"type": "string"},
        "xray_test_repository_folder": {"type": "string"},
        "xray_test_sets": {"type": "array", "items": {"type": "string"}},
        "xray_preconditions": {"type": "array", "items": {"type": "string"}},
        "update": {
            "type": "object",
            "properties": {
                "issuelinks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["add"],
                        "properties": {
                            "add": {
                                "type": "object",
                                "required": ["type"],
                                "properties": {
                                    "type": {"type": "object", "required": ["name"]},
                                    "outwardIssue": {
                                        "type": "object",
                                        "required": ["key"],
                                        "properties": {"key": {"pattern": ISSUE_KEY}},
                                    },
                                    "inwardIssue": {"type": "object", "required": ["key"]},
                                },
                            }
                        },
                    },
                }
            },
        },
    },
    "additionalProperties": False,
    "if": {"properties": {"testtype": {"const": "Manual"}}},
    "then": {"required": ["steps"]},
}
XRAY_SCHEMA = {"type": "array", "maxItems": 1000, "items": XRAY_TEST}

ZEPHYR_STEP = {
    "type": "object",
    "properties": {
        "description": {"type": "string"},
        "testData": {"type": "string"},
        "expectedResult": {"type": "string"},
        "testCaseKey": {"type": "string"},
    },
    "additionalProperties": False,
}
ZEPHYR_CASE = {
    "type": "object",
    "required": ["projectKey", "name"],
    "properties": {
        "projectKey": {"type": "string", "pattern": r"^[A-Z][A-Z0-9_]+$"},
        "name": {"type": "string", "minLength": 1},
        "objective": {"type": "string"},
        "precondition": {"type": "string"},
        "folder": {"type": "string", "pattern": "^/"},
        "status": {"type": "string"},
        "priority": {"type": "string"},
        "component": {"type": "string"},
        "owner": {"type": "string"},
        "estimatedTime": {"type": "integer"},
        "labels": {"type": "array", "items": LABEL},
        "issueLinks": {"type": "array", "items": {"type": "string", "pattern": ISSUE_KEY}},
        "customFields": {"type": "object"},
        "parameters": {
            "type": "object",
            "required": ["variables", "entries"],
            "properties": {
                "variables": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "type"],
                        "properties": {
                            "name": {"type": "string"},
                            "type": {"enum": ["FREE_TEXT", "DATA_SET"]},
                            "dataSet": {"type": "string"},
                        },
                        "additionalProperties": False,
                    },
                },
                "entries": {"type": "array", "items": {"type": "object"}},
            },
            "additionalProperties": False,
        },
        "testScript": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["type", "steps"],
                    "properties": {"type": {"const": "STEP_BY_STEP"}, "steps": {"type": "array", "items": ZEPHYR_STEP}},
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "required": ["type", "text"],
                    "properties": {"type": {"enum": ["PLAIN_TEXT", "BDD"]}, "text": {"type": "string"}},
                    "additionalProperties": False,
                },
            ]
        },
    },
    "additionalProperties": False,
}
ZEPHYR_SCHEMA = {"type": "array", "items": ZEPHYR_CASE}


def validate(schema: dict[str, Any], document: Any) -> None:
    Draft202012Validator.check_schema(schema)
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_xray_bulk_import_shape_and_content() -> None:
    suite = sample_suite()
    document = json.loads(export(suite, "xray", options=ExportOptions(project="PICK")).text)
    validate(XRAY_SCHEMA, document)
    assert len(document) == len(suite.tests)
    first = document[0]
    assert first["testtype"] == "Manual"
    assert first["fields"]["project"] == {"key": "PICK"}
    assert first["fields"]["labels"][0] == "flowcase-id:TC-0a1b2c3d"
    assert first["fields"]["priority"] == {"name": "Highest"}
    assert first["xray_test_repository_folder"] == "Parcel pickup at a locker"
    assert [s["action"] for s in first["steps"]] == [s.action for s in visible_steps(suite.tests[0])]
    assert first["steps"][1] == {"action": "Look at the screen.", "data": "paid = true", "result": '"Paid" is shown'}
    assert first["update"]["issuelinks"] == [{"add": {"type": {"name": "Tests"}, "outwardIssue": {"key": "PICK-1"}}}]
    # A step without an action is described by its node's name (Xray refuses empty actions).
    assert document[1]["steps"][-1]["action"] == "Verify payment"


def test_xray_without_a_project_leaves_it_to_the_import_endpoint() -> None:
    document = json.loads(export(sample_suite(), "xray").text)
    validate(XRAY_SCHEMA, document)
    assert all("project" not in t["fields"] for t in document)


def test_zephyr_shape_steps_and_parameters() -> None:
    suite = sample_suite()
    document = json.loads(export(suite, "zephyr", options=ExportOptions(project="PICK", folder="Lockers/")).text)
    validate(ZEPHYR_SCHEMA, document)
    first = document[0]
    assert first["projectKey"] == "PICK" and first["folder"] == "/Lockers"
    assert first["priority"] == "High" and first["status"] == "Draft"
    assert "flowcase-id:TC-0a1b2c3d" in first["labels"] and first["issueLinks"] == ["PICK-1"]
    assert "flowcase id: TC-0a1b2c3d" in first["objective"]
    assert first["testScript"]["type"] == "STEP_BY_STEP"
    assert first["testScript"]["steps"][1] == {
        "description": "Look at the screen.",
        "testData": "paid = {paid}",
        "expectedResult": '"Paid" is shown',
    }
    params = first["parameters"]
    assert [v["name"] for v in params["variables"]] == ["code", "size", "paid"]
    assert [e["size"] for e in params["entries"]] == ["S", "M", "L"]
    single = document[1]
    assert "parameters" not in single and single["testScript"]["steps"][1]["testData"] == "paid = false"


@pytest.mark.parametrize("fmt", ["xray", "zephyr"])
def test_hostile_text_is_valid_json_and_round_trips(fmt: str) -> None:
    suite = sample_suite()
    text = export(suite, fmt, options=ExportOptions(project="PICK")).text
    document = json.loads(text)
    nasty = document[2]
    steps = nasty["steps"] if fmt == "xray" else nasty["testScript"]["steps"]
    assert (steps[1]["action"] if fmt == "xray" else steps[1]["description"]) == suite.tests[2].steps[2].action
    assert "ünïcödé ✓" in text  # UTF-8, not \\u escapes
