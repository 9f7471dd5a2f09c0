// The issue panel: does the story have a workflow, how many tests, what coverage, when last published.
import { getHost } from './host.js';

const host = getHost();
const key = host.context.issueKey;
const $ = (id) => document.getElementById(id);
let doc = null;

const KIND = { 'all-steps': ['step', 'steps'], 'all-decisions': ['decision', 'decisions'], 'all-pairs': ['pair', 'decision pairs'],
  'all-paths': ['path', 'paths'], purposes: ['purpose', 'purposes'] };

function coverageText(suite) {
  const [kind, label] = KIND[suite.criterion] || [null, 'items'];
  const items = (suite.coverage || []).filter((i) => !kind || i.kind === kind);
  if (!items.length) return '—';
  const covered = items.filter((i) => i.covered_by.length).length;
  const pct = Math.round((100 * covered) / items.length);
  return `${pct}% of ${label} (${covered}/${items.length})`;
}

function setBusy(on) { $('main').setAttribute('aria-busy', String(on)); }

async function refresh() {
  setBusy(true);
  $('open-editor').href = host.editorUrl(key);
  $('open-editor').onclick = (ev) => {
    if (host.mode !== 'standalone') { ev.preventDefault(); host.openEditor(key, () => refresh()); }
  };
  try {
    const data = await host.api('GET', `/api/models/${encodeURIComponent(key)}`);
    const pub = data.published;
    $('f-published').textContent = pub && pub.at ? `${new Date(pub.at).toLocaleString()} · ${pub.tests} test${pub.tests === 1 ? '' : 's'}` : 'Never';
    if (!data.exists) {
      $('f-workflow').textContent = 'None yet';
      $('f-tests').textContent = '—';
      $('f-coverage').textContent = '—';
      $('open-editor').textContent = 'Design tests';
      return;
    }
    $('open-editor').textContent = 'Open editor';
    const model = data.model;
    const nodes = model.workflows.reduce((n, w) => n + (w.nodes || []).length, 0);
    $('f-workflow').textContent = `${model.name || model.id} · ${nodes} elements · revision ${data.revision}`;
    doc = { model };
    $('generate').disabled = false;
    $('publish').disabled = false;
    await generate();
  } catch (err) {
    $('message').textContent = `Cannot load: ${err.message}`;
  } finally {
    setBusy(false);
    host.resize();
  }
}

async function generate() {
  try {
    const { suite } = await host.api('POST', '/api/generate', { doc, criterion: 'all-decisions' });
    $('f-tests').textContent = String(suite.tests.length);
    $('f-coverage').textContent = coverageText(suite);
    $('message').textContent = '';
  } catch (err) {
    $('f-tests').textContent = '—';
    $('message').textContent = `Cannot generate: ${err.message}`;
  }
}

async function publish() {
  const bar = $('publish-progress');
  bar.hidden = false;
  $('publish').disabled = true;
  try {
    let job = await host.api('POST', '/api/publish', { issueKey: key, doc, criterion: 'all-decisions' });
    while (job.state === 'queued' || job.state === 'running') {
      bar.querySelector('progress').value = job.total ? Math.round((100 * job.done) / job.total) : 5;
      bar.querySelector('.fc-progress-text').textContent = job.message || 'Publishing…';
      await new Promise((r) => setTimeout(r, 400));
      job = await host.api('GET', `/api/publish/${encodeURIComponent(job.id)}`);
    }
    bar.querySelector('progress').value = 100;
    bar.querySelector('.fc-progress-text').textContent = job.message || job.state;
    host.flag(job.state === 'done' ? job.message : `Publish failed: ${job.message}`, job.state === 'done' ? 'success' : 'error');
    await refresh();
    if (job.state === 'done') host.issueChanged();
  } catch (err) {
    host.flag(`Publish failed: ${err.message}`, 'error');
  } finally {
    $('publish').disabled = false;
  }
}

$('generate').onclick = generate;
$('publish').onclick = publish;
refresh();
