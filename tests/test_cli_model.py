"""The model commands as a user runs them: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from flowcase.model.io import load_path
from flowcase.model.schema import model_schema

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
flowcase: "1"
id: coupon
name: Apply a coupon
parameters:
  - name: coupon
    values: [none, valid, expired]
workflows:
  - id: main
    nodes:
      - id: start
        kind: start
        next: enter
      - id: enter
        kind: step
        name: Enter coupon code
        decisions:
          - id: ok
            when: coupon == "valid"
            action: Enter a valid code
            expected: The discount is shown
            next: paid
          - id: bad
            when: coupon == "expired"
            action: Enter an expired code
            expected: "Error: the coupon has expired"
            next: paid
          - id: skip
            when: coupon == "none"
            next: paid
      - id: paid
        kind: end
        name: success
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowcase", *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "coupon.yaml"
    path.write_text(GOOD)
    return path


def test_validate_ok(good: Path) -> None:
    result = run("validate", str(good))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"{good}: ok (1 workflow(s), 3 nodes, 4 decisions)"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "next: paid\n      - id: paid",
            "next: nowhere\n      - id: paid",
            ":29:19: error: workflow 'main', step 'enter', decision 'skip', field 'next': "
            "leads to unknown node 'nowhere' [unknown-target]",
        ),
        (
            'when: coupon == "valid"',
            'when: coupon == "valid" and',
            ":18:40: error: workflow 'main', step 'enter', "
            "decision 'ok', field 'when': expression ends too early [bad-expression]",
        ),
        ("        kind: step\n", "        kind: step\n   bad: [\n", ":15:4: error: invalid YAML: "),
    ],
)
def test_broken_models_give_one_precise_line(good: Path, old: str, new: str, expected: str) -> None:
    good.write_text(GOOD.replace(old, new, 1))
    result = run("validate", str(good))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(str(good) + expected)
    assert "Traceback" not in result.stderr


def test_missing_file_and_usage_errors(tmp_path: Path) -> None:
    missing = run("validate", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"flowcase: error: no such file: {tmp_path / 'nope.yaml'}"
    usage = run("convert", str(tmp_path / "x.yaml"), "--to", "pdf")
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


def test_strict_turns_warnings_into_failures(good: Path) -> None:
    good.write_text(GOOD.replace('when: coupon == "none"', 'when: coupon == "lost"'))
    assert run("validate", str(good)).returncode == 0
    strict = run("validate", "--strict", "--json", str(good))
    assert strict.returncode == 1
    [report] = json.loads(strict.stdout)
    assert report["valid"] is False
    assert [d["code"] for d in report["diagnostics"]] == ["never-holds", "incomplete-table"]


def test_convert_between_json_and_yaml_keeps_the_model(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "coupon.json"
    assert run("convert", str(good), "--to", "json", "-o", str(out)).returncode == 0
    back = run("convert", str(out), "--to", "yaml")
    assert back.returncode == 0
    assert yaml.safe_load(back.stdout) == yaml.safe_load(GOOD)
    assert load_path(out).model == load_path(good).model


def test_convert_refuses_an_invalid_model_and_writes_nothing(good: Path, tmp_path: Path) -> None:
    good.write_text(GOOD.replace("next: paid", "next: nowhere", 1))
    out = tmp_path / "out.json"
    result = run("convert", str(good), "--to", "json", "-o", str(out))
    assert result.returncode == 1
    assert not out.exists()


def test_show_prints_the_tables(good: Path) -> None:
    result = run("show", str(good))
    assert result.returncode == 0
    for text in ("Apply a coupon", "coupon: none, valid, expired", "Enter coupon code", "The discount is shown"):
        assert text in result.stdout


def test_every_command_has_help() -> None:
    for command in ([], ["validate"], ["convert"], ["schema"], ["show"]):
        result = run(*command, "--help")
        assert result.returncode == 0
        assert "Usage:" in result.stdout


def test_published_schema_is_current_and_accepts_models(good: Path) -> None:
    published = json.loads((ROOT / "docs/schema/model.schema.json").read_text())
    assert published == model_schema(), "run: flowcase schema -o docs/schema/model.schema.json"
    jsonschema.Draft202012Validator.check_schema(published)
    validator = jsonschema.Draft202012Validator(published)
    assert list(validator.iter_errors(yaml.safe_load(GOOD))) == []
    broken = yaml.safe_load(GOOD)
    broken["workflows"][0]["nodes"][0]["kind"] = "begin"
    assert list(validator.iter_errors(broken))
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        assert list(validator.iter_errors(yaml.safe_load(example.read_text()))) == [], example


def test_help_loads_no_heavy_library() -> None:
    """``flowcase --help`` (and ``--version``) import only click and the command table: no numpy, SQLAlchemy,
    httpx or generator. Checked in a fresh interpreter, where nothing was imported before."""
    script = (
        "import sys\n"
        "from flowcase.cli import main\n"
        "for args in (['--help'], ['--version'], ['jira', '--help']):\n"
        "    try:\n"
        "        main(args, prog_name='flowcase')\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "    if args[0].startswith('--'):\n"
        "        heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'numpy', 'scipy', 'sqlalchemy', 'httpx',"
        " 'pydantic', 'starlette', 'procrastinate'} or m.startswith('flowcase.generate'))\n"
        "        print('HEAVY', args[0], heavy)\n"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": src},
        check=True,
    ).stdout
    assert "HEAVY --help []" in out and "HEAVY --version []" in out
    assert "worker" in out and "Run queued publish jobs" in out  # every command is listed with its help


def test_the_command_table_matches_the_commands() -> None:
    import click

    from flowcase.cli import COMMANDS, main

    ctx = click.Context(main)
    for name, (module, short_help) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.callback is not None, name
        assert command.callback.__module__ == module, name
        assert command.get_short_help_str(limit=1000) == short_help, name
    assert set(main.commands) == set(COMMANDS)
