"""The self-contained HTML report: one file, inline CSS and SVG, no script, nothing fetched.

The tests are radio buttons; choosing one highlights its path on the diagrams and shows its steps. This is
pure CSS: every diagram element lists the tests passing it in ``data-tests`` and, for each test key ``tN``,
the page has rules like ``body:has(#tN:checked) .edge[data-tests~="tN"] {…}``.
"""

from __future__ import annotations

from html import escape

from flowcase.export.common import action_of, columns_of, one_line, scalar_text, visible_steps
from flowcase.export.diagram import MARKERS, path_of, svg
from flowcase.export.report import coverage_summary, facts_of, headline, percent, uncovered
from flowcase.export.results import Results, heat
from flowcase.generate.requirements import requirement_matrix
from flowcase.generate.suite import Suite, TestCase
from flowcase.model.types import Model

HIGHLIGHT = "#0052cc"

CSS = """
:root { --hl: #0052cc; --ink: #172b4d; --muted: #5e6c84; --line: #dfe1e6; --soft: #f4f5f7; --ok: #006644;
  --bad: #bf2600; font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
body { margin: 0; color: var(--ink); background: #fff; }
header { padding: 16px 24px 8px; border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 17px; margin: 20px 0 8px; } h3 { font-size: 15px; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0; padding: 0; list-style: none;
  color: var(--muted); }
.layout { display: grid; grid-template-columns: minmax(240px, 320px) 1fr; gap: 0; align-items: start; }
.tests { border-right: 1px solid var(--line); max-height: calc(100vh - 90px); overflow: auto;
  position: sticky; top: 0; padding: 8px 0; }
.tests h2 { margin: 4px 16px 8px; }
.sel { position: absolute; opacity: 0; pointer-events: none; }
.tests label { display: block; padding: 7px 16px; cursor: pointer; border-left: 4px solid transparent; }
.tests label:hover { background: var(--soft); }
.sel:checked + label { background: #e9f2ff; border-left-color: var(--hl); }
.sel:focus-visible + label { outline: 2px solid var(--hl); outline-offset: -2px; }
.tid { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--muted); display: block; }
.meta { color: var(--muted); font-size: 12px; display: block; }
.view { padding: 8px 24px 24px; min-width: 0; }
figure { margin: 0 0 12px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { font-weight: 600; padding: 6px 10px; background: var(--soft); border-bottom: 1px solid var(--line); }
svg.diagram { display: block; }
.shape { fill: #fff; stroke: #6b778c; stroke-width: 1.5; }
.kind-start .shape { fill: #e3fcef; stroke: #00875a; } .kind-end .shape { fill: #ffebe6; stroke: #de350b; }
.kind-end .inner { fill: none; stroke: #de350b; stroke-width: 1; }
.kind-choice .shape { fill: #fffae6; stroke: #ff991f; } .kind-call .inner { fill: none; stroke: #6b778c; }
.label { font-size: 12px; fill: var(--ink); } .edge-label { font-size: 11px; fill: var(--muted); }
.edge { fill: none; stroke: #8993a4; stroke-width: 1.5; marker-end: url(#arrow); }
.arrowhead { fill: #8993a4; } .arrowhead-hl { fill: var(--hl); }
.defs { position: absolute; }
.detail { display: none; } .none-detail { display: none; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; width: 1%; white-space: nowrap; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.bad { color: var(--bad); } .ok { color: var(--ok); }
.below { padding: 0 24px 24px; border-top: 1px solid var(--line); }
.tag { display: inline-block; background: var(--soft); border-radius: 3px; padding: 0 5px; margin: 0 4px 2px 0;
  font-size: 12px; }
body:has(#sel-none:checked) .none-detail { display: block; }
.status { display: inline-block; border-radius: 3px; padding: 0 5px; font-size: 11px; font-weight: 700;
  text-transform: uppercase; margin-right: 4px; }
.st-passed { background: #e3fcef; color: #006644; } .st-failed { background: #ffebe6; color: #bf2600; }
.st-not-run { background: var(--soft); color: var(--muted); }
.heat-legend span { display: inline-block; width: 12px; height: 12px; border: 1px solid #6b778c;
  vertical-align: -2px; margin: 0 4px 0 10px; }
body:has(#sel-none:checked) .heat-pass .shape { fill: #abf5d1; stroke: #00875a; }
body:has(#sel-none:checked) .heat-mixed .shape { fill: #ffe380; stroke: #ff8b00; }
body:has(#sel-none:checked) .heat-fail .shape { fill: #ffbdad; stroke: #de350b; stroke-width: 2.5; }
body:has(#sel-none:checked) .heat-not-run .shape { fill: #f4f5f7; stroke: #a5adba; stroke-dasharray: 3 2; }
body:has(#sel-none:checked) .edge.heat-fail { stroke: #de350b; stroke-width: 3; }
body:has(#sel-none:checked) .edge.heat-mixed { stroke: #ff8b00; stroke-width: 2.5; }
body:has(#sel-none:checked) .edge.heat-pass { stroke: #00875a; }
body:has(.sel.test:checked) .edge, body:has(.sel.test:checked) .node { opacity: 0.35; }
body:has(.sel.test:checked) .edge-label { opacity: 0.35; }
"""


