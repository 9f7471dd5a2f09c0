// The tests view: generate, list tests, highlight a test's path, coverage badges, diff, publish with progress.
import { highlightPath, clearPath, showCoverage, clearCoverage, elementIndex, showHeat, clearHeat } from './modeler.js';
import { confirmPublish, renderDiff, renderResult, runPublish, setProgress, showIn } from './publish-flow.js';
import { renderRequirements } from './requirements.js';

const $ = (id) => document.getElementById(id);
// The one definition of a test step, as flowcase.generate.suite.is_test_step: a path step with an action, an
// expected result, a condition or a name of its own (a start node or an unnamed junction is routing, not a step).
export const testSteps = (test) => test.steps.filter((s) => s.action || s.expected || s.condition || (s.name && s.name !== s.node));

const KIND_NAMES = { step: 'Steps', decision: 'Decisions', pair: 'Decision pairs', path: 'Paths', purpose: 'Purposes', requirement: 'Requirements' };

export class TestsView {
  constructor({ host, modeler, state, documentOf, showWorkflow, pinsChanged }) {
    Object.assign(this, { host, modeler, state, documentOf, showWorkflow, pinsChanged });
    this.suite = null;
    this.pins = []; // pinned tests, as the suite had them: saved with the workflow, kept by every regeneration
    this.requirements = [];
    this.uses = {};
    this.selected = null;
    this.published = null;
    $('gen-form').addEventListener('submit', (ev) => { ev.preventDefault(); this.generate(); });
    $('clear-path').addEventListener('click', () => this.select(null));
    $('diff').addEventListener('click', () => this.diff());
    $('publish').addEventListener('click', () => this.publish());
    $('results-file').addEventListener('change', () => this.importResults());
    $('clear-results').addEventListener('click', () => this.clearResults());
    this.results = null;
    const criterionChanged = () => {
      $('purposes-box').hidden = $('criterion').value !== 'purposes';
      $('loop-box').hidden = $('criterion').value !== 'all-paths';
    };
    $('criterion').addEventListener('change', criterionChanged);
    criterionChanged();
  }

  generationRequest() {
    const criterion = $('criterion').value;
    const data = $('data-option').value;
    const options = data === 'one' ? {} : { data };
    if (criterion === 'all-paths') options.loop_bound = Number($('loop-bound').value || 1);
    if (criterion === 'purposes') {
      options.purposes = $('purposes').value.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
    }
    return { criterion, options };
  }

  reset() {
    this.suite = null;
    this.uses = {};
    this.requirements = [];
    renderRequirements($('requirements'), []);
    this.select(null);
    clearCoverage(this.modeler);
    $('tests-table').hidden = true;
    $('coverage').hidden = true;
    this.clearResults();
    $('results-box').hidden = true;
    $('publish-box').hidden = true;
    $('gen-summary').textContent = '';
  }

  invalidate() {
    if (this.suite) $('gen-summary').textContent = 'The workflow changed since these tests were generated: generate again.';
  }

  setPublished(info) { this.published = info; }

  // The pins of a loaded workflow (its model's ``pins``).
  setPins(pins) { this.pins = (pins || []).map((p) => ({ ...p })); }

  isPinned(testId) { return this.pins.some((p) => p.id === testId); }

