// The decision tables of the editor: one per node of the diagram, kept in step with its arrows, the grid of the
// selected node (with its call target) and the parameter and variable grids.
import { renderGrid, parseList, formatList, parseValue, formatValue } from './grid.js';
import { kindOf, KIND_LABEL, outgoingTargets, flowNodes, keyOf, nodeIdOf, workflowOf, processes } from './modeler.js';

const $ = (id) => document.getElementById(id);

export function nameOf(element) {
  return (element.businessObject && element.businessObject.name) || element.id;
}

// `ed`: { modeler, state, history }
export function createTables(ed) {
  const { modeler, state } = ed;
  const snapshot = () => ed.history.snapshot();
  const recordData = (before) => ed.history.recordData(before);

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

  return { reconcileTables, renderStep, renderData };
}
