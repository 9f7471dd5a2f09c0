"""axe-core (Deque's accessibility engine, from npm) run inside Chromium pages and frames.

The test setup installs the pinned ``axe-core`` package into ``.cache/axe-core`` (gitignored) with npm, once, the
way ``tests/test_jira_contract.py`` fetches the ADF schema; nothing is fetched while a page is tested, and the app
never ships or loads it. Without npm the accessibility tests are skipped unless ``FLOWCASE_REQUIRE_AXE=1`` (CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_PACKAGE = "axe-core@4.10.3"
AXE_DIR = ROOT / ".cache" / "axe-core"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
#: what fails a page: axe's two highest impacts
BLOCKING = ("serious", "critical")


def _give_up(message: str) -> None:
    if os.environ.get("FLOWCASE_REQUIRE_AXE") == "1":
        pytest.fail(message)
    pytest.skip(message)


def axe_source() -> str:
    """The axe-core script, installed with npm into the cache on first use."""
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            _give_up(f"npm is needed to install {AXE_PACKAGE} for the accessibility tests")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(AXE_DIR), AXE_PACKAGE],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not AXE_JS.exists():
            _give_up(f"npm install {AXE_PACKAGE} failed: {(done.stderr or done.stdout)[-500:]}")
    return AXE_JS.read_text(encoding="utf-8")


_RUN = """async () => {
  const result = await window.axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
  }));
}"""


def violations(frame: Any, source: str) -> list[dict[str, Any]]:
    """axe's violations in a page or frame (Playwright ``Page`` or ``Frame``), every impact."""
    if not frame.evaluate("() => !!window.axe"):
        frame.add_script_tag(content=source)  # test contexts bypass the app's CSP (conftest.py)
    found: list[dict[str, Any]] = frame.evaluate(_RUN)
    return found


def blocking(frame: Any, source: str) -> list[dict[str, Any]]:
    """The serious and critical violations only: what the accessibility tests require to be none."""
    return [v for v in violations(frame, source) if v["impact"] in BLOCKING]


def report(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['impact']}: {v['id']}: {v['help']}")
        lines += [f"    {n['target']}: {n['summary']}" for n in v["nodes"]]
    return "\n".join(lines)