def _rules(key: str) -> str:
    on = f"body:has(#{key}:checked)"
    return (
        f'{on} .edge[data-tests~="{key}"] {{ stroke: var(--hl); stroke-width: 3.5; opacity: 1; '
        f"marker-end: url(#arrow-hl); }}\n"
        f'{on} .node[data-tests~="{key}"] {{ opacity: 1; }}\n'
        f'{on} .node[data-tests~="{key}"] .shape {{ stroke: var(--hl); stroke-width: 3; fill: #deebff; }}\n'
        f"{on} #d-{key} {{ display: block; }}\n"
    )


def _e(text: object) -> str:
    return escape(str(text))


def _detail(key: str, test: TestCase) -> str:
    parts = [
        f'<article class="detail" id="d-{key}" data-test-id="{_e(test.id)}">',
        f"<h2>{_e(test.id)}: {_e(one_line(test.name))}</h2>",
    ]
    parts.append('<ul class="facts">' + "".join(f"<li>{_e(f)}</li>" for f in facts_of(test)) + "</ul>")
    for objective in test.objectives:
        parts.append(f"<p>Objective: {_e(objective)}</p>")
    if test.tags:
        parts.append("<p>" + "".join(f'<span class="tag">{_e(t)}</span>' for t in test.tags) + "</p>")
    parts.append(
        "<table><thead><tr><th>#</th><th>Action</th><th>Expected result</th><th>Condition</th></tr></thead><tbody>"
    )
    for n, step in enumerate(visible_steps(test), 1):
        parts.append(
            f'<tr data-ref="{_e(step.workflow)}/{_e(step.node)}#{_e(step.decision)}"><td class="num">{n}'
            f"</td><td>{_e(action_of(step))}</td><td>{_e(step.expected)}</td>"
            f"<td><code>{_e(step.condition)}</code></td></tr>"
        )
    parts.append("</tbody></table>")
    rows = [dict(v) for v in test.variants] or ([dict(test.data)] if test.data else [])
    if rows:
        names = columns_of(rows)
        title = f"Test data ({len(rows)} variants)" if len(rows) > 1 else "Test data"
        parts.append(
            f"<h3>{title}</h3><table><thead><tr>" + "".join(f"<th>{_e(n)}</th>" for n in names) + "</tr></thead><tbody>"
        )
        parts += [
            "<tr>" + "".join(f"<td>{_e(scalar_text(r[n])) if n in r else ''}</td>" for n in names) + "</tr>"
            for r in rows
        ]
        parts.append("</tbody></table>")
    parts.append("</article>")
    return "".join(parts)


