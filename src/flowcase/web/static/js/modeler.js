// bpmn-js set up for flowcase: a palette and context pad limited to flowcase elements, kind mapping,
// path highlighting with markers, coverage badges with overlays. Uses the vendored UMD bundle (window.BpmnJS).

export const KIND_OF = {
  'bpmn:StartEvent': 'start',
  'bpmn:Task': 'step',
  'bpmn:UserTask': 'step',
  'bpmn:ManualTask': 'step',
  'bpmn:ServiceTask': 'step',
  'bpmn:ScriptTask': 'step',
  'bpmn:SendTask': 'step',
  'bpmn:ReceiveTask': 'step',
  'bpmn:BusinessRuleTask': 'step',
  'bpmn:ExclusiveGateway': 'choice',
  'bpmn:CallActivity': 'call',
  'bpmn:SubProcess': 'call',
  'bpmn:EndEvent': 'end',
};

export const KIND_LABEL = { start: 'Start', step: 'Step', choice: 'Choice', call: 'Call', end: 'End' };

const KEEP_PALETTE = new Set([
  'hand-tool', 'lasso-tool', 'space-tool', 'global-connect-tool', 'tool-separator',
  'create.start-event', 'create.end-event', 'create.exclusive-gateway', 'create.task',
]);
const KEEP_PAD = new Set(['append.end-event', 'append.gateway', 'append.append-task', 'connect', 'delete']);

function FlowcaseRestrictions(palette, contextPad, elementFactory, create, translate) {
  palette.registerProvider(500, {
    getPaletteEntries() {
      return (entries) => {
        const kept = {};
        for (const [key, entry] of Object.entries(entries)) if (KEEP_PALETTE.has(key)) kept[key] = entry;
        const start = (event) => create.start(event, elementFactory.createShape({ type: 'bpmn:CallActivity' }));
        kept['create.call-activity'] = {
          group: 'activity',
          className: 'bpmn-icon-call-activity',
          title: translate('Create call to a sub-workflow'),
          action: { dragstart: start, click: start },
        };
        return kept;
      };
    },
  });
  contextPad.registerProvider(500, {
    getContextPadEntries() {
      return (entries) => {
        const kept = {};
        for (const [key, entry] of Object.entries(entries)) if (KEEP_PAD.has(key)) kept[key] = entry;
        return kept;
      };
    },
  });
}
FlowcaseRestrictions.$inject = ['palette', 'contextPad', 'elementFactory', 'create', 'translate'];

// Every new node gets a readable name as it is created ("Step 3", "Choice 1"), never a generated id such as
// Activity_07vs91k; bpmn-js then opens the name for typing (tasks) or the user double-clicks it.
function FlowcaseNaming(eventBus, elementRegistry) {
  eventBus.on('commandStack.shape.create.preExecute', (event) => {
    const shape = event.context && event.context.shape;
    const bo = shape && shape.businessObject;
    const kind = shape && KIND_OF[shape.type];
    if (!bo || !kind || bo.name || shape.labelTarget) return;
    bo.name = defaultName(kind, elementRegistry);
  });
  // editing a name starts with the whole name selected: typing replaces "Step 3"
  eventBus.on('directEditing.activate', () => {
    setTimeout(() => {
      const content = document.querySelector('.djs-direct-editing-content');
      if (!content || document.activeElement !== content) return;
      const range = document.createRange();
      range.selectNodeContents(content);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }, 0);
  });
}
FlowcaseNaming.$inject = ['eventBus', 'elementRegistry'];

export function defaultName(kind, elementRegistry) {
  const base = KIND_LABEL[kind];
  const used = new Set(elementRegistry.filter((e) => e.businessObject && e.businessObject.name).map((e) => e.businessObject.name));
  let n = elementRegistry.filter((e) => !e.labelTarget && KIND_OF[e.type] === kind).length + 1;
  while (used.has(`${base} ${n}`)) n += 1;
  return `${base} ${n}`;
}

