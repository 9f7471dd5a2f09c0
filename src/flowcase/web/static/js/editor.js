// The full-page editor: diagram (bpmn-js), decision tables, parameters, undo/redo, autosave, import/export,
// and the tests view (tests.js). All conversions happen on the server; this page holds BPMN XML + tables.
import { getHost, saveBlob } from './host.js';
import { createStorageUi } from './storage.js';
import { renderGrid, parseList, formatList, parseValue, formatValue } from './grid.js';
import { createModeler, kindOf, KIND_LABEL, outgoingTargets, flowNodes, keyOf, nodeIdOf, workflowOf, processes, elementIndex, markFlowLabels, fitDiagram } from './modeler.js';
import { TestsView } from './tests.js';

const host = getHost();
const ctx = host.context;
const $ = (id) => document.getElementById(id);

const state = {
  issueKey: ctx.issueKey || null,
  modelId: null,
  tables: {},        // 'workflow/node' -> decision rows (next = node id)
  parameters: [],
  variables: [],
  revision: null,
  selected: null,    // bpmn element
  messages: {},      // node id -> {row: {field: {severity, message}}}
  dirty: false,
  saving: false,
  conflict: false,
};

const modeler = createModeler($('canvas'));
window.flowcaseModeler = modeler; // for browser tests and debugging
const commandStack = modeler.get('commandStack');
const tests = new TestsView({ host, modeler, state, documentOf: () => currentDoc(), showWorkflow: (id) => showWorkflow(id), pinsChanged: () => pinsChanged() });

// --- history: one timeline for diagram commands and table/parameter edits --------------------------------
const history = { past: [], future: [], replaying: false };

function snapshot() {
  return JSON.stringify({ tables: state.tables, parameters: state.parameters, variables: state.variables,
    name: $('model-name').value });
}

function restore(snap) {
  const s = JSON.parse(snap);
  state.tables = s.tables;
  state.parameters = s.parameters;
  state.variables = s.variables;
  $('model-name').value = s.name;
}

function recordData(before) {
  history.past.push({ kind: 'data', before, after: snapshot() });
  history.future = [];
  changed();
}

function undo() {
  const entry = history.past.pop();
  if (!entry) return;
  history.replaying = true;
  if (entry.kind === 'diagram') commandStack.undo();
  else restore(entry.before);
  history.replaying = false;
  history.future.push(entry);
  renderAll();
  changed();
}

function redo() {
  const entry = history.future.pop();
  if (!entry) return;
  history.replaying = true;
  if (entry.kind === 'diagram') commandStack.redo();
  else restore(entry.after);
  history.replaying = false;
  history.past.push(entry);
  renderAll();
  changed();
}

modeler.on('commandStack.changed', (event) => {
  if (history.replaying) return;
  const trigger = event && event.trigger;
  if (trigger === 'clear') { // a new diagram is shown: its commands cannot be undone from here any more
    history.past = history.past.filter((e) => e.kind !== 'diagram');
    history.future = history.future.filter((e) => e.kind !== 'diagram');
    updateUndoButtons();
    return;
  }
  if (trigger === 'undo') { // the canvas's own Ctrl+Z
    const i = history.past.map((e) => e.kind).lastIndexOf('diagram');
    if (i >= 0) history.future.push(...history.past.splice(i, 1));
  } else if (trigger === 'redo') {
    const i = history.future.map((e) => e.kind).lastIndexOf('diagram');
    if (i >= 0) history.past.push(...history.future.splice(i, 1));
  } else {
    history.past.push({ kind: 'diagram' });
    history.future = [];
  }
  reconcileTables();
  markFlowLabels(modeler);
  renderStep();
  changed();
});

modeler.on('import.done', () => markFlowLabels(modeler));
$('show-labels').addEventListener('change', (ev) => {
  $('canvas').classList.toggle('fc-show-labels', ev.target.checked);
});

function updateUndoButtons() {
  $('undo').disabled = history.past.length === 0;
  $('redo').disabled = history.future.length === 0;
}