def _coverage(suite: Suite, model: Model | None = None) -> str:
    parts = [
        '<section class="below" id="coverage"><h2>Coverage</h2><table><thead><tr><th>Kind</th>'
        "<th>Covered</th><th>Total</th><th>%</th></tr></thead><tbody>"
    ]
    for kind, covered, total in coverage_summary(suite):
        cls = "ok" if covered == total else "bad"
        parts.append(
            f'<tr><td>{_e(kind)}</td><td class="num {cls}">{covered}</td><td class="num">{total}</td>'
            f'<td class="num">{percent(covered, total)}</td></tr>'
        )
    parts.append('</tbody></table><h2 id="uncovered">Not covered</h2>')
    missing = uncovered(suite)
    if not missing:
        parts.append('<p class="ok">Everything the criterion asks for is covered.</p>')
    else:
        parts.append("<table><thead><tr><th>Kind</th><th>Item</th><th>Reason</th></tr></thead><tbody>")
        parts += [
            f"<tr><td>{_e(c.kind)}</td><td><code>{_e(c.ref)}</code></td><td>{_e(c.reason or 'not covered')}</td></tr>"
            for c in missing
        ]
        parts.append("</tbody></table>")
    rows = requirement_matrix(suite, model)
    if rows:
        parts.append(
            '<h2 id="requirements">Requirements</h2><table class="matrix"><thead><tr><th>Requirement</th>'
            "<th>Decisions</th><th>Tests</th></tr></thead><tbody>"
        )
        for row in rows:
            tests = _e(", ".join(row.tests)) if row.tests else f'<span class="bad">none: {_e(row.reason)}</span>'
            decisions = "<br>".join(f"<code>{_e(d)}</code>" for d in row.decisions) or "-"
            parts.append(
                f'<tr data-requirement="{_e(row.key)}"><td>{_e(row.key)}</td><td>{decisions}</td><td>{tests}</td></tr>'
            )
        parts.append("</tbody></table>")
        missing_keys = [r.key for r in rows if not r.covered]
        parts.append(
            f'<p class="bad">Not covered by any test: {_e(", ".join(missing_keys))}</p>'
            if missing_keys
            else '<p class="ok">Every requirement is covered by at least one test.</p>'
        )
    parts.append("</section>")
    return "".join(parts)


def _results_section(suite: Suite, results: Results) -> str:
    counts = results.counts()
    parts = [
        '<section class="below" id="results"><h2>Execution results</h2><p class="heat-legend">'
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['not-run']} not run. "
        "Choose \u201cWhole diagram\u201d for the heat map:"
        '<span style="background:#ffbdad"></span>every test through it failed'
        '<span style="background:#ffe380"></span>some failed'
        '<span style="background:#abf5d1"></span>all passed'
        '<span style="background:#f4f5f7"></span>not run</p>'
        "<table><thead><tr><th>Test</th><th>Status</th><th>First failure</th>"
        + ("<th>Latest execution</th>" if results.sources else "")
        + "</tr></thead><tbody>"
    ]
    for test in suite.tests:
        status = results.tests.get(test.id, "not-run")
        where = ""
        if results.sources:  # read from Xray or Zephyr Scale: the execution the status comes from
            src = results.sources.get(test.id)
            text = f"{src['key']} in {src['execution']}: {src['status']}, {src['at']}" if src else ""
            where = f"<td>{_e(text)}</td>"
        parts.append(
            f'<tr data-test-id="{_e(test.id)}" data-status="{status}"><td>{_e(test.id)}: '
            f'{_e(one_line(test.name))}</td><td><span class="status st-{status}">{status}</span></td>'
            f"<td>{_e(results.messages.get(test.id, ''))}</td>{where}</tr>"
        )
    parts.append("</tbody></table>")
    if results.unmatched:
        parts.append(f'<p class="bad">Results that match no test: {_e(", ".join(results.unmatched[:50]))}</p>')
    parts.append("</section>")
    return "".join(parts)


