"""Hostile model files: alias bombs, deep nesting, huge element counts. Each is a clear error, never a hang or a 500.

The alias bomb is the attack that froze the server: a few hundred bytes of YAML whose aliases expand to millions of
values. It is refused where the first anchor appears, before anything is expanded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from builders import standalone_client
from flowcase.model import io
from flowcase.model.diagnostics import ModelError

TOKEN = "local-test-token-0123456789"
HEADERS = {"X-Flowcase-Client": "web"}


def alias_bomb(levels: int = 7) -> str:
    """The classic 'billion laughs' in YAML: each level lists the previous one nine times."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def deep_yaml(depth: int) -> str:
    return "flowcase: '1'\nid: x\nname: " + "[" * depth + "]" * depth + "\n"


def deep_json(depth: int) -> str:
    return '{"flowcase": "1", "id": "x", "name": ' + "[" * depth + "]" * depth + "}"


@pytest.fixture
def client() -> TestClient:
    return standalone_client(TOKEN)


def test_the_alias_bomb_is_refused_at_its_first_anchor_without_expanding() -> None:
    text = alias_bomb(7)
    assert len(text) < 600
    tracemalloc.start()
    try:
        with pytest.raises(ModelError) as caught:
            io.loads(text, "yaml", source="bomb.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (d,) = caught.value.diagnostics
    assert d.code == "alias"
    assert "anchors" in d.message
    assert (d.line, d.column) == (1, 5)
    assert peak < 50 * 1024 * 1024


def test_an_alias_alone_is_refused_with_its_position() -> None:
    text = "flowcase: '1'\nid: x\nname: a\nworkflows:\n  - *w\n"
    with pytest.raises(ModelError) as caught:
        io.loads(text, "yaml")
    (d,) = caught.value.diagnostics
    assert (d.code, d.line, d.column) == ("alias", 5, 5)
    assert "aliases" in d.message


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("yaml", deep_yaml(20_000)),
        ("json", deep_json(20_000)),
        ("graphwalker", '{"models": ' + "[" * 20_000 + "]" * 20_000 + "}"),
        ("bpmn", "<a>" * 20_000 + "</a>" * 20_000),
    ],
)
def test_nesting_20000_deep_is_a_clear_error_in_every_format(fmt: io.Format, text: str) -> None:
    with pytest.raises(ModelError) as caught:
        io.loads(text, fmt)
    (d,) = caught.value.diagnostics
    assert d.code == "too-deep"
    assert str(io.MAX_DEPTH) in d.message


@pytest.mark.parametrize("depth", [io.MAX_DEPTH + 6, 20_000])  # parsed, then refused; beyond the parser's recursion
def test_json_too_deep_is_refused_where_it_first_nests_too_deep(depth: int) -> None:
    text = '{"flowcase": "1",\n "id": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(ModelError) as caught:
        io.loads(text, "json")
    (d,) = caught.value.diagnostics
    # the object is the first level: the (MAX_DEPTH)th bracket opens one level too many
    assert (d.code, d.line, d.column) == ("too-deep", 2, len(' "id": ') + io.MAX_DEPTH)


def test_nesting_within_the_limit_is_read() -> None:
    with pytest.raises(ModelError) as caught:  # read, then refused by the schema, not by the depth limit
        io.loads(deep_json(io.MAX_DEPTH - 2), "json")
    assert {d.code for d in caught.value.diagnostics} == {"schema"}


def test_the_json_depth_check_is_not_fooled_by_brackets_in_strings() -> None:
    text = json.dumps({"flowcase": "1", "id": "x", "name": "[" * 10_000, "workflows": []})
    with pytest.raises(ModelError) as caught:
        io.loads(text, "json")
    assert "too-deep" not in {d.code for d in caught.value.diagnostics}


def test_node_count_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowcase.model import source

    monkeypatch.setattr(io, "MAX_NODES", 1000)
    monkeypatch.setattr(source, "MAX_NODES", 1000)  # where the readers' shared limits live
    values = ", ".join(["0"] * 2000)
    for fmt, text in (("yaml", f"name: [{values}]\n"), ("json", f'{{"name": [{values}]}}')):
        with pytest.raises(ModelError) as caught:
            io.loads(text, fmt)  # type: ignore[arg-type]
        assert caught.value.diagnostics[0].code == "too-large"


def test_bpmn_element_count_is_bounded_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowcase.model.bpmn import reader

    monkeypatch.setattr(reader, "MAX_XML_ELEMENTS", 100)
    with pytest.raises(ModelError) as caught:
        io.loads("<a>" + "<b/>" * 500 + "</a>", "bpmn")
    assert caught.value.diagnostics[0].code == "too-large"


def test_validate_refuses_the_alias_file_with_exit_1_and_one_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(7))
    r = subprocess.run(
        [sys.executable, "-m", "flowcase", "validate", str(bomb)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 1
    assert "anchors" in r.stderr + r.stdout
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("bomb.yaml", alias_bomb(7)),
        ("deep.yaml", deep_yaml(20_000)),
        ("deep.json", deep_json(20_000)),
        ("deep.bpmn", "<a>" * 20_000 + "</a>" * 20_000),
    ],
)
def test_web_import_answers_4xx_for_hostile_files(client: TestClient, filename: str, text: str) -> None:
    r = client.post("/api/models/import", json={"text": text, "filename": filename}, headers=HEADERS)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid-model"
    assert error["diagnostics"][0]["code"] in {"alias", "too-deep"}


def test_a_deep_json_body_is_a_400_not_a_500(client: TestClient) -> None:
    body = '{"doc": {"model": ' + deep_json(20_000) + "}}"
    r = client.post("/api/models/validate", content=body, headers={**HEADERS, "content-type": "application/json"})
    assert r.status_code in (400, 422), r.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
            max_leaves=30,
        ).map(json.dumps),
    ),
    filename=st.sampled_from(["m.yaml", "m.json", "m.bpmn", "m.graphwalker.json", "m.txt"]),
)
def test_any_text_imported_is_answered_without_a_server_error(client: TestClient, text: str, filename: str) -> None:
    r = client.post("/api/models/import", json={"text": text, "filename": filename}, headers=HEADERS)
    assert r.status_code in (200, 413, 422), r.text
    if r.status_code != 200:
        assert r.json()["error"]["message"]
