// Execution results read straight from Xray or Zephyr Scale (POST /api/results/remote): the latest execution of
// each test published for the story. Used by the story panel (counts, status per test, a link to the heat map) and
// by the editor (status per test row and the heat map on the diagram). Self-contained: both pages only call in.

const $ = (id) => document.getElementById(id);
const SOURCE_NAMES = { xray: 'Xray', zephyr: 'Zephyr Scale' };
const STATUS_TEXT = { passed: 'passed', failed: 'failed', 'not-run': 'not run' };
// The panel asks the editor to open on the heat map: a hash in the standalone app, this flag where the editor is a
// Jira dialog or a Forge modal (same origin as the panel, so the same session storage).
const FLAG = (issue) => `flowcase-open-results:${issue}`;

export const sourceName = (source) => SOURCE_NAMES[source] || source;

export function readRemote(host, request) {
  return host.api('POST', '/api/results/remote', request);
}

// "DEMO-T3 in DEMO-E7 · Fail · 2 Dec 2026, 10:00" (where a test's status comes from).
export function whereFrom(src) {
  if (!src) return '';
  let when = '';
  if (src.at) {
    const date = new Date(src.at);
    when = Number.isNaN(date.getTime()) ? src.at : date.toLocaleString();
  }
  return [`${src.key} in ${src.execution}`, src.status, when].filter(Boolean).join(' · ');
}

export function countsText(results) {
  const c = results.counts;
  return `${c.passed} passed · ${c.failed} failed · ${c['not-run']} not run`;
}

// --- the story panel ------------------------------------------------------------------------------------------

function statusBadge(status) {
  const badge = document.createElement('span');
  badge.className = `fc-status fc-st-${status}`;
  badge.textContent = STATUS_TEXT[status] || status;
  return badge;
}

// Show the story's results in the panel's #results section. ``suite``: the tests the panel generated (names);
// ``request``: the publish request body ({issueKey, doc, criterion}). Hidden when the project publishes plain Jira
// issues (no executions to read: the answer has no source); a failure is said in the section, never thrown.
export async function showPanelResults({ host, issueKey, suite, request }) {
  const section = $('results');
  if (!section) return;
  const status = $('r-counts');
  const rows = $('r-rows');
  $('r-refresh').onclick = () => showPanelResults({ host, issueKey, suite, request });
  const link = $('r-heatmap');
  link.href = host.mode === 'standalone' ? `${host.editorUrl(issueKey)}#results` : '#';
  link.onclick = (ev) => {
    try { sessionStorage.setItem(FLAG(issueKey), '1'); } catch { /* storage refused: the editor opens without it */ }
    if (host.mode !== 'standalone') { ev.preventDefault(); host.openEditor(issueKey); }
  };
  section.setAttribute('aria-busy', 'true');
  status.textContent = 'Reading the latest executions…';
  try {
    const results = await readRemote(host, request);
    if (!results.source) { // the project publishes plain Jira issues: no executions to read
      section.hidden = true;
      return;
    }
    section.hidden = false;
    $('r-source').textContent = `from ${sourceName(results.source)}`;
    let text = results.published
      ? countsText(results)
      : `No tests of this story in ${sourceName(results.source)} yet: publish them first.`;
    if (results.unmatched.length) text += ` · executions of ${results.unmatched.join(', ')}, not among these tests`;
    status.textContent = text;
    const names = Object.fromEntries((suite?.tests || []).map((t) => [t.id, t.name]));
    rows.replaceChildren();
    for (const [testId, state] of Object.entries(results.tests)) {
      const tr = rows.insertRow();
      tr.dataset.test = testId;
      tr.dataset.status = state;
      const name = tr.insertCell();
      name.textContent = names[testId] ? `${testId} · ${names[testId]}` : testId;
      const cell = tr.insertCell();
      cell.append(statusBadge(state));
      if (results.messages[testId]) cell.append(` ${results.messages[testId]}`);
      tr.insertCell().textContent = whereFrom(results.sources[testId]) || '—';
    }
    $('r-table').hidden = !results.published;
    link.hidden = !results.published;
  } catch (err) {
    section.hidden = false;
    $('r-source').textContent = '';
    $('r-table').hidden = true;
    link.hidden = true;
    status.textContent = `Cannot read the results: ${err.message}`;
  } finally {
    section.setAttribute('aria-busy', 'false');
    host.resize();
  }
}

// --- the editor ---------------------------------------------------------------------------------------------------

// A "Read from the test tool" button in the editor's results box (stories only), and the heat map at once when the
// panel's link opened the editor. ``tests``: the TestsView (generate, showResults, documentOf, generationRequest).
export function wireEditorResults({ host, state, tests }) {
  const button = $('results-remote');
  if (!button || !state.issueKey) return;
  button.hidden = false;
  const read = async () => {
    if (!tests.suite) await tests.generate();
    if (!tests.suite) return;
    button.disabled = true;
    $('results-summary').textContent = 'Reading the latest executions…';
    try {
      const results = await readRemote(host, {
        issueKey: state.issueKey, doc: await tests.documentOf(), ...tests.generationRequest(),
      });
      if (!results.source) {
        $('results-summary').textContent = `No results to read: ${results.message}.`;
        return;
      }
      tests.showResults(results);
      $('results-summary').textContent = `${countsText(results)} · latest executions in ${sourceName(results.source)}`;
      for (const tr of document.querySelectorAll('.fc-test-row')) {
        const badge = tr.querySelector('.fc-status');
        const from = whereFrom(results.sources[tr.dataset.test]);
        if (badge && from) badge.title = [from, results.messages[tr.dataset.test]].filter(Boolean).join(' · ');
      }
    } catch (err) {
      $('results-summary').textContent = `Cannot read the results: ${err.message}`;
      host.flag(`Cannot read the results: ${err.message}`, 'error');
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener('click', read);
  let asked = location.hash === '#results';
  try {
    asked = asked || sessionStorage.getItem(FLAG(state.issueKey)) === '1';
    sessionStorage.removeItem(FLAG(state.issueKey));
  } catch { /* no storage: only the hash asks */ }
  if (asked) return read();
  return undefined;
}
