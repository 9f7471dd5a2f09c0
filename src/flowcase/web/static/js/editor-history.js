// The editor's history: one undo/redo timeline for diagram commands (bpmn-js's command stack) and for edits of
// tables, parameters and the name (snapshots of the editor's state).
const $ = (id) => document.getElementById(id);

// `ed`: { modeler, state, onDiagramChange(), renderAll(), changed() }
export function createHistory(ed) {
  const commandStack = ed.modeler.get('commandStack');
  const history = { past: [], future: [], replaying: false };

  function snapshot() {
    const { state } = ed;
    return JSON.stringify({ tables: state.tables, parameters: state.parameters, variables: state.variables,
      name: $('model-name').value });
  }

  function restore(snap) {
    const s = JSON.parse(snap);
    Object.assign(ed.state, { tables: s.tables, parameters: s.parameters, variables: s.variables });
    $('model-name').value = s.name;
  }

  function recordData(before) {
    history.past.push({ kind: 'data', before, after: snapshot() });
    history.future = [];
    ed.changed();
  }

  function step(from, to, command, key) {
    const entry = from.pop();
    if (!entry) return;
    history.replaying = true;
    if (entry.kind === 'diagram') commandStack[command]();
    else restore(entry[key]);
    history.replaying = false;
    to.push(entry);
    ed.renderAll();
    ed.changed();
  }
  const undo = () => step(history.past, history.future, 'undo', 'before');
  const redo = () => step(history.future, history.past, 'redo', 'after');

  function updateButtons() {
    $('undo').disabled = history.past.length === 0;
    $('redo').disabled = history.future.length === 0;
  }

  function clear() {
    history.past = [];
    history.future = [];
  }

  ed.modeler.on('commandStack.changed', (event) => {
    if (history.replaying) return;
    const trigger = event && event.trigger;
    if (trigger === 'clear') { // a new diagram is shown: its commands cannot be undone from here any more
      history.past = history.past.filter((e) => e.kind !== 'diagram');
      history.future = history.future.filter((e) => e.kind !== 'diagram');
      updateButtons();
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
    ed.onDiagramChange();
    ed.changed();
  });

  document.addEventListener('keydown', (ev) => {
    const inField = ev.target.closest && ev.target.closest('input, select, textarea, #canvas');
    if (inField || !(ev.ctrlKey || ev.metaKey)) return;
    if (ev.key.toLowerCase() === 'z' && !ev.shiftKey) { ev.preventDefault(); undo(); }
    else if (ev.key.toLowerCase() === 'y' || (ev.key.toLowerCase() === 'z' && ev.shiftKey)) { ev.preventDefault(); redo(); }
  });
  $('undo').onclick = undo;
  $('redo').onclick = redo;

  return { snapshot, recordData, undo, redo, updateButtons, clear };
}
