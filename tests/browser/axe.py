"""axe-core (Deque's accessibility engine, from npm) run inside Chromium pages and frames.

The test setup installs the pinned ``axe-core`` package into ``.cache/axe-core`` (gitignored) with npm, once, as
``tests/test_jira_contract.py`` fetches the ADF schema (both through ``tests/npmcache.py``); nothing is fetched
while a page is tested, and the app never ships or loads it. Without npm the accessibility tests are skipped
unless ``FLOWCASE_REQUIRE_AXE=1`` (CI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from npmcache import npm_cached

ROOT = Path(__file__).resolve().parents[2]
AXE_PACKAGE = "axe-core@4.10.3"
AXE_DIR = ROOT / ".cache" / "axe-core"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
#: what fails a page: axe's two highest impacts
BLOCKING = ("serious", "critical")


def axe_source() -> str:
    """The axe-core script, installed with npm into the cache on first use."""
    script = npm_cached(
        AXE_PACKAGE,
        AXE_DIR,
        AXE_JS,
        require_env="FLOWCASE_REQUIRE_AXE",
        no_npm=f"npm is needed to install {AXE_PACKAGE} for the accessibility tests",
    )
    return script.read_text(encoding="utf-8")


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
