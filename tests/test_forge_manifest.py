"""forge/manifest.yml: valid against Forge's published manifest schema, and consistent with the code it names."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from flowcase.config import Settings
from flowcase.hosts.forge.routes import INSTALL_EVENTS, UNINSTALL_EVENTS
from flowcase.web.forge_bundle import RESOURCES, build, render

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "forge"
VENDOR = ROOT / "src" / "flowcase" / "web" / "static" / "vendor" / "forge-bridge-7.2.0"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    source = json.loads((DATA / "SOURCE.json").read_text())
    raw = (DATA / "manifest-schema.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == source["sha256"], "the vendored schema changed: re-record SOURCE.json"
    assert source["package"] == "@forge/manifest"
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "forge" / "manifest.yml").read_text())
    return loaded


def errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(document)]


def test_the_manifest_validates_against_the_published_schema(schema: dict[str, Any], manifest: dict[str, Any]) -> None:
    assert errors(schema, manifest) == []


@pytest.mark.parametrize("mutation", ["no app id", "long remote key", "bad connect key", "bad endpoint ref type"])
def test_the_schema_check_would_catch_broken_manifests(
    schema: dict[str, Any], manifest: dict[str, Any], mutation: str
) -> None:
    broken = copy.deepcopy(manifest)
    if mutation == "no app id":
        del broken["app"]["id"]
    elif mutation == "long remote key":
        broken["remotes"][0]["key"] = "x" * 30
    elif mutation == "bad connect key":
        broken["app"]["connect"]["key"] = "not a key!"
    else:
        broken["modules"]["jira:issuePanel"][0]["resolver"] = {"endpoint": 1}
    assert errors(schema, broken)


def test_the_manifest_matches_the_code(manifest: dict[str, Any]) -> None:
    modules = manifest["modules"]
    resources = {r["key"] for r in manifest["resources"]}
    assert resources == set(RESOURCES)  # every built resource, incl. the editor modal host-forge.js opens
    for r in manifest["resources"]:
        assert r["path"] == f"build/{r['key']}"
    endpoints = {e["key"]: e for e in modules["endpoint"]}
    remotes = {r["key"] for r in manifest["remotes"]}
    for kind in ("jira:issuePanel", "jira:projectPage", "jira:adminPage"):
        for module in modules[kind]:
            assert module["resource"] in resources
            assert endpoints[module["resolver"]["endpoint"]]["remote"] in remotes
    trigger = modules["trigger"][0]
    assert endpoints[trigger["endpoint"]]["route"]["path"] == "/forge/lifecycle"
    assert set(trigger["events"]) == set(INSTALL_EVENTS + UNINSTALL_EVENTS)
    # the Connect key is the app key of the Connect descriptor, so Connect installations migrate
    assert manifest["app"]["connect"]["key"] == Settings(env="test").app_key
    assert manifest["app"]["connect"]["remote"] in remotes
    remote = manifest["remotes"][0]
    assert remote["auth"]["appUserToken"]["enabled"] and remote["auth"]["appSystemToken"]["enabled"]


def test_custom_ui_pages_are_static_and_load_through_the_forge_bridge(tmp_path: Path) -> None:
    folders = build(tmp_path)
    assert sorted(f.name for f in folders) == sorted(RESOURCES)
    for resource, (_template, script) in RESOURCES.items():
        html = (tmp_path / resource / "index.html").read_text()
        assert re.search(rf'src="./static/js/host-forge.js\?v=[0-9a-f]{{12}}" data-flowcase-page="./{script}\?v=', html)
        assert '"/static/' not in html and "atlassian-connect" not in html and "all.js" not in html
        assert (tmp_path / resource / "static" / "js" / script).is_file()
        assert (tmp_path / resource / "static" / "js" / "host-forge.js").is_file()
    assert '"mode": "forge"' in render("issue-panel")


def test_the_vendored_forge_bridge_matches_its_record() -> None:
    record = json.loads((VENDOR / "SOURCE.json").read_text())
    assert record["package"] == "@forge/bridge" and record["version"] == "7.2.0"
    for name, digest in record["files"].items():
        assert hashlib.sha256((VENDOR.parent / name).read_bytes()).hexdigest() == digest, name
    bundle = (VENDOR / "forge-bridge.js").read_text()
    assert "__bridge" in bundle and "ui-" in bundle  # talks to the host's callBridge, invokeRemote fetch type
