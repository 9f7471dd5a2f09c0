"""bpmn.io itself in the tests: the vendored bpmn-js modeler in headless Chromium (shared by the BPMN tests)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
CHROMIUM = Path(os.environ.get("FLOWCASE_CHROMIUM", "/usr/bin/chromium"))
BPMN_JS = ROOT / "src" / "flowcase" / "web" / "static" / "vendor" / "bpmn-js-18.31.1" / "bpmn-modeler.production.min.js"
IMPORT_AND_SAVE = """async (xml) => {
  const modeler = new BpmnJS({container: '#canvas'});
  const result = await modeler.importXML(xml);
  const elements = modeler.get('elementRegistry').getAll().map(e => e.id);
  const saved = await modeler.saveXML({format: true});
  return {warnings: result.warnings.map(w => w.message), elements, xml: saved.xml};
}"""
# every diagram of the document, one after the other (bpmn-js shows one BPMNDiagram at a time)
IMPORT_EVERY_DIAGRAM = """async (xml) => {
  const modeler = new BpmnJS({container: '#canvas'});
  const result = await modeler.importXML(xml);
  const warnings = result.warnings.map(w => w.message);
  const elements = [];
  for (const diagram of modeler.getDefinitions().diagrams) {
    const opened = await modeler.open(diagram.id);
    warnings.push(...opened.warnings.map(w => w.message));
    elements.push(...modeler.get('elementRegistry').getAll().map(e => e.id));
  }
  return {warnings, elements};
}"""


def bpmn_io_page() -> Iterator[Any]:
    """A page with bpmn-js loaded and nothing reachable beyond it; skips when Chromium or bpmn-js is missing."""
    if not CHROMIUM.exists() or not BPMN_JS.exists():
        if os.environ.get("FLOWCASE_REQUIRE_BROWSER"):
            pytest.fail(f"FLOWCASE_REQUIRE_BROWSER is set but {CHROMIUM} or {BPMN_JS.name} is missing")
        pytest.skip("headless Chromium or the vendored bpmn-js is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.route("**/*", lambda route: route.abort())  # nothing leaves the machine
        page.set_content('<div id="canvas" style="width:1400px;height:900px"></div>')
        page.add_script_tag(path=str(BPMN_JS))
        yield page
        browser.close()
