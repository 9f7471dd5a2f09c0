// The tests view: generate, list tests, highlight a test's path, coverage badges, diff, publish with progress.
import { highlightPath, clearPath, showCoverage, clearCoverage, elementIndex, showHeat, clearHeat } from './modeler.js';

const $ = (id) => document.getElementById(id);
// The one definition of a test step, as flowcase.generate.suite.is_test_step: a path step with an action, an
// expected result, a condition or a name of its own (a start node or an unnamed junction is routing, not a step).
export const testSteps = (test) => test.steps.filter((s) => s.action || s.expected || s.condition || (s.name && s.name !== s.node));

const KIND_NAMES = { step: 'Steps', decision: 'Decisions', pair: 'Decision pairs', path: 'Paths', purpose: 'Purposes', requirement: 'Requirements' };

export class TestsView {
  constructor({ host, modeler, state, documentOf, showWorkflow }) {
    Object.assign(this, { host, modeler, state, documentOf, showWorkflow });
    this.suite = null;
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

  async generate() {
    const button = $('generate');
    button.disabled = true;
    $('gen-summary').textContent = 'Generating…';
    try {
      const result = await this.host.api('POST', '/api/generate', { doc: await this.documentOf(), ...this.generationRequest() });
      this.suite = result.suite;
      this.render();
    } catch (err) {
      $('gen-summary').textContent = `Cannot generate: ${err.message}`;
      this.host.flag(`Cannot generate: ${err.message}`, 'error');
    } finally {
      button.disabled = false;
    }
  }

  render() {
    const suite = this.suite;
    const n = suite.tests.length;
    let summary = `${n} test${n === 1 ? '' : 's'} for ${labelOf(suite.criterion)}`;
    if (suite.lower_bound !== null && suite.lower_bound !== undefined) {
      summary += suite.optimal ? ` · proven minimal (lower bound ${suite.lower_bound})` : ` · lower bound ${suite.lower_bound}`;
    }
    $('gen-summary').textContent = summary;
    const body = $('tests-table').tBodies[0];
    body.replaceChildren();
    suite.tests.forEach((test, i) => {
      const tr = body.insertRow();
      tr.tabIndex = 0;
      tr.dataset.test = test.id;
      tr.className = 'fc-test-row';
      tr.setAttribute('aria-selected', 'false');
      const name = tr.insertCell();
      name.innerHTML = '<span class="fc-test-id"></span><span class="fc-test-name"></span>';
      name.firstChild.textContent = test.id;
      name.lastChild.textContent = test.name;
      name.lastChild.title = test.name;
      tr.insertCell().textContent = String(testSteps(test).length);
      tr.insertCell().textContent = test.end_name || test.end;
      const data = Object.entries(test.data || {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');
      const cell = tr.insertCell();
      cell.textContent = data || '—';
      if (test.variants && test.variants.length) cell.textContent += ` (+${test.variants.length} variants)`;
      tr.addEventListener('click', () => this.select(test.id));
      tr.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); this.select(test.id); }
        if (ev.key === 'ArrowDown' && tr.nextElementSibling) { ev.preventDefault(); tr.nextElementSibling.focus(); }
        if (ev.key === 'ArrowUp' && tr.previousElementSibling) { ev.preventDefault(); tr.previousElementSibling.focus(); }
      });
      void i;
    });
    $('tests-table').hidden = n === 0;
    $('results-box').hidden = n === 0;
    this.clearResults();
    this.renderCoverage();
    $('publish-box').hidden = !this.state.issueKey;
    $('diff-result').replaceChildren();
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
    box.textContent = 'Comparing with the published tests…';
    try {
      const result = await this.host.api('POST', '/api/diff', { issueKey: this.state.issueKey, doc: await this.documentOf(), ...this.generationRequest() });
      box.replaceChildren(renderDiff(result.diff));
    } catch (err) {
      box.textContent = `Cannot compare: ${err.message}`;
    }
  }

  async publish() {
    const button = $('publish');
    const bar = $('publish-progress');
    button.disabled = true;
    bar.hidden = false;
    setProgress(bar, 0, 'Starting…');
    try {
      let job = await this.host.api('POST', '/api/publish', { issueKey: this.state.issueKey, doc: await this.documentOf(), ...this.generationRequest() });
      while (job.state === 'queued' || job.state === 'running') {
        setProgress(bar, job.total ? Math.round((100 * job.done) / job.total) : 5, job.message || 'Publishing…');
        await new Promise((r) => setTimeout(r, 400));
        job = await this.host.api('GET', `/api/publish/${encodeURIComponent(job.id)}`);
      }
      if (job.state === 'done') {
        setProgress(bar, 100, job.message || 'Published');
        this.host.flag(job.message || 'Published to Jira', 'success');
        if (job.result) $('diff-result').replaceChildren(renderResult(job.result));
      } else {
        setProgress(bar, 100, `Failed: ${job.message}`);
        bar.classList.add('fc-failed');
        this.host.flag(`Publish failed: ${job.message}`, 'error');
      }
    } catch (err) {
      setProgress(bar, 0, `Failed: ${err.message}`);
      this.host.flag(`Publish failed: ${err.message}`, 'error');
    } finally {
      button.disabled = false;
    }
  }
}

// What a publish did: counts per kind of change.
function renderResult(result) {
  const wrap = document.createElement('div');
  wrap.className = 'fc-diff fc-result';
  const kinds = [['created', 'Created', 'new'], ['updated', 'Updated', 'inprogress'], ['unchanged', 'Unchanged', 'success'],
    ['obsoleted', 'Marked obsolete', 'removed'], ['failed', 'Refused by Jira', 'removed']];
  for (const [key, label, look] of kinds) {
    const n = Array.isArray(result[key]) ? result[key].length : result[key] || 0;
    if (!n && (key === 'failed' || key === 'obsoleted')) continue;
    const lozenge = document.createElement('span');
    lozenge.className = `ak-lozenge ak-lozenge__appearance-${look}`;
    lozenge.textContent = `${label} ${n}`;
    wrap.append(lozenge);
  }
  return wrap;
}

function setProgress(bar, percent, text) {
  bar.querySelector('progress').value = percent;
  bar.querySelector('.fc-progress-text').textContent = text;
}

function labelOf(criterion) {
  return { 'all-decisions': 'all decisions', 'all-steps': 'all steps', 'all-pairs': 'all decision pairs', 'all-paths': 'all paths', purposes: 'test purposes' }[criterion] || criterion;
}

// {unchanged:[], updated:[], new:[], obsolete:[]} (lists of test ids or {id, key, name}) -> a summary
export function renderDiff(diff) {
  const wrap = document.createElement('div');
  wrap.className = 'fc-diff';
  const kinds = [['new', 'New', 'new'], ['updated', 'To update', 'inprogress'], ['unchanged', 'Unchanged', 'success'], ['obsolete', 'Obsolete', 'removed']];
  for (const [key, label, look] of kinds) {
    const items = (diff && diff[key]) || [];
    const section = document.createElement('div');
    section.className = 'fc-diff-kind';
    const lozenge = document.createElement('span');
    lozenge.className = `ak-lozenge ak-lozenge__appearance-${look}`;
    lozenge.textContent = `${label} ${items.length}`;
    section.append(lozenge);
    if (items.length) {
      const ul = document.createElement('ul');
      for (const item of items.slice(0, 50)) {
        const li = document.createElement('li');
        li.textContent = typeof item === 'string' ? item : [item.key, item.id, item.name].filter(Boolean).join(' · ');
        ul.append(li);
      }
      section.append(ul);
    }
    wrap.append(section);
  }
  return wrap;
}