export function createModeler(container) {
  return new window.BpmnJS({
    container,
    additionalModules: [{
      __init__: ['flowcaseRestrictions', 'flowcaseNaming'],
      flowcaseRestrictions: ['type', FlowcaseRestrictions],
      flowcaseNaming: ['type', FlowcaseNaming],
    }],
  });
}

export function kindOf(element) {
  return element && element.businessObject ? KIND_OF[element.type] || null : null;
}

function flowcaseId(bo) {
  return (bo.$attrs && bo.$attrs['flowcase:id']) || bo.id;
}

// The flowcase node id of an element (the XML id unless the file had to rename it).
export function nodeIdOf(element) {
  return flowcaseId(element.businessObject);
}

// The workflow (process) an element belongs to, by its flowcase id.
export function workflowOf(element) {
  let bo = element && element.businessObject;
  while (bo && bo.$type !== 'bpmn:Process') bo = bo.$parent;
  return bo ? flowcaseId(bo) : null;
}

export function keyOf(element) {
  return `${workflowOf(element)}/${nodeIdOf(element)}`;
}

// "workflow/node" -> element, for the diagram on screen.
export function elementIndex(modeler) {
  const index = new Map();
  for (const el of flowNodes(modeler)) index.set(keyOf(el), el);
  return index;
}

// Every workflow (process) of the file: [{id (flowcase), xmlId, name}].
export function processes(modeler) {
  const defs = modeler.getDefinitions();
  return (defs ? defs.rootElements : []).filter((e) => e.$type === 'bpmn:Process')
    .map((p) => ({ id: flowcaseId(p), xmlId: p.id, name: p.name || flowcaseId(p) }));
}

export function flowNodes(modeler) {
  return modeler.get('elementRegistry').filter((e) => kindOf(e) && !e.labelTarget);
}

export function outgoingTargets(element) {
  return (element.outgoing || []).filter((c) => c.target && kindOf(c.target)).map((c) => c.target);
}

export function clearPath(modeler) {
  const canvas = modeler.get('canvas');
  for (const el of modeler.get('elementRegistry').getAll()) {
    canvas.removeMarker(el.id, 'fc-path');
    canvas.removeMarker(el.id, 'fc-path-end');
  }
  modeler.get('overlays').remove({ type: 'fc-step-number' });
}

// Highlight a test's path: its nodes and the sequence flows between consecutive nodes; number the steps.
// `numbers[i]` is the test step number shown on node i (null: routing, no number); by default its position.
export function highlightPath(modeler, nodeIds, numbers = null) {
  clearPath(modeler);
  const registry = modeler.get('elementRegistry');
  const canvas = modeler.get('canvas');
  const overlays = modeler.get('overlays');
  const marked = [];
  const positions = new Map();
  nodeIds.forEach((id, i) => {
    const el = registry.get(id);
    if (!el) return;
    canvas.addMarker(id, i === nodeIds.length - 1 ? 'fc-path-end' : 'fc-path');
    marked.push(id);
    const number = numbers ? numbers[i] : i + 1;
    if (number !== null && number !== undefined) {
      if (!positions.has(id)) positions.set(id, []);
      positions.get(id).push(number);
    }
    const next = nodeIds[i + 1];
    if (next) {
      // every arrow between the two nodes (parallel decisions may share a route)
      for (const flow of (el.outgoing || []).filter((c) => c.target && c.target.id === next)) {
        canvas.addMarker(flow.id, 'fc-path');
        marked.push(flow.id);
      }
    }
  });
  for (const [id, steps] of positions) {
    const badge = document.createElement('span');
    badge.className = 'fc-step-number';
    badge.textContent = steps.join(',');
    badge.title = `step ${steps.join(', ')} of the test`;
    overlays.add(id, 'fc-step-number', { position: { top: -12, left: -12 }, html: badge });
  }
  return marked;
}