def _heat(svg_text: str, levels: dict[str, str]) -> str:
    """Add ``heat-<level>`` to the class of every node and arrow of the diagram that has results."""
    for ref, level in levels.items():
        svg_text = _mark(svg_text, f'data-ref="{_e(ref)}"', level)
    return svg_text


def _mark(svg_text: str, needle: str, level: str) -> str:
    at = svg_text.find(needle)
    while at >= 0:  # the element's own class attribute, before its data-ref
        start = svg_text.rfind("<", 0, at)
        cls = svg_text.find('class="', start, at)
        if cls >= 0:
            insert = cls + len('class="')
            svg_text = svg_text[:insert] + f"heat-{level} " + svg_text[insert:]
            at += len(f"heat-{level} ")
        at = svg_text.find(needle, at + len(needle))
    return svg_text


def html(suite: Suite, model: Model, results: Results | None = None) -> str:
    keys = {test.id: f"t{i}" for i, test in enumerate(suite.tests, 1)}
    node_tests: dict[str, set[str]] = {}
    edge_tests: dict[str, set[str]] = {}
    for test in suite.tests:
        path = path_of(model, test)
        for ref in path.nodes:
            node_tests.setdefault(ref, set()).add(keys[test.id])
        for ref in path.edges:
            edge_tests.setdefault(ref, set()).add(keys[test.id])
    title = suite.model_name or model.label
    nav = [
        '<nav class="tests" aria-label="Tests"><h2>Tests</h2>',
        '<input type="radio" name="test" class="sel" id="sel-none"'
        + ("" if suite.tests and results is None else " checked")
        + '><label for="sel-none">Whole diagram'
        + (" (heat map)" if results is not None else "")
        + "</label>",
    ]
    for i, test in enumerate(suite.tests):
        key = keys[test.id]
        checked = " checked" if i == 0 and results is None else ""  # with results: the heat map first
        status = results.tests.get(test.id, "not-run") if results is not None else None
        badge = f'<span class="status st-{status}">{status}</span>' if status else ""
        nav.append(
            f'<input type="radio" name="test" class="sel test" id="{key}"{checked}>'
            f'<label for="{key}" data-test-id="{_e(test.id)}"><span class="tid">{badge}{_e(test.id)}</span>'
            f'{_e(one_line(test.name))}<span class="meta">{len(visible_steps(test))} steps \u00b7 ends at '
            f"{_e(test.end_name or test.end)}</span></label>"
        )
    nav.append("</nav>")
    levels = {ref: h.level for ref, h in heat(model, suite, results).items()} if results is not None else {}
    figures = [
        f'<figure data-workflow="{_e(w.id)}"><figcaption>{_e(w.label)}</figcaption>'
        f"{_heat(svg(w, node_tests, edge_tests), levels)}</figure>"
        for w in model.workflows
    ]
    details = [_detail(keys[t.id], t) for t in suite.tests]
    style = CSS + "".join(_rules(keys[t.id]) for t in suite.tests)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Test report: {_e(title)}</title>\n<style>{style}</style>\n</head>\n<body>\n{MARKERS}\n"
        f'<header><h1>Test report: {_e(title)}</h1><ul class="facts">'
        + "".join(f"<li>{_e(line)}</li>" for line in headline(suite))
        + "</ul></header>\n"
        '<main class="layout">'
        + "".join(nav)
        + '<section class="view"><div class="diagrams">'
        + "".join(figures)
        + "</div>"
        '<p class="none-detail">Choose a test on the left to highlight its path.</p>'
        + "".join(details)
        + "</section></main>\n"
        + (_results_section(suite, results) if results is not None else "")
        + _coverage(suite, model)
        + '\n<footer class="below"><p class="meta">Generated by flowcase.</p></footer>\n</body>\n</html>\n'
    )
