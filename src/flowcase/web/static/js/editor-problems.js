// Validation in the editor: the server checks the document after each change; errors and warnings go to the
// Problems list (click: select the element) and inline under the grid cell they point at, by the names the user sees.
import { kindOf, KIND_LABEL, elementIndex } from './modeler.js';
import { nameOf } from './editor-tables.js';

const $ = (id) => document.getElementById(id);

// `ed`: { host, modeler, state, currentDoc(), tables: {renderStep, renderData}, selectTab(name) }
export function createProblems(ed) {
  const { host, modeler, state } = ed;

  let validateTimer = null;
  let validateSeq = 0;
  function scheduleValidate() {
    clearTimeout(validateTimer);
    validateTimer = setTimeout(validate, 500);
  }

  async function validate() {
    const seq = ++validateSeq;
    try {
      const result = await host.api('POST', '/api/models/validate', { doc: await ed.currentDoc() });
      if (seq !== validateSeq) return;
      showDiagnostics(result.diagnostics, result.model);
    } catch (err) {
      if (seq !== validateSeq) return;
      showDiagnostics(err.diagnostics && err.diagnostics.length ? err.diagnostics : [{ severity: 'error', message: err.message, text: err.message }]);
    }
  }

  function showDiagnostics(diagnostics, model) {
    state.messages = {};
    const list = $('problem-list');
    list.replaceChildren();
    for (const d of diagnostics) {
      const where = locate(d, model);
      if (where) {
        const bucket = state.messages[where.key] || (state.messages[where.key] = {});
        const row = bucket[where.row] || (bucket[where.row] = {});
        if (!row[where.field]) row[where.field] = { severity: d.severity, message: d.message };
      }
      const li = document.createElement('li');
      li.className = `fc-problem fc-problem-${d.severity}`;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'fc-problem-link';
      const element = displayElement(d, where);
      button.textContent = `${d.severity === 'error' ? 'Error' : 'Warning'}: ${[element, d.field && `field ${d.field}`].filter(Boolean).join(', ')}${element || d.field ? ': ' : ''}${d.message}`;
      button.onclick = () => {
        const el = where && elementIndex(modeler).get(where.key);
        if (el) modeler.get('selection').select(el);
        else if (where && where.key.startsWith('#')) ed.selectTab('data');
      };
      li.append(button);
      list.append(li);
    }
    $('problems').hidden = diagnostics.length === 0;
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    $('problem-count').textContent = errors ? `${errors} error${errors > 1 ? 's' : ''}` : `${diagnostics.length} warning${diagnostics.length > 1 ? 's' : ''}`;
    $('problem-count').className = `ak-lozenge ${errors ? 'ak-lozenge__appearance-removed' : 'ak-lozenge__appearance-moved'}`;
    ed.tables.renderStep();
    ed.tables.renderData();
  }

  // What a diagnostic is about, by the names the user sees ("Step “Check order”, decision 2"), not XML ids.
  function displayElement(d, where) {
    const el = where && !where.key.startsWith('#') && elementIndex(modeler).get(where.key);
    if (!el || !kindOf(el)) return d.element;
    const named = `${KIND_LABEL[kindOf(el)]} “${nameOf(el)}”`;
    return where.row >= 0 ? `${named}, decision ${where.row + 1}` : named;
  }

  // A diagnostic's path -> which grid cell shows it.
  function locate(d, model) {
    const p = d.path || [];
    if (p[0] === 'parameters' || p[0] === 'variables') {
      return { key: `#${p[0]}`, row: p[1], field: p[2] === 'values' || p[2] === 'initial' || p[2] === 'description' ? p[2] : 'name' };
    }
    if (p[0] !== 'workflows' || !model) return null;
    const wf = (model.workflows || [])[p[1]];
    const node = wf && p[2] === 'nodes' ? (wf.nodes || [])[p[3]] : null;
    if (!node) return null;
    if (p[4] === 'decisions' && typeof p[5] === 'number') {
      const field = ['when', 'set', 'action', 'expected', 'next', 'objective', 'requirements', 'priority'].includes(p[6]) ? p[6] : 'when';
      return { key: `${wf.id}/${node.id}`, row: p[5], field };
    }
    return { key: `${wf.id}/${node.id}`, row: -1, field: 'when' };
  }

  return { scheduleValidate, showDiagnostics };
}
