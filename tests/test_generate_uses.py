"""The parameters a test uses: those read by the conditions and assignments on its path (the tests view shows only
these), through the API too."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from flowcase.config import Settings
from flowcase.generate import generate
from flowcase.generate.options import GenerateOptions
from flowcase.generate.uses import parameters_used
from flowcase.hosts.standalone import StandaloneHost
from flowcase.model.io import load_path
from flowcase.model.types import Model
from flowcase.web.app import create_app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def small_model() -> Model:
    return Model.model_validate(
        {
            "id": "m",
            "parameters": [
                {"name": "a", "values": [1, 2]},
                {"name": "b", "values": ["x", "y"]},
                {"name": "unused", "values": [True, False]},
            ],
            "variables": [{"name": "v", "initial": 0}],
            "workflows": [
                {
                    "id": "main",
                    "nodes": [
                        {"id": "start", "kind": "start", "next": "check"},
                        {
                            "id": "check",
                            "kind": "choice",
                            "decisions": [
                                {"id": "big", "when": "a == 2", "next": "bump"},
                                {"id": "small", "when": "a == 1", "next": "done"},
                            ],
                        },
                        {"id": "bump", "kind": "step", "decisions": [{"set": "v = v + 1", "next": "fork"}]},
                        {
                            "id": "fork",
                            "kind": "choice",
                            "decisions": [
                                {"id": "bx", "when": 'b == "x"', "next": "done"},
                                {"id": "by", "when": 'b == "y"', "next": "done"},
                            ],
                        },
                        {"id": "done", "kind": "end"},
                    ],
                }
            ],
        }
    )


def test_only_the_parameters_read_on_the_path_are_used() -> None:
    model = small_model()
    suite = generate(model, GenerateOptions())
    uses = parameters_used(model, suite.tests)
    by_end = {tuple(s.decision for s in t.steps if s.node in ("check", "fork")): uses[t.id] for t in suite.tests}
    assert by_end[("small",)] == ["a"]  # the short path never reads b
    assert by_end[("big", "bx")] == ["a", "b"] or by_end[("big", "by")] == ["a", "b"]
    assert all("unused" not in names for names in uses.values())
    assert all(set(t.data) == {"a", "b", "unused"} for t in suite.tests)  # the suite's data itself is unchanged


def test_sub_workflow_steps_count_and_the_api_returns_the_uses() -> None:
    model = load_path(EXAMPLES / "insurance-claim.yaml").model
    suite = generate(model, GenerateOptions())
    uses = parameters_used(model, suite.tests)
    assert any("expert_finding" in uses[t.id] for t in suite.tests if any(">" in s.workflow for s in t.steps))
    assert any(len(uses[t.id]) < len(model.parameters) for t in suite.tests)

    token = "local-test-token-0123456789"
    client = TestClient(create_app(Settings(env="test"), hosts=[StandaloneHost(None, token)]))
    client.cookies.set("flowcase_local", token)
    r = client.post("/api/generate", json={"doc": {"model": model.to_data()}}, headers={"X-Flowcase-Client": "web"})
    assert r.status_code == 200
    body = r.json()
    assert body["uses"] == {t["id"]: uses[t["id"]] for t in body["suite"]["tests"]}