document.addEventListener('keydown', (ev) => {
  const inField = ev.target.closest && ev.target.closest('input, select, textarea, #canvas');
  if (inField || !(ev.ctrlKey || ev.metaKey)) return;
  if (ev.key.toLowerCase() === 'z' && !ev.shiftKey) { ev.preventDefault(); undo(); }
  else if (ev.key.toLowerCase() === 'y' || (ev.key.toLowerCase() === 'z' && ev.shiftKey)) { ev.preventDefault(); redo(); }
});
$('undo').onclick = undo;
$('redo').onclick = redo;

// --- tables follow the diagram -----------------------------------------------------------------------------

function blankRow(rows, next) {
  return { id: nextRowId(rows), when: '', set: '', action: '', expected: '', next };
}

// Each node on screen gets a table; a new arrow gets a row; rows towards deleted nodes go.
// Only the workflows shown are touched: tables of other workflows are kept as they are.
function reconcileTables() {
  const nodes = flowNodes(modeler);
  const shown = new Set(nodes.map((n) => workflowOf(n)));
  const keys = new Set(nodes.map((n) => keyOf(n)));
  for (const key of Object.keys(state.tables)) {
    if (shown.has(key.slice(0, key.indexOf('/'))) && !keys.has(key)) delete state.tables[key];
  }
  for (const node of nodes) {
    const key = keyOf(node);
    if (kindOf(node) === 'end') { delete state.tables[key]; continue; }
    const ids = new Set(nodes.filter((n) => workflowOf(n) === workflowOf(node)).map((n) => nodeIdOf(n)));
    const rows = (state.tables[key] || []).filter((r) => !r.next || ids.has(r.next));
    const referenced = new Set(rows.map((r) => r.next));
    for (const target of outgoingTargets(node)) {
      if (!referenced.has(nodeIdOf(target))) rows.push(blankRow(rows, nodeIdOf(target)));
    }
    state.tables[key] = rows;
  }
}

function nextRowId(rows) {
  let n = rows.length + 1;
  const used = new Set(rows.map((r) => String(r.id)));
  while (used.has(String(n))) n += 1;
  return String(n);
}

// --- rendering ---------------------------------------------------------------------------------------------

function nameOf(element) {
  return (element.businessObject && element.businessObject.name) || element.id;
}

const LEVELS = ['', 'low', 'medium', 'high', 'critical'];

function renderStep() {
  const el = state.selected && modeler.get('elementRegistry').get(state.selected.id);
  const kind = kindOf(el);
  if (!el || !kind || kind === 'end') {
    $('step-editor').hidden = true;
    $('step-empty').hidden = false;
    $('step-empty').textContent = kind === 'end'
      ? `“${nameOf(el)}” is an end: tests stop here, it has no decision table.`
      : 'Select a step, choice, call or start on the diagram to edit its decision table.';
    return;
  }
  $('step-empty').hidden = true;
  $('step-editor').hidden = false;
  $('step-kind').textContent = KIND_LABEL[kind];
  $('step-name').textContent = nameOf(el);
  const key = keyOf(el);
  if (!state.tables[key]) reconcileTables();
  const rows = state.tables[key] || [];
  const targets = () => outgoingTargets(el).map((t) => ({ value: nodeIdOf(t), label: nameOf(t) }));
  renderCall(el, kind);
  renderGrid($('table-host'), {
    label: `Decision table of ${nameOf(el)}`,
    addLabel: 'Add decision',
    columns: [
      { key: 'when', label: 'When', placeholder: 'always', width: '9rem' },
      { key: 'set', label: 'Set', placeholder: '—', width: '7rem' },
      { key: 'action', label: 'Action', width: '9rem' },
      { key: 'expected', label: 'Expected result', width: '9rem' },
      { key: 'next', label: 'Next', type: 'select', required: true, options: targets, width: '7rem' },
      { key: 'objective', label: 'Test purpose', width: '7rem' },
      { key: 'requirements', label: 'Requirements', width: '6rem', placeholder: 'DEMO-1',
        format: (v) => (v || []).join(', '), parse: (t) => t.split(',').map((s) => s.trim()).filter(Boolean) },
      { key: 'priority', label: 'Priority', type: 'select', options: () => LEVELS.slice(1).map((l) => ({ value: l, label: l })) },
    ],
    rows,
    messages: state.messages[key] || {},
    newRow: () => blankRow(state.tables[key] || [], outgoingTargets(el)[0] ? nodeIdOf(outgoingTargets(el)[0]) : ''),
    onCommit(next, structural) {
      const before = snapshot();
      state.tables[key] = next;
      recordData(before);
      if (structural) renderStep();
    },
  });
}

