"""The editor names what the user creates and says what is not connected, in the names the user sees."""

from __future__ import annotations

from typing import Any

import pytest
from webtools import sign_in

pytestmark = pytest.mark.browser


def names(page: Any, bpmn_type: str) -> list[str]:
    return list(
        page.evaluate(
            f"window.flowcaseModeler.get('elementRegistry').filter(e => e.type === '{bpmn_type}' && !e.labelTarget)"
            ".map(e => e.businessObject.name || '')"
        )
    )


def test_a_step_from_the_palette_is_named_and_unreachable_is_warned(page: Any, app_url: str) -> None:
    sign_in(page, app_url, "/app/editor")
    page.wait_for_selector("#main[aria-busy='false']")
    box = page.locator("#canvas").bounding_box()
    page.click(".djs-palette .entry[data-action='create.task']")
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7)
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7)
    page.keyboard.press("Escape")
    created = names(page, "bpmn:Task")
    assert created and all(n.startswith("Step ") for n in created), created
    assert not any(n.startswith("Activity_") for n in created)

    # its table is headed by that name, and the problems speak of it by name, unreachable included
    page.wait_for_selector("#problems:not([hidden])")
    page.wait_for_function(
        "[...document.querySelectorAll('.fc-problem-link')]"
        ".some(b => b.textContent.includes('cannot be reached from the start'))"
    )
    problems = page.locator(".fc-problem-link").all_inner_texts()
    assert f"Warning: Step “{created[-1]}”: cannot be reached from the start" in problems, problems

    # a gateway and an end get names too
    page.click(".djs-palette .entry[data-action='create.exclusive-gateway']")
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.85)
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.85)
    page.keyboard.press("Escape")
    assert names(page, "bpmn:ExclusiveGateway") == ["Choice 1"]
    assert not [e for e in page.js_errors if "favicon" not in e]
