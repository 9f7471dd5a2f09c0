// The full-page editor: diagram (bpmn-js), decision tables, parameters, undo/redo, autosave, import/export,
// and the tests view (tests.js). All conversions happen on the server; this page holds BPMN XML + tables.
// This module wires the parts together and owns loading, the element picker, tabs and autosave; the parts are
// editor-history.js (undo/redo), editor-tables.js (decision tables and parameters), editor-problems.js
// (validation messages) and editor-files.js (Tidy up, Fit, Import, Download).
import { getHost } from './host.js';
import { createStorageUi } from './storage.js';
import { createModeler, kindOf, KIND_LABEL, flowNodes, markFlowLabels, fitDiagram } from './modeler.js';
import { TestsView } from './tests.js';
import { wireEditorResults } from './results-remote.js';
import { createHistory } from './editor-history.js';
import { createTables, nameOf } from './editor-tables.js';
import { createProblems } from './editor-problems.js';
import { installFileActions } from './editor-files.js';

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
  edits: 0,          // changes made so far: a save knows whether one came while it was under way
  saving: false,
  conflict: false,
};

const modeler = createModeler($('canvas'));
window.flowcaseModeler = modeler; // for browser tests and debugging
const tests = new TestsView({ host, modeler, state, documentOf: () => currentDoc(), showWorkflow: (id) => showWorkflow(id), pinsChanged: () => pinsChanged() });

// the parts of the editor share this context; each adds what the others call
const ed = {
  host, modeler, state, tests,
  currentDoc: () => currentDoc(),
  loadDocument: (data) => loadDocument(data),
  changed: () => changed(),
  setStatus: (text, kind) => setStatus(text, kind),
  selectTab: (name) => selectTab(name),
  renderAll: () => renderAll(),
  onDiagramChange() {
    tables.reconcileTables();
    markFlowLabels(modeler);
    tables.renderStep();
  },
};
const history = ed.history = createHistory(ed);
const tables = ed.tables = createTables(ed);
const problems = ed.problems = createProblems(ed);
const { reconcileTables, renderStep, renderData } = tables;
const { showDiagnostics, scheduleValidate } = problems;
const { snapshot, recordData, undo, redo } = history;

modeler.on('import.done', () => markFlowLabels(modeler));
$('show-labels').addEventListener('change', (ev) => {
  $('canvas').classList.toggle('fc-show-labels', ev.target.checked);
});

function renderAll() {
  renderStep();
  renderData();
  history.updateButtons();
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
  history.clear();
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

// --- autosave with revision conflicts ----------------------------------------------------------------------

function setStatus(text, kind = '') {
  const el = $('save-status');
  el.textContent = text;
  el.className = `fc-save-status ${kind}`;
}

let saveTimer = null;
function changed() {
  state.dirty = true;
  state.edits += 1;
  history.updateButtons();
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
  state.edits += 1;
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
    const edits = state.edits;
    const doc = await currentDoc();
    const result = await host.api('PUT', `/api/models/${encodeURIComponent(state.issueKey)}`, { doc, revision: state.revision });
    state.revision = result.revision;
    state.conflict = false;
    // a change made while this save was under way is not in it: still to save (its own save is scheduled)
    state.dirty = state.edits !== edits;
    if (state.dirty) setStatus('Unsaved changes');
    else setStatus(`Saved · revision ${result.revision}`, 'fc-ok');
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

installFileActions(ed);

window.flowcaseEditor = { state, loadDocument, currentDoc, undo, redo, save, selectTab };
loadInitial().finally(() => {
  $('import-file').disabled = false;
  $('main').setAttribute('aria-busy', 'false');
  host.resize();
  wireEditorResults({ host, state, tests });
});