// A call node names the workflow it calls (BPMN calledElement = that process).
function renderCall(el, kind) {
  const box = $('call-box');
  box.hidden = kind !== 'call';
  if (kind !== 'call') return;
  const select = $('call-target');
  const own = workflowOf(el);
  const current = el.businessObject.calledElement || '';
  select.replaceChildren();
  const none = document.createElement('option');
  none.value = '';
  none.textContent = '— choose a workflow —';
  select.append(none);
  for (const p of processes(modeler)) {
    if (p.id === own) continue;
    const opt = document.createElement('option');
    opt.value = p.xmlId;
    opt.textContent = p.name;
    select.append(opt);
  }
  if (current && ![...select.options].some((o) => o.value === current)) {
    const opt = document.createElement('option');
    opt.value = current;
    opt.textContent = current;
    select.append(opt);
  }
  select.value = current;
  select.onchange = () => modeler.get('modeling').updateProperties(el, { calledElement: select.value || undefined });
}

function renderData() {
  renderGrid($('params-host'), {
    label: 'Parameters',
    addLabel: 'Add parameter',
    columns: [
      { key: 'name', label: 'Name', width: '7rem' },
      { key: 'values', label: 'Values', width: '12rem', placeholder: 'ok, wrong',
        format: formatList, parse: parseList },
      { key: 'description', label: 'Description', width: '10rem' },
    ],
    rows: state.parameters,
    messages: state.messages['#parameters'] || {},
    newRow: () => ({ name: `p${state.parameters.length + 1}`, values: [true, false], description: '' }),
    onCommit(next, structural) {
      const before = snapshot();
      state.parameters = next;
      recordData(before);
      if (structural) renderData();
    },
  });
  renderGrid($('vars-host'), {
    label: 'Variables',
    addLabel: 'Add variable',
    columns: [
      { key: 'name', label: 'Name', width: '7rem' },
      { key: 'initial', label: 'Initial value', width: '7rem', format: formatValue, parse: parseValue },
      { key: 'description', label: 'Description', width: '10rem' },
    ],
    rows: state.variables,
    messages: state.messages['#variables'] || {},
    newRow: () => ({ name: `v${state.variables.length + 1}`, initial: 0, description: '' }),
    onCommit(next, structural) {
      const before = snapshot();
      state.variables = next;
      recordData(before);
      if (structural) renderData();
    },
  });
}

function renderAll() {
  renderStep();
  renderData();
  updateUndoButtons();
}

modeler.on('selection.changed', (event) => {
  const el = event.newSelection && event.newSelection.length === 1 ? event.newSelection[0] : null;
  state.selected = el && kindOf(el) ? el : null;
  renderStep();
});

// The element picker: every node of the diagram shown, by kind and name, so that the keyboard (and a screen
// reader) reaches any decision table without the mouse. It follows the diagram's selection and drives it.
function renderPicker() {
  const select = $('step-picker');
  const current = state.selected ? state.selected.id : '';
  select.replaceChildren();
  const none = document.createElement('option');
  none.value = '';
  none.textContent = '— none selected —';
  select.append(none);
  const nodes = flowNodes(modeler).slice().sort((a, b) => (a.x - b.x) || (a.y - b.y));
  for (const node of nodes) {
    const opt = document.createElement('option');
    opt.value = node.id;
    opt.textContent = `${KIND_LABEL[kindOf(node)]}: ${nameOf(node)}`;
    select.append(opt);
  }
  select.value = nodes.some((n) => n.id === current) ? current : '';
}
$('step-picker').addEventListener('change', (ev) => {
  const el = ev.target.value && modeler.get('elementRegistry').get(ev.target.value);
  if (!el) { modeler.get('selection').select([]); return; }
  modeler.get('selection').select(el);
  try { modeler.get('canvas').scrollToElement(el); } catch (e) { /* outside the view: the table still shows */ }
});
modeler.on('selection.changed', () => {
  const select = $('step-picker');
  const id = state.selected ? state.selected.id : '';
  if (select.value !== id) {
    if (id && ![...select.options].some((o) => o.value === id)) renderPicker();
    select.value = id;
  }
});
modeler.on('import.done', () => renderPicker());
modeler.on('commandStack.changed', () => renderPicker());

