"""``flowcase generate`` and ``flowcase diff`` through click's runner, on real files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from flowcase.cli import main
from flowcase.generate import Suite

MODEL = """
flowcase: "1"
id: door
parameters: [{name: key, values: [right, wrong]}]
workflows:
  - id: main
    nodes:
      - {id: start, kind: start, next: lock}
      - id: lock
        kind: step
        decisions:
          - {id: open, when: "key == 'right'", action: turn the key, expected: door opens, next: inside}
          - {id: stuck, when: "key == 'wrong'", action: turn the key, expected: nothing, next: outside}
      - {id: inside, kind: end, name: inside}
      - {id: outside, kind: end, name: outside}
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_generate_writes_json_and_a_summary(tmp_path: Path) -> None:
    model = write(tmp_path, "door.yaml", MODEL)
    out = tmp_path / "tests.json"
    result = CliRunner().invoke(main, ["generate", model, "-o", str(out)])
    assert result.exit_code == 0, result.output
    suite = Suite.model_validate_json(out.read_text())
    assert len(suite.tests) == 2 and suite.optimal
    # a step is what a tester performs: the start node is routing, not a step
    assert "2 tests, 2 steps (all-decisions; lower bound 2; optimal)" in result.stderr
    again = CliRunner().invoke(main, ["generate", model])
    assert again.stdout == out.read_text()


def test_generate_options_and_errors(tmp_path: Path) -> None:
    model = write(tmp_path, "door.yaml", MODEL)
    runner = CliRunner()
    result = runner.invoke(main, ["generate", model, "--purpose", "in: reach inside"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["criterion"] == "purposes"
    result = runner.invoke(main, ["generate", model, "--purpose", "pass nowhere"])
    assert result.exit_code == 1
    assert "error: purpose refers to 'nowhere'" in result.stderr and "Traceback" not in result.output
    result = runner.invoke(main, ["generate", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1 and "no such file" in result.stderr
    broken = write(tmp_path, "broken.yaml", MODEL.replace("next: inside}", "next: nowhere}"))
    result = runner.invoke(main, ["generate", broken])
    assert result.exit_code == 1 and "has errors" in result.stderr
    result = runner.invoke(main, ["generate", model, "--criterion", "all-paths", "--max-paths", "1"])
    assert result.exit_code == 1 and "more than the limit of 1" in result.stderr


def test_diff_with_previous_tests(tmp_path: Path) -> None:
    old = write(tmp_path, "old.yaml", MODEL)
    new = write(tmp_path, "new.yaml", MODEL.replace("expected: nothing", "expected: an alarm rings"))
    runner = CliRunner()
    previous = tmp_path / "tests.json"
    assert runner.invoke(main, ["generate", old, "-o", str(previous)]).exit_code == 0
    result = runner.invoke(main, ["diff", old, new, "--tests", str(previous), "--json", "-o", str(tmp_path / "n.json")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["unchanged"]) == 1 and len(data["updated"]) == 1 and not data["new"] and not data["obsolete"]
    assert "updated: 1" in result.stderr
    bad = write(tmp_path, "bad.json", '{"format": "nope"}')
    result = runner.invoke(main, ["diff", old, new, "--tests", bad])
    assert result.exit_code == 1 and "is not a flowcase suite" in result.stderr
