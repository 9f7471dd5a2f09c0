"""The HTML report in headless Chromium: choosing a test highlights exactly its path; screenshots go to docs/.

The browser comes from tests/browser/conftest.py (skipped only when chromium is missing and
FLOWCASE_REQUIRE_BROWSER is unset).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from webtools import SCREENSHOTS

from flowcase.export import export
from flowcase.export.diagram import path_of
from flowcase.generate import GenerateOptions, generate
from flowcase.model.io import load_path

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HIGHLIGHT = "rgb(0, 82, 204)"


def strokes(page: Any, selector: str) -> dict[str, str]:
    return dict(page.eval_on_selector_all(selector, "els => els.map(e => [e.dataset.ref, getComputedStyle(e).stroke])"))


@pytest.mark.parametrize(("example", "pick"), [("insurance-claim", 1), ("atm-withdrawal", 2)])
def test_selected_test_path_is_highlighted(browser: Any, tmp_path: Path, example: str, pick: int) -> None:
    model = load_path(ROOT / "examples" / f"{example}.yaml").model
    suite = generate(model, GenerateOptions(data="pairwise"))
    page_file = tmp_path / "report.html"
    page_file.write_text(export(suite, "html", model=model).text, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(page_file.as_uri())
    test = suite.tests[pick]
    page.click(f'label[data-test-id="{test.id}"]')
    path = path_of(model, test)

    edges = strokes(page, "path.edge")
    lit = {ref for ref, colour in edges.items() if colour == HIGHLIGHT}
    assert lit == {ref for ref in path.edges if ref in edges}
    assert lit, "nothing highlighted"
    node_refs = dict(
        page.eval_on_selector_all(
            "g.node", "els => els.map(e => [e.dataset.ref, getComputedStyle(e.querySelector('.shape')).stroke])"
        )
    )
    assert {r for r, c in node_refs.items() if c == HIGHLIGHT} == {r for r in path.nodes if r in node_refs}
    # The highlighted arrows are visible (painted, inside the viewport of their figure) and the details show.
    for arrow in page.locator(f'path.edge[data-tests~="t{pick + 1}"]').all():
        box = arrow.bounding_box()
        assert box is not None and box["width"] + box["height"] > 0
        assert arrow.evaluate("e => getComputedStyle(e).opacity") == "1"
        assert float(arrow.evaluate("e => getComputedStyle(e).strokeWidth").removesuffix("px")) > 3
    assert page.locator(f"#d-t{pick + 1}").is_visible()
    assert not page.locator("#d-t1").is_visible() or pick == 0
    assert page.locator(f"#d-t{pick + 1} h2").inner_text().startswith(test.id)
    assert [u for u in requests if not u.startswith("file://")] == []
    assert errors == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"report-{example}.png"))
    context.close()


def test_whole_diagram_choice_highlights_nothing(browser: Any, tmp_path: Path) -> None:
    model = load_path(ROOT / "examples" / "login.yaml").model
    suite = generate(model)
    page_file = tmp_path / "report.html"
    page_file.write_text(export(suite, "html", model=model).text, encoding="utf-8")
    page = browser.new_page()
    page.goto(page_file.as_uri())
    assert page.locator("#d-t1").is_visible()  # the first test is selected at first
    page.click('label[for="sel-none"]')
    assert HIGHLIGHT not in set(strokes(page, "path.edge").values())
    assert not page.locator("#d-t1").is_visible()
    page.close()