// Enter on the focused canvas moves into the selected node's decision table.
$('canvas').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && state.selected && !$('step-editor').hidden && !ev.target.closest('.djs-direct-editing-parent')) {
    const cell = $('table-host').querySelector('.fc-cell');
    if (cell) { ev.preventDefault(); cell.focus(); }
  }
});

// --- tabs --------------------------------------------------------------------------------------------------

const TABS = ['tests', 'data'];
function selectTab(name, focus = true) {
  for (const t of TABS) {
    const tab = $(`tab-${t}`);
    const on = t === name;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`panel-${t}`).hidden = !on;
    if (on && focus) tab.focus();
  }
}
for (const t of TABS) {
  $(`tab-${t}`).addEventListener('click', () => selectTab(t));
  $(`tab-${t}`).addEventListener('keydown', (ev) => {
    const i = TABS.indexOf(t);
    if (ev.key === 'ArrowRight') selectTab(TABS[(i + 1) % TABS.length]);
    if (ev.key === 'ArrowLeft') selectTab(TABS[(i + TABS.length - 1) % TABS.length]);
  });
}

// --- the document sent to the server -----------------------------------------------------------------------

async function currentDoc() {
  const { xml } = await modeler.saveXML({ format: false });
  const tables = {};
  for (const [key, rows] of Object.entries(state.tables)) tables[key] = rows.map(cleanRow);
  return {
    bpmn: xml, tables,
    parameters: state.parameters.map((p) => ({ name: p.name, values: p.values, ...(p.description ? { description: p.description } : {}) })),
    variables: state.variables.map((v) => ({ name: v.name, initial: v.initial, ...(v.description ? { description: v.description } : {}) })),
    id: state.modelId || undefined,
    name: $('model-name').value,
    pins: tests.pins,
  };
}

function cleanRow(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  if (!('next' in out)) out.next = '';
  return out;
}

// --- loading -----------------------------------------------------------------------------------------------

// Several workflows (a main one and sub-workflows): one BPMN diagram each, switched in the toolbar.
function renderWorkflowSwitch() {
  const select = $('workflow-select');
  const defs = modeler.getDefinitions();
  const diagrams = defs ? defs.diagrams || [] : [];
  select.replaceChildren();
  diagrams.forEach((d, i) => {
    const root = d.plane && d.plane.bpmnElement;
    const opt = document.createElement('option');
    opt.value = String(i);
    opt.textContent = (root && (root.name || root.id)) || `Diagram ${i + 1}`;
    select.append(opt);
  });
  $('workflow-switch').hidden = diagrams.length < 2;
}

// Show the diagram of workflow ``id`` (its process' flowcase id); false when there is none.
async function showWorkflow(id) {
  const defs = modeler.getDefinitions();
  const diagrams = defs ? defs.diagrams || [] : [];
  const index = diagrams.findIndex((d) => {
    const root = d.plane && d.plane.bpmnElement;
    return root && ((root.$attrs && root.$attrs['flowcase:id']) || root.id) === id;
  });
  if (index < 0) return false;
  if ($('workflow-select').value !== String(index) && !$('workflow-switch').hidden) {
    $('workflow-select').value = String(index);
    await openDiagram(diagrams[index]);
  }
  return true;
}

async function openDiagram(diagram) {
  await modeler.open(diagram);
  state.selected = null;
  reconcileTables();
  markFlowLabels(modeler);
  fitDiagram(modeler);
  renderStep();
  renderPicker();
}

$('workflow-select').addEventListener('change', async (ev) => {
  const defs = modeler.getDefinitions();
  const diagram = defs && defs.diagrams[Number(ev.target.value)];
  if (!diagram) return;
  tests.select(null);
  await openDiagram(diagram);
});

