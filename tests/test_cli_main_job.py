"""The command line as the README tells a tester to use it (issue 19's six cases), and one meaning of "steps"."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowcase.export import export
from flowcase.generate import generate
from flowcase.generate.suite import Suite, is_test_step
from flowcase.model.io import load_path

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = ROOT / "examples" / "checkout.yaml"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}  # this checkout's code, whatever the working directory
    return subprocess.run(
        [sys.executable, "-m", "flowcase", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def tests_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("cli")
    result = run("generate", str(CHECKOUT), "-o", "tests.json", cwd=where)
    assert result.returncode == 0, result.stderr
    return where / "tests.json"


def test_export_to_a_directory_named_with_a_slash_writes_one_file_per_format(tests_json: Path) -> None:
    where = tests_json.parent
    for fmt in ("gherkin", "csv", "robot"):
        result = run("export", "tests.json", "-f", fmt, "-o", "features/", cwd=where)
        assert result.returncode == 0, result.stderr
    assert (where / "features").is_dir()
    assert sorted(p.name for p in (where / "features").iterdir()) == [
        "checkout.csv",
        "checkout.feature",
        "checkout.robot",
    ]
    assert (where / "features" / "checkout.feature").read_text().startswith(("Feature:", "@", "#"))


def test_html_report_from_a_tests_file_needs_no_model(tests_json: Path) -> None:
    result = run("export", "tests.json", "-f", "html", "-o", "report.html", cwd=tests_json.parent)
    assert result.returncode == 0, result.stderr
    page = (tests_json.parent / "report.html").read_text()
    assert "<svg" in page and 'data-ref="checkout/coupon"' in page


def test_a_tests_file_whose_stored_model_was_edited_is_refused(tests_json: Path, tmp_path: Path) -> None:
    data = json.loads(tests_json.read_text())
    data["source_model"]["name"] = "Something else"
    (tmp_path / "t.json").write_text(json.dumps(data))
    result = run("export", "t.json", "-f", "html", cwd=tmp_path)
    assert result.returncode == 1
    assert "does not match its tests (pass --model MODEL)" in result.stderr


def test_a_binary_file_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    for command in (("validate", "diagram.png"), ("generate", "diagram.png"), ("export", "diagram.png", "-f", "csv")):
        result = run(*command, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr.startswith("diagram.png: error: a PNG image file (byte 0x89 at offset 0)"), result.stderr
        assert "Traceback" not in result.stderr


def test_an_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    (tmp_path / "new.yaml").write_text("\n")
    result = run("validate", "new.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("new.yaml: error: the file is empty: a model starts with 'flowcase: \"1\"'")


def test_a_misspelt_reference_suggests_the_name(tmp_path: Path) -> None:
    text = CHECKOUT.read_text().replace("next: coupon\n", "next: cupon\n", 1)
    (tmp_path / "typo.yaml").write_text(text)
    result = run("validate", "typo.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "leads to unknown node 'cupon'; did you mean 'coupon'? [unknown-target]" in result.stderr
    (tmp_path / "name.yaml").write_text(CHECKOUT.read_text().replace('coupon == "none"', 'cupon == "none"', 1))
    result = run("validate", "name.yaml", cwd=tmp_path)
    assert "unknown name 'cupon'; did you mean 'coupon'?" in result.stderr


def test_steps_mean_the_same_in_the_cli_summary_and_every_report(tests_json: Path) -> None:
    result = run("generate", str(CHECKOUT), cwd=tests_json.parent)
    suite = Suite.model_validate_json(result.stdout)
    steps = sum(len(t.test_steps()) for t in suite.tests)
    assert re.match(rf"{len(suite.tests)} tests, {steps} steps ", result.stderr)
    # no start node or routing step is a step a tester performs
    assert all(s.node != "start" for t in suite.tests for s in t.test_steps())
    assert all(is_test_step(s) for t in suite.tests for s in t.test_steps())
    model = load_path(CHECKOUT).model
    page = export(suite, "html", model=model).text
    assert [int(n) for n in re.findall(r'<span class="meta">(\d+) steps', page)] == [
        len(t.test_steps()) for t in suite.tests
    ]
    markdown = export(suite, "markdown", model=model).text
    assert f"Test steps: {steps}" in markdown


def test_the_generated_suite_without_its_model_is_byte_identical_to_the_library_one(tests_json: Path) -> None:
    model = load_path(CHECKOUT).model
    written = Suite.model_validate_json(tests_json.read_text())
    assert written.source_model == model.to_data()
    assert written.model_copy(update={"source_model": None}).model_dump_json() == generate(model).model_dump_json()
    assert "source_model" not in generate(model).model_dump_json()