  // A toggle per test: pinned tests are saved with the workflow and kept exactly (path and data) by every
  // regeneration; the rest of the suite is then the fewest tests covering what the pins do not.
  pinButton(test) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'ak-button ak-button__appearance-subtle fc-pin';
    button.dataset.pin = test.id;
    button.setAttribute('aria-label', `Pin ${test.id}: keep it exactly when tests are generated again`);
    const show = () => {
      const on = this.isPinned(test.id);
      button.setAttribute('aria-pressed', String(on));
      button.textContent = on ? 'Pinned' : 'Pin';
    };
    show();
    button.addEventListener('click', (ev) => {
      ev.stopPropagation();
      this.togglePin(test);
      show();
    });
    button.addEventListener('keydown', (ev) => ev.stopPropagation()); // Enter and Space press the button, not the row
    return button;
  }

  togglePin(test) {
    if (this.isPinned(test.id)) this.pins = this.pins.filter((p) => p.id !== test.id);
    else {
      const kept = { ...test };
      delete kept.pinned;
      this.pins = [...this.pins, kept];
    }
    $('gen-summary').textContent = `${this.pins.length} test${this.pins.length === 1 ? '' : 's'} pinned: generate again to keep ${this.pins.length === 1 ? 'it' : 'them'} and make the rest minimal.`;
    if (this.pinsChanged) this.pinsChanged();
  }

  async generate() {
    const button = $('generate');
    button.disabled = true;
    $('gen-summary').textContent = 'Generating…';
    $('pin-problem').hidden = true;
    try {
      const result = await this.host.api('POST', '/api/generate', { doc: await this.documentOf(), ...this.generationRequest() });
      this.suite = result.suite;
      this.uses = result.uses || {};
      this.requirements = result.requirements || [];
      this.render();
      $('gen-summary').scrollIntoView({ block: 'nearest' });
    } catch (err) {
      $('gen-summary').textContent = `Cannot generate: ${err.message}`;
      this.host.flag(`Cannot generate: ${err.message}`, 'error');
      this.offerUnpin(err.message);
    } finally {
      button.disabled = false;
    }
  }

  // A pin that no longer fits the workflow stops generation (the server names it): offer to unpin it here, since
  // its row may not be on screen (after a reload nothing is).
  offerUnpin(message) {
    const box = $('pin-problem');
    box.replaceChildren();
    const named = [...message.matchAll(/pinned test (\S+) no longer fits/g)].map((m) => m[1]);
    for (const id of named.filter((i) => this.isPinned(i))) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'ak-button ak-button__appearance-default';
      button.textContent = `Unpin ${id} and generate`;
      button.addEventListener('click', () => {
        this.pins = this.pins.filter((p) => p.id !== id);
        if (this.pinsChanged) this.pinsChanged();
        box.hidden = true;
        this.generate();
      });
      box.append(button);
    }
    box.hidden = box.childElementCount === 0;
  }

  render() {
    const suite = this.suite;
    const n = suite.tests.length;
    let summary = `${n} test${n === 1 ? '' : 's'} for ${labelOf(suite.criterion)}`;
    if (suite.lower_bound !== null && suite.lower_bound !== undefined) {
      summary += suite.optimal ? ` · proven minimal (lower bound ${suite.lower_bound})` : ` · lower bound ${suite.lower_bound}`;
    }
    const pinned = suite.tests.filter((t) => t.pinned).length;
    if (pinned) summary += ` · ${pinned} pinned, kept exactly`;
    $('gen-summary').textContent = summary;
    const body = $('tests-table').tBodies[0];
    body.replaceChildren();
    suite.tests.forEach((test) => {
      const tr = body.insertRow();
      tr.tabIndex = 0;
      tr.dataset.test = test.id;
      tr.className = 'fc-test-row';
      tr.setAttribute('aria-selected', 'false');
      const name = tr.insertCell();
      name.innerHTML = '<span class="fc-test-name"><span class="fc-test-id"></span><span class="fc-test-text"></span></span>';
      name.firstChild.firstChild.textContent = test.id;
      name.firstChild.lastChild.textContent = test.name;
      name.firstChild.title = `${test.id} ${test.name}`;
      name.append(this.dataCell(test), this.pinButton(test));
      const steps = tr.insertCell();
      steps.className = 'fc-num';
      steps.textContent = String(testSteps(test).length);
      tr.insertCell().textContent = test.end_name || test.end;
      tr.addEventListener('click', () => this.select(test.id));
      tr.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); this.select(test.id); }
        if (ev.key === 'ArrowDown' && tr.nextElementSibling) { ev.preventDefault(); tr.nextElementSibling.focus(); }
        if (ev.key === 'ArrowUp' && tr.previousElementSibling) { ev.preventDefault(); tr.previousElementSibling.focus(); }
      });
    });
    $('tests-table').hidden = n === 0;
    $('results-box').hidden = n === 0;
    this.clearResults();
    this.renderCoverage();
    renderRequirements($('requirements'), this.requirements, Object.fromEntries(suite.tests.map((t) => [t.id, t.name])));
    $('publish-box').hidden = !this.state.issueKey || n === 0;
    $('diff-result').replaceChildren();
    $('publish-progress').hidden = true;
    if (n) this.select(suite.tests[0].id);
  }

  async select(testId) {
    this.selected = testId;
    for (const tr of document.querySelectorAll('.fc-test-row')) {
      const on = tr.dataset.test === testId;
      tr.classList.toggle('fc-selected', on);
      tr.setAttribute('aria-selected', String(on));
    }
    const test = this.suite && this.suite.tests.find((t) => t.id === testId);
    if (!test) {
      clearPath(this.modeler);
      $('legend').hidden = true;
      return;
    }
    const main = test.steps.length ? test.steps[0].workflow : null;
    if (main && this.showWorkflow) await this.showWorkflow(main);
    const index = elementIndex(this.modeler);
    const visible = new Set(testSteps(test));
    const ids = [];
    const numbers = [];
    let number = 0;
    for (const s of test.steps) {
      if (visible.has(s)) number += 1;
      const el = s.workflow === main && index.get(`${main}/${s.node}`);
      if (!el) continue;
      ids.push(el.id);
      numbers.push(visible.has(s) ? number : null);
    }
    const end = index.get(`${main}/${test.end}`);
    if (end) { ids.push(end.id); numbers.push(null); }
    highlightPath(this.modeler, ids, numbers);
    $('legend-test').textContent = `${test.id} ${test.name}`;
    $('legend').hidden = false;
  }

  renderCoverage() {
    const items = this.suite.coverage || [];
    const counts = {};
    const index = elementIndex(this.modeler);
    const byKind = {};
    for (const item of items) {
      const k = byKind[item.kind] || (byKind[item.kind] = { total: 0, covered: 0 });
      k.total += 1;
      if (item.covered_by.length) k.covered += 1;
      const el = item.kind === 'step' && index.get(item.ref);
      if (el) counts[el.id] = { count: item.covered_by.length, reason: item.reason };
    }
    showCoverage(this.modeler, counts);
    const badges = $('coverage-badges');
    badges.replaceChildren();
    for (const [kind, k] of Object.entries(byKind)) {
      const b = document.createElement('span');
      b.className = `ak-lozenge ${k.covered === k.total ? 'ak-lozenge__appearance-success' : 'ak-lozenge__appearance-moved'}`;
      b.textContent = `${KIND_NAMES[kind] || kind} ${k.covered}/${k.total}`;
      badges.append(b);
    }
    const un = $('uncovered');
    un.replaceChildren();
    const missing = items.filter((i) => !i.covered_by.length);
    if (missing.length) {
      const h = document.createElement('h3');
      h.className = 'fc-h4';
      h.textContent = 'Not covered';
      const ul = document.createElement('ul');
      ul.className = "fc-uncovered-list";
      for (const item of missing) {
        const li = document.createElement('li');
        li.innerHTML = '<code></code> <span></span>';
        li.firstChild.textContent = item.ref;
        li.lastChild.textContent = item.reason || 'no feasible test reaches it';
        ul.append(li);
      }
      un.append(h, ul);
    }
    $('coverage').hidden = items.length === 0;
  }

  // The values of the parameters this test's path reads (the others cannot change what it does), one chip each:
  // chips wrap between them, never inside a name or a value.
  dataCell(test) {
    const all = test.data || {};
    const used = this.uses[test.id] || Object.keys(all);
    const wrap = document.createElement('span');
    wrap.className = 'fc-data';
    const said = document.createElement('span');
    said.className = 'fc-sr';
    said.textContent = 'Data it uses: ';
    wrap.append(said);
    for (const name of used) {
      if (!(name in all)) continue;
      const chip = document.createElement('span');
      chip.className = 'fc-datum';
      chip.innerHTML = '<span class="fc-datum-name"></span> = <span class="fc-datum-value"></span>';
      chip.firstChild.textContent = name;
      chip.lastChild.textContent = typeof all[name] === 'string' ? all[name] : JSON.stringify(all[name]);
      wrap.append(chip);
    }
    if (wrap.childElementCount === 1) wrap.append('no data');
    if (test.variants && test.variants.length > 1) {
      const more = document.createElement('span');
      more.className = 'fc-datum-more';
      more.textContent = `+${test.variants.length - 1} data variants`;
      wrap.append(more);
    }
    return wrap;
  }

  request() {
    return { issueKey: this.state.issueKey, doc: null, ...this.generationRequest() };
  }

  // Execution results from files: status per test row, heat map on the diagram (POST /api/results).
  async importResults() {
    const input = $('results-file');
    if (!input.files.length || !this.suite) return;
    $('results-summary').textContent = 'Reading results…';
    try {
      const files = [];
      for (const file of input.files) files.push({ name: file.name, content: await file.text() });
      const results = await this.host.api('POST', '/api/results', { doc: await this.documentOf(), ...this.generationRequest(), files });
      this.showResults(results);
    } catch (err) {
      $('results-summary').textContent = `Cannot read the results: ${err.message}`;
      this.host.flag(`Cannot read the results: ${err.message}`, 'error');
    } finally {
      input.value = '';
    }
  }

  showResults(results) {
    this.results = results;
    const c = results.counts;
    let text = `${c.passed} passed, ${c.failed} failed, ${c['not-run']} not run`;
    if (results.unmatched.length) text += ` · ${results.unmatched.length} result(s) match no test`;
    $('results-summary').textContent = text;
    for (const tr of document.querySelectorAll('.fc-test-row')) {
      const status = results.tests[tr.dataset.test] || 'not-run';
      tr.dataset.status = status;
      let badge = tr.querySelector('.fc-status');
      if (!badge) {
        badge = document.createElement('span');
        tr.cells[0].prepend(badge);
      }
      badge.className = `fc-status fc-st-${status}`;
      badge.textContent = status === 'not-run' ? 'not run' : status;
      badge.title = results.messages[tr.dataset.test] || '';
    }
    this.select(null);
    showHeat(this.modeler, elementIndex(this.modeler), results.elements);
    $('heat-legend').hidden = false;
    $('clear-results').hidden = false;
  }

  clearResults() {
    this.results = null;
    clearHeat(this.modeler);
    for (const badge of document.querySelectorAll('.fc-test-row .fc-status')) badge.remove();
    for (const tr of document.querySelectorAll('.fc-test-row')) delete tr.dataset.status;
    $('results-summary').textContent = '';
    $('heat-legend').hidden = true;
    $('clear-results').hidden = true;
  }

  async diff() {
    const box = $('diff-result');
    const button = $('diff');
    button.disabled = true;
    const waiting = document.createElement('p');
    waiting.className = 'fc-message';
    waiting.setAttribute('role', 'status');
    waiting.textContent = 'Comparing with the tests published in Jira…';
    showIn(box, waiting);
    try {
      const result = await this.host.api('POST', '/api/diff', { ...this.request(), doc: await this.documentOf() });
      const heading = document.createElement('p');
      heading.className = 'fc-message';
      heading.setAttribute('role', 'status');
      heading.textContent = 'Publishing now would:';
      showIn(box, heading, renderDiff(result.diff));
    } catch (err) {
      waiting.textContent = `Cannot compare: ${err.message}`;
      waiting.classList.add('fc-error');
    } finally {
      button.disabled = false;
    }
  }

  async publish() {
    const button = $('publish');
    const bar = $('publish-progress');
    const box = $('diff-result');
    if (this.publishing) return;
    this.publishing = true;
    bar.hidden = true;
    bar.classList.remove('fc-failed');
    try {
      const request = { ...this.request(), doc: await this.documentOf() };
      if (!await confirmPublish({ host: this.host, box, request, issueKey: this.state.issueKey, trigger: button })) return;
      box.replaceChildren();
      button.disabled = true;
      setProgress(bar, 0, 'Starting…');
      bar.scrollIntoView({ block: 'nearest' });
      const job = await runPublish({ host: this.host, request, progress: (p, text) => setProgress(bar, p, text) });
      if (job.state === 'done') {
        setProgress(bar, 100, job.message || 'Published');
        this.host.flag(job.message || 'Published to Jira', 'success');
      } else {
        setProgress(bar, 100, `Failed: ${job.message}`);
        bar.classList.add('fc-failed');
        this.host.flag(`Publish failed: ${job.message}`, 'error');
      }
      const result = renderResult(job);
      showIn(box, result);
      result.focus();
    } catch (err) {
      setProgress(bar, 0, `Failed: ${err.message}`);
      bar.classList.add('fc-failed');
      const problem = document.createElement('p');
      problem.className = 'fc-message fc-error';
      problem.setAttribute('role', 'alert');
      problem.textContent = `Publish failed: ${err.message}`;
      showIn(box, problem);
      this.host.flag(`Publish failed: ${err.message}`, 'error');
    } finally {
      this.publishing = false;
      button.disabled = false;
    }
  }
}

function labelOf(criterion) {
  return { 'all-decisions': 'all decisions', 'all-steps': 'all steps', 'all-pairs': 'all decision pairs', 'all-paths': 'all paths', purposes: 'test purposes' }[criterion] || criterion;
}
