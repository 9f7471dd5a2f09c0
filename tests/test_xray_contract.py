"""The Xray stand-in's GraphQL schema, and every document the publisher sends, checked against Xray's own schema.

Xray publishes no SDL; the vendored file (tests/data/vendor, see SOURCES.md) is the TypeScript that
@graphql-codegen generated from live introspection of Xray Cloud's endpoint: one ``export type`` per object and
input type (``Maybe<T>`` nullable, anything else non-null) and one ``<Parent><Field>Args`` type per field with
arguments. ``src/flowcase/sandbox/xray_schema.graphql`` (what the stand-in serves) must be a faithful subset:
every type, field, argument and their types exactly as there, and every argument Xray requires present. The
documents the publisher sends in a full cycle must be valid for that schema. So the stand-in cannot drift from
Xray, and the publisher cannot use anything Xray does not have.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    parse,
    validate,
)

from builders import FAST, all_decisions, checkout_model, jira_client
from flowcase.jira.publish import OBSOLETE_LABEL, find_existing
from flowcase.jira.settings_store import PublishSettings
from flowcase.model.types import Model
from flowcase.sandbox.xray import SCHEMA_FILE, schema
from flowcase.targets import PublishCall, publish_to_target
from flowcase.targets.results_remote import read_remote
from recording import Exchange, recording_sandbox

GRAPHQL = "/xray/api/v2/graphql"
VENDOR = (
    Path(__file__).resolve().parent / "data" / "vendor" / ("xray-cloud-graphql-schema.graphql-codegen-types.2025-01.ts")
)


# -- the vendor's schema, from the generated TypeScript ---------------------------------------------------------


def ts_type(expr: str) -> str:
    """``Maybe<Array<Maybe<Scalars["String"]["output"]>>>`` -> ``[String]``; non-null gets ``!``."""
    expr = expr.strip()
    for wrapper in ("InputMaybe<", "Maybe<"):
        if expr.startswith(wrapper) and expr.endswith(">"):
            return ts_type(expr[len(wrapper) : -1]).removesuffix("!")
    if expr.startswith("Array<") and expr.endswith(">"):
        return f"[{ts_type(expr[6:-1])}]!"
    scalar = re.fullmatch(r'Scalars\["(\w+)"\]\["(?:input|output)"\]', expr)
    if scalar:
        return scalar.group(1) + "!"
    if re.fullmatch(r"\w+", expr):
        return expr + "!"
    raise ValueError(f"unexpected TypeScript type {expr!r}")


@cache
def vendor_types() -> dict[str, dict[str, tuple[str, bool]]]:
    """Type name -> field or argument name -> (GraphQL type, optional in TypeScript)."""
    text = VENDOR.read_text(encoding="utf-8")
    out: dict[str, dict[str, tuple[str, bool]]] = {}
    for match in re.finditer(r"^export type (\w+) = \{\n(.*?)^\};", text, re.S | re.M):
        if match.group(1) == "Scalars":
            continue
        body = re.sub(r"/\*\*.*?\*/", "", match.group(2), flags=re.S)
        fields: dict[str, tuple[str, bool]] = {}
        for decl in re.finditer(r"^\s+(\w+)(\??):\s*(.*?);\s*$", body, re.M):
            if decl.group(1) == "__typename":
                continue
            fields[decl.group(1)] = (ts_type(decl.group(3)), decl.group(2) == "?")
        out[match.group(1)] = fields
    return out


def gql_type(t: Any) -> str:
    if isinstance(t, GraphQLNonNull):
        return gql_type(t.of_type) + "!"
    if isinstance(t, GraphQLList):
        return f"[{gql_type(t.of_type)}]"
    return str(t.name)


def drift(ours: GraphQLSchema) -> list[str]:
    vendor = vendor_types()
    problems: list[str] = []
    for name, gtype in ours.type_map.items():
        if name.startswith("__") or not isinstance(gtype, GraphQLObjectType | GraphQLInputObjectType):
            continue
        theirs = vendor.get(name)
        if theirs is None:
            problems.append(f"type {name}: not a type of Xray's schema")
            continue
        for field_name, fdef in gtype.fields.items():
            if field_name not in theirs:
                problems.append(f"{name}.{field_name}: Xray has no such field")
                continue
            if gql_type(fdef.type) != theirs[field_name][0]:
                problems.append(f"{name}.{field_name}: {gql_type(fdef.type)} here, {theirs[field_name][0]} in Xray")
            args = getattr(fdef, "args", None) or {}
            vendor_args = vendor.get(f"{name}{field_name[0].upper()}{field_name[1:]}Args", {})
            for arg_name, arg in args.items():
                if arg_name not in vendor_args:
                    problems.append(f"{name}.{field_name}({arg_name}): Xray has no such argument")
                elif gql_type(arg.type) != vendor_args[arg_name][0]:
                    problems.append(
                        f"{name}.{field_name}({arg_name}): {gql_type(arg.type)} here, "
                        f"{vendor_args[arg_name][0]} in Xray"
                    )
            for arg_name, (arg_type, optional) in vendor_args.items():
                if arg_type.endswith("!") and not optional and arg_name not in args:
                    problems.append(f"{name}.{field_name}: leaves out {arg_name}, which Xray requires")
    return problems


def test_the_vendor_schema_is_read_completely() -> None:
    vendor = vendor_types()
    assert len(vendor["Mutation"]) == 66 and len(vendor["Query"]) == 25  # as SOURCES.md says
    assert vendor["MutationAddTestStepArgs"]["issueId"] == ("String!", False)
    assert vendor["TestSetTestsArgs"]["start"] == ("Int", True)
    assert vendor["Test"]["steps"] == ("[Step]", False)


def test_the_stand_ins_schema_is_a_faithful_subset_of_xrays() -> None:
    problems = drift(schema())
    assert not problems, "\n".join(problems)
    used = set(schema().mutation_type.fields) if schema().mutation_type else set()
    assert {
        "addTestStep",
        "removeAllTestSteps",
        "addTestsToTestSet",
        "removeTestsFromTestSet",
        "createTestExecution",
        "updateTestRunStatus",
    } <= used
    queries = set(schema().query_type.fields)
    assert {"getTestRuns", "getTestExecution", "getTestExecutions"} <= queries


def test_the_check_catches_drift() -> None:
    sdl = SCHEMA_FILE.read_text(encoding="utf-8")
    for wrong in (
        sdl.replace(
            "removeAllTestSteps(issueId: String!, versionId: Int): String",
            "removeAllTestSteps(issueId: String!, versionId: Int): Boolean",
        ),
        sdl.replace("addTestStep(issueId: String!,", "addTestStep(issueId: String,"),
        sdl.replace(
            "getTests(issueIds: [String], jql: String, limit: Int!, start: Int)",
            "getTests(issueIds: [String], jql: String, start: Int)",
        ),
        sdl.replace("  result: String\n}", "  result: String\n  expected: String\n}"),
        sdl.replace("type TestType {", "type TestKind {").replace("testType: TestType", "testType: TestKind"),
        sdl.replace(
            "tests(issueIds: [String], limit: Int!, start: Int)",
            "tests(issueIds: [String], limit: Int!, start: Int, sort: String)",
        ),
        sdl.replace("getTestRuns(limit: Int!,", "getTestRuns(limit: Int,"),
        sdl.replace("  finishedOn: String\n", "  finishedOn: Int\n"),
        sdl.replace(
            "updateTestRunStatus(id: String!, status: String!): String", "updateTestRunStatus(id: String!): String"
        ),
    ):
        assert wrong != sdl
        assert drift(build_schema(wrong)), wrong[:80]


# -- what the publisher sends ----------------------------------------------------------------------------------


def model_of(n: int, word: str) -> Model:
    return checkout_model("xcontract", n, name="Contract checkout", action=word + " product {i}")


@pytest.fixture(scope="module")
def documents() -> Iterator[list[dict[str, Any]]]:
    log: list[Exchange] = []
    with recording_sandbox(log, GRAPHQL) as sb:
        sb.setup_flowcase("DEMO")
        sb.setup_xray("DEMO")

        async def cycle() -> None:
            async with jira_client(sb) as c:
                # publish, republish, change; then as Cucumber tests (their Gherkin definition), and back
                for n, word, kind in (
                    (3, "Choose", "manual"),
                    (3, "Choose", "manual"),
                    (2, "Select", "manual"),
                    (2, "Select", "cucumber"),
                    (2, "Select", "manual"),
                ):
                    model = model_of(n, word)
                    suite = all_decisions(model)
                    settings = PublishSettings(target="xray", xray_test_type=kind)  # type: ignore[arg-type]
                    call = PublishCall(c, model, suite, "DEMO-1", "DEMO", settings, settle_seconds=0, lease_timing=FAST)
                    await publish_to_target(call, sb.vendor_access())

        asyncio.run(cycle())

        async def keys() -> list[str]:
            async with jira_client(sb) as c:
                found, _ = await find_existing(c, "DEMO", "DEMO-1", "xcontract")
            return sorted(e.key for e in found.values() if OBSOLETE_LABEL not in e.labels)

        first, second = asyncio.run(keys())
        sb.xray_execution({first: "FAILED", second: "PASSED"})  # a tester's executions, through Xray's API
        sb.xray_execution({first: "PASSED"})

        async def results() -> None:
            async with jira_client(sb) as c:
                remote = await read_remote("xray", c, sb.vendor_access(), "DEMO", "DEMO-1", "xcontract")
            assert sorted(r.status for r in remote.runs.values()) == ["passed", "passed"]

        asyncio.run(results())
        yield [json.loads(ex.request) for ex in log]


def test_every_document_the_publisher_sends_is_valid_for_xrays_schema(documents: list[dict[str, Any]]) -> None:
    assert len(documents) > 8
    used: set[str] = set()
    for doc in documents:
        ast = parse(doc["query"])
        errors = validate(schema(), ast)
        assert not errors, (doc["query"], errors)
        used.update(
            re.findall(
                r"\b(addTestStep|removeAllTestSteps|addTestsToTestSet|removeTestsFromTestSet|"
                r"getTestSet|getTests|getTestRuns|createTestExecution|updateTestRunStatus|updateTestType|"
                r"updateGherkinTestDefinition)\(",
                doc["query"],
            )
        )
    assert used == {
        "addTestStep",
        "removeAllTestSteps",
        "addTestsToTestSet",
        "removeTestsFromTestSet",
        "getTestSet",
        "getTests",
        "updateTestType",  # Cucumber tests
        "updateGherkinTestDefinition",
        "getTestRuns",  # results read back
        "createTestExecution",  # the sandbox's tester
        "updateTestRunStatus",
    }