export async function loadDocument(data) {
  await modeler.importXML(data.bpmn);
  renderWorkflowSwitch();
  const model = data.model || {};
  state.modelId = model.id || state.modelId;
  $('model-name').value = model.name || '';
  state.parameters = (model.parameters || []).map((p) => ({ description: '', ...p }));
  state.variables = (model.variables || []).map((v) => ({ description: '', ...v }));
  state.tables = {};
  for (const [key, rows] of Object.entries(data.tables || {})) state.tables[key] = rows.map((r) => ({ ...r }));
  reconcileTables();
  history.past = [];
  history.future = [];
  state.selected = null;
  fitDiagram(modeler);
  tests.reset();
  tests.setPins(model.pins);
  renderAll();
  showDiagnostics(data.diagnostics || []);
}

async function loadInitial() {
  let damagedError = null;
  if (state.issueKey) {
    try {
      const data = await host.api('GET', `/api/models/${encodeURIComponent(state.issueKey)}`);
      tests.setPublished(data.published || null);
      if (data.exists) {
        state.revision = data.revision;
        await loadDocument(data);
        setStatus(`Saved · revision ${data.revision}`);
        return;
      }
    } catch (err) {
      if (err.status === 409 && err.body?.error?.code === 'storage-damaged') damagedError = err;
      else host.flag(`Could not load the workflow of ${state.issueKey}: ${err.message}`, 'error');
    }
  }
  state.modelId = (state.issueKey || 'workflow').replace(/[^A-Za-z0-9_.-]/g, '_');
  await modeler.createDiagram();
  reconcileTables();
  renderAll();
  setStatus(state.issueKey ? 'New workflow: not saved yet' : 'Local model: use Download to keep it');
  if (damagedError) storageUi.damaged(damagedError);
}

// --- validation and inline messages ------------------------------------------------------------------------

let validateTimer = null;
let validateSeq = 0;
function scheduleValidate() {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(validate, 500);
}

async function validate() {
  const seq = ++validateSeq;
  try {
    const result = await host.api('POST', '/api/models/validate', { doc: await currentDoc() });
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
      else if (where && where.key.startsWith('#')) selectTab('data');
    };
    li.append(button);
    list.append(li);
  }
  $('problems').hidden = diagnostics.length === 0;
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  $('problem-count').textContent = errors ? `${errors} error${errors > 1 ? 's' : ''}` : `${diagnostics.length} warning${diagnostics.length > 1 ? 's' : ''}`;
  $('problem-count').className = `ak-lozenge ${errors ? 'ak-lozenge__appearance-removed' : 'ak-lozenge__appearance-moved'}`;
  renderStep();
  renderData();
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

// --- autosave with revision conflicts ----------------------------------------------------------------------

function setStatus(text, kind = '') {
  const el = $('save-status');
  el.textContent = text;
  el.className = `fc-save-status ${kind}`;
}

let saveTimer = null;
function changed() {
  state.dirty = true;
  updateUndoButtons();
  tests.invalidate();
  scheduleValidate();
  if (state.issueKey && !state.conflict) {
    setStatus('Unsaved changes');
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, 800);
  }
}

// Pinning a test changes what is saved, not the workflow: the tests on screen stay valid.
function pinsChanged() {
  state.dirty = true;
  if (state.issueKey && !state.conflict) {
    setStatus('Unsaved changes');
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, 800);
  }
}

async function save(overwrite = false) {
  if (!state.issueKey || (state.conflict && !overwrite)) return; // a conflict waits for the user's choice
  if (state.saving) { clearTimeout(saveTimer); saveTimer = setTimeout(save, 500); return; }
  state.saving = true;
  setStatus('Saving…');
  try {
    const doc = await currentDoc();
    const result = await host.api('PUT', `/api/models/${encodeURIComponent(state.issueKey)}`, { doc, revision: state.revision });
    state.revision = result.revision;
    state.dirty = false;
    state.conflict = false;
    setStatus(`Saved · revision ${result.revision}`, 'fc-ok');
  } catch (err) {
    if (err.status === 409) {
      storageUi.conflict(err);
    } else setStatus(`Not saved: ${err.message}`, 'fc-bad');
  } finally {
    state.saving = false;
  }
}

