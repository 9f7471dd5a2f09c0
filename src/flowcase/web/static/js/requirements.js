// The requirement coverage matrix (flowcase.generate.requirements, as `flowcase requirements` prints it): for each
// requirement key, the tests and the decisions that cover it; a requirement that nothing covers is flagged, with
// the reason. Shared by the editor's tests view and the story panel.

function cell(tr, text, className = '') {
  const td = tr.insertCell();
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

// ``rows``: [{key, tests, decisions, covered, reason}] from /api/generate; ``names``: test id -> name.
export function renderRequirements(container, rows, names = {}) {
  container.replaceChildren();
  container.hidden = !rows || rows.length === 0;
  if (container.hidden) return;
  const heading = document.createElement('h2');
  heading.className = 'fc-h3';
  heading.textContent = 'Requirements';
  const uncovered = rows.filter((r) => !r.covered).length;
  const summary = document.createElement('p');
  summary.className = 'fc-message';
  summary.textContent = uncovered
    ? `${rows.length - uncovered} of ${rows.length} requirements covered · ${uncovered} covered by no test`
    : `All ${rows.length} requirements covered`;
  const table = document.createElement('table');
  table.className = 'fc-table fc-requirements';
  table.createCaption().textContent = 'Requirement coverage: the tests and decisions covering each requirement';
  table.caption.className = 'fc-sr';
  const head = table.createTHead().insertRow();
  for (const title of ['Requirement', 'Tests', 'Decisions']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = title;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    tr.dataset.requirement = row.key;
    tr.dataset.covered = String(row.covered);
    const key = document.createElement('th');
    key.scope = 'row';
    key.textContent = row.key;
    tr.append(key);
    if (row.covered) {
      const tests = cell(tr, '');
      for (const id of row.tests) {
        const item = document.createElement('span');
        item.className = 'fc-req-test';
        item.textContent = id;
        if (names[id]) item.title = names[id];
        tests.append(item, ' ');
      }
    } else {
      const tests = cell(tr, '', 'fc-req-missing');
      const flag = document.createElement('span');
      flag.className = 'ak-lozenge ak-lozenge__appearance-removed';
      flag.textContent = 'Not covered';
      const why = document.createElement('span');
      why.className = 'fc-help';
      why.textContent = ` ${row.reason || 'no test covers it'}`;
      tests.append(flag, why);
    }
    cell(tr, row.decisions.length ? row.decisions.join(', ') : '—', 'fc-req-decisions');
  }
  container.append(heading, summary, table);
}
