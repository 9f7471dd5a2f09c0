"""Robot Framework and pytest skeletons: Robot's own parser and dry run accept them; pytest collects them."""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import robot
from robot.api import TestSuiteBuilder as SuiteBuilder
from robot.api import get_model
from robot.utils import unescape

from flowcase.export import export
from flowcase.export.common import one_line, visible_steps
from flowcase.export.robot import escape
from flowcase.generate.suite import Suite
from test_export_samples import NASTY, sample_suite


def robot_errors(text: str) -> list[str]:
    model = get_model(io.StringIO(text))
    return [str(e) for node in ast.walk(model) for e in (getattr(node, "errors", ()) or ())]


def check_robot(text: str, suite: Suite, tmp_path: Path) -> Any:
    """No parse error, one test per test with its id tag, and a dry run (keywords and arguments) that passes."""
    assert robot_errors(text) == []
    path = tmp_path / "suite.robot"
    path.write_text(text, encoding="utf-8")
    built = SuiteBuilder().build(str(path))
    assert len(built.tests) == len(suite.tests)
    for case, test in zip(built.tests, suite.tests, strict=True):
        assert case.name.startswith(test.id)
        assert f"id:{test.id}" in case.tags
    out = io.StringIO()
    rc = robot.run(str(path), dryrun=True, output="NONE", log="NONE", report="NONE", stdout=out, stderr=out)
    assert rc == 0, out.getvalue()
    return built


def test_robot_suite_parses_and_dry_runs(tmp_path: Path) -> None:
    suite = sample_suite()
    built = check_robot(export(suite, "robot").text, suite, tmp_path)
    outline = built.tests[0]
    assert outline.template == "Path TC-0a1b2c3d"
    assert [kw.args for kw in outline.body] == [
        ("code=valid", "size=S", "paid=true"),
        ("code=valid", "size=M", "paid=true"),
        ("code=valid", "size=L", "paid=true"),
    ]
    unpaid = built.tests[1]
    assert [kw.name for kw in unpaid.body] == ["Enter code - ok", "Paid? - not_paid", "Verify payment - stop"]
    assert unpaid.body[0].args == ("code=valid",)
    assert {"PICK-1", "priority:high"} <= set(unpaid.tags)


def test_robot_keeps_hostile_text_literal(tmp_path: Path) -> None:
    suite = sample_suite()
    text = export(suite, "robot").text
    path = tmp_path / "suite.robot"
    path.write_text(text, encoding="utf-8")
    built = SuiteBuilder().build(str(path))
    keywords = {kw.name: kw for kw in built.resource.keywords}
    give_up = keywords["Enter code - give_up"]
    first, *_ = give_up.doc.splitlines()
    assert unescape(first) == f"Action: {one_line(NASTY)}"
    assert "\\${var}" in first  # escaped, so Robot does not resolve it as a variable
    assert escape("  two  spaces ") == "\\ \\ two \\ spaces\\ "
    assert escape("") == "${EMPTY}" and escape("#x") == "\\#x"


def run_pytest(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args, str(path)],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_pytest(text: str, suite: Suite, tmp_path: Path) -> list[str]:
    """pytest collects one item per test and variant, every item named after its stable id."""
    ast.parse(text)
    path = tmp_path / "test_generated.py"
    path.write_text(text, encoding="utf-8")
    result = run_pytest(path, "--collect-only")
    assert result.returncode == 0, result.stdout + result.stderr
    items = [line for line in result.stdout.splitlines() if "::" in line]
    assert len(items) == sum(max(1, len(t.variants)) for t in suite.tests)
    for test in suite.tests:
        assert any(re.search(rf"::test_{test.id.lower().replace('-', '_')}_", i) for i in items), test.id
    return items


def test_pytest_skeleton_collects_and_every_test_hits_a_stub(tmp_path: Path) -> None:
    suite = sample_suite()
    text = export(suite, "pytest").text
    items = check_pytest(text, suite, tmp_path)
    assert [i.rsplit("[", 1)[-1] for i in items[:3]] == ["v1]", "v2]", "v3]"]
    result = run_pytest(tmp_path / "test_generated.py", "--tb=line", "-rN")
    assert f"{len(items)} failed" in result.stdout
    assert result.stdout.count("E   NotImplementedError: pickup/enter_code#ok") == 4  # 3 variants + the unpaid test
    # The steps appear as comments in path order.
    body = text[text.index("def test_tc_4e5f6a7b") :]
    calls = re.findall(r"^    (step_\w+)\(data\)", body, flags=re.M)[: len(visible_steps(suite.tests[1]))]
    assert calls == ["step_enter_code__ok", "step_paid__not_paid", "step_verify_payment__stop"]


def test_pytest_skeleton_keeps_value_types_and_hostile_text(tmp_path: Path) -> None:
    text = export(sample_suite(), "pytest").text
    tree = ast.parse(text)
    namespace: dict[str, Any] = {}
    exec(compile(tree, "generated", "exec"), namespace)
    name = next(n for n in namespace if n.startswith("test_tc_8c9d0e1f_say_hi_pipe_backslash_var_list"))
    doc = namespace[name].__doc__
    assert doc.splitlines()[0] == f"TC-8c9d0e1f: {one_line(NASTY)}"
    assert "data: Data = {'code': 'valid', 'size': 'M', 'paid': False}" in text