const storageUi = createStorageUi({ host, state, loadDocument, setStatus, save, currentDoc });

if ($('save')) $('save').onclick = () => { clearTimeout(saveTimer); save(); };
if ($('close')) {
  $('close').onclick = async () => {
    if (state.dirty) { clearTimeout(saveTimer); await save(); }
    if (!state.dirty) host.closeEditor();
  };
}
let nameBefore = null;
$('model-name').addEventListener('focus', () => { nameBefore = snapshot(); });
$('model-name').addEventListener('change', () => {
  recordData(nameBefore || snapshot());
  nameBefore = snapshot();
});

window.addEventListener('beforeunload', (ev) => {
  if (state.issueKey && state.dirty) { ev.preventDefault(); }
});

// --- layout --------------------------------------------------------------------------------------------------

// "Tidy up": the server lays every workflow out anew (the same layout as the HTML report) and routes every
// arrow around the boxes; the tables, parameters and names stay as they are.
$('tidy').addEventListener('click', async () => {
  const button = $('tidy');
  button.disabled = true;
  try {
    const shown = $('workflow-select').value;
    const data = await host.api('POST', '/api/models/editor', { doc: await currentDoc(), tidy: true });
    await loadDocument(data);
    if (shown && $('workflow-select').value !== shown && $('workflow-select').options[Number(shown)]) {
      $('workflow-select').value = shown;
      $('workflow-select').dispatchEvent(new Event('change'));
    }
    host.flag('Diagram tidied up', 'success');
    changed();
  } catch (err) {
    host.flag(`Could not tidy up: ${err.message}`, 'error');
  } finally {
    button.disabled = false;
  }
});
$('fit').addEventListener('click', () => { fitDiagram(modeler); $('canvas').focus(); });

// --- import / export ---------------------------------------------------------------------------------------

$('import-file').addEventListener('change', async (ev) => {
  const file = ev.target.files && ev.target.files[0];
  ev.target.value = '';
  if (!file) return;
  try {
    const text = await file.text();
    const data = await host.api('POST', '/api/models/import', { text, filename: file.name });
    const keepId = state.modelId;
    await loadDocument(data);
    // a story that already has a saved workflow keeps its model id: published tests are matched by it
    if (state.issueKey && state.revision !== null) state.modelId = keepId || state.modelId;
    host.flag(`Imported ${file.name}`, 'success');
    changed();
  } catch (err) {
    host.flag(`Could not import ${file.name}: ${err.message}`, 'error');
    if (err.diagnostics && err.diagnostics.length) showDiagnostics(err.diagnostics);
  }
});

(function exportChoices() {
  const select = $('export-format');
  const groups = {};
  for (const c of ctx.exports || []) {
    if (!groups[c.group]) {
      groups[c.group] = document.createElement('optgroup');
      groups[c.group].label = c.group;
      select.append(groups[c.group]);
    }
    const opt = document.createElement('option');
    opt.value = c.value;
    opt.textContent = c.label;
    groups[c.group].append(opt);
  }
}());

$('export').addEventListener('click', async () => {
  const format = $('export-format').value;
  const button = $('export');
  button.disabled = true;
  const before = [$('save-status').textContent, $('save-status').className.replace('fc-save-status', '').trim()];
  setStatus('Preparing the download…');
  try {
    const project = state.issueKey ? state.issueKey.replace(/-\d+$/, '') : undefined;
    const body = { doc: await currentDoc(), format, project, ...tests.generationRequest() };
    const file = await host.download('/api/export', body);
    saveBlob(file);
    host.flag(`Downloaded ${file.filename}`, 'success');
  } catch (err) {
    host.flag(`Export failed: ${err.message}`, 'error');
  } finally {
    button.disabled = false;
    if ($('save-status').textContent === 'Preparing the download…') setStatus(...before);
  }
});

window.flowcaseEditor = { state, loadDocument, currentDoc, undo, redo, save, selectTab };
loadInitial().finally(() => {
  $('import-file').disabled = false;
  $('main').setAttribute('aria-busy', 'false');
  host.resize();
});