// Labels of arrows (conditions, objectives) are hidden unless asked for: the tables show them.
export function markFlowLabels(modeler) {
  const canvas = modeler.get('canvas');
  for (const el of modeler.get('elementRegistry').getAll()) {
    if (el.type === 'label' && el.labelTarget && el.labelTarget.type === 'bpmn:SequenceFlow') {
      canvas.addMarker(el.id, 'fc-flow-label');
    }
  }
}

// Coverage badges: number of tests passing each node (red when none).
export function showCoverage(modeler, counts) {
  const overlays = modeler.get('overlays');
  overlays.remove({ type: 'fc-coverage' });
  for (const [id, info] of Object.entries(counts)) {
    if (!modeler.get('elementRegistry').get(id)) continue;
    const badge = document.createElement('span');
    badge.className = `fc-coverage-badge ${info.count ? 'fc-covered' : 'fc-uncovered'}`;
    badge.textContent = info.count ? `${info.count}` : '0';
    badge.title = info.count ? `covered by ${info.count} test(s)` : `not covered${info.reason ? `: ${info.reason}` : ''}`;
    overlays.add(id, 'fc-coverage', { position: { top: -12, right: 12 }, html: badge });
  }
}

export function clearCoverage(modeler) {
  modeler.get('overlays').remove({ type: 'fc-coverage' });
}

// Fit the diagram in view, leaving room for the palette on the left and the bpmn.io mark at the bottom right.
// Never below MIN_SCALE, so that names stay readable: a large diagram then opens at its start and scrolls.
const MIN_SCALE = 0.65;
export function fitDiagram(modeler) {
  const canvas = modeler.get('canvas');
  const { inner, outer } = canvas.viewbox();
  if (!inner || !inner.width || !inner.height || !outer.width) return;
  const left = 90;
  const right = 70;
  const pad = 40;
  const fit = Math.min(1.1, (outer.width - left - right) / inner.width, (outer.height - 2 * pad) / inner.height);
  const scale = Math.max(MIN_SCALE, fit);
  let x = inner.x - (left + (outer.width - left - right - inner.width * scale) / 2) / scale;
  let y = inner.y - (outer.height - inner.height * scale) / 2 / scale;
  if (fit < MIN_SCALE) {
    x = inner.x - left / scale;
    y = inner.y - (pad + 24) / scale; // below the path legend at the top of the canvas
  }
  canvas.viewbox({ x, y, width: outer.width / scale, height: outer.height / scale });
}

// The results heat map: each node tinted by what its tests did (fail, mixed, pass, not run), with a badge
// "failed/run". `elements` maps "workflow/node" to {passed, failed, notRun, level}.
const HEAT = ['fc-heat-fail', 'fc-heat-mixed', 'fc-heat-pass', 'fc-heat-not-run'];
export function showHeat(modeler, index, elements) {
  clearHeat(modeler);
  const canvas = modeler.get('canvas');
  const overlays = modeler.get('overlays');
  for (const [ref, heat] of Object.entries(elements)) {
    if (ref.includes('#')) continue;
    const el = index.get(ref);
    if (!el) continue;
    canvas.addMarker(el.id, `fc-heat-${heat.level}`);
    const badge = document.createElement('span');
    badge.className = `fc-heat-badge fc-heat-${heat.level}`;
    badge.textContent = heat.failed ? `${heat.failed}✗${heat.passed ? ` ${heat.passed}✓` : ''}`
      : heat.passed ? `${heat.passed}✓` : '–';
    badge.title = `${heat.failed} failed, ${heat.passed} passed, ${heat.notRun} not run`;
    overlays.add(el.id, 'fc-heat', { position: { bottom: 4, left: -10 }, html: badge });
  }
}

export function clearHeat(modeler) {
  const canvas = modeler.get('canvas');
  for (const el of modeler.get('elementRegistry').getAll()) {
    for (const marker of HEAT) canvas.removeMarker(el.id, marker);
  }
  modeler.get('overlays').remove({ type: 'fc-heat' });
}
