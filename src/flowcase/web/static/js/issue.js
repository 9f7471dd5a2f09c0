// The issue panel: does the story have a workflow, how many tests, what coverage, when last published.
import { getHost } from './host.js';
import { confirmPublish, renderResult, runPublish, setProgress, showIn } from './publish-flow.js';

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

// ``announce``: the Generate button was pressed, so say what happened (the automatic run on load stays quiet).
async function generate(announce = false) {
  const button = $('generate');
  button.disabled = true;
  if (announce) $('message').textContent = 'Generating…';
  try {
    const { suite } = await host.api('POST', '/api/generate', { doc, criterion: 'all-decisions' });
    $('f-tests').textContent = String(suite.tests.length);
    $('f-coverage').textContent = coverageText(suite);
    $('message').textContent = announce
      ? `Generated ${suite.tests.length} test${suite.tests.length === 1 ? '' : 's'} · ${coverageText(suite)}. Open the editor to see each test's path.`
      : '';
  } catch (err) {
    $('f-tests').textContent = '—';
    $('message').textContent = `Cannot generate: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

let publishing = false;
async function publish() {
  if (publishing) return;
  publishing = true;
  const bar = $('publish-progress');
  const box = $('publish-status');
  const button = $('publish');
  bar.classList.remove('fc-failed');
  try {
    const request = { issueKey: key, doc, criterion: 'all-decisions' };
    host.resize();
    const go = await confirmPublish({ host, box, request, issueKey: key, trigger: button });
    host.resize();
    if (!go) return;
    button.disabled = true;
    box.replaceChildren();
    setProgress(bar, 0, 'Starting…');
    const job = await runPublish({ host, request, progress: (p, text) => setProgress(bar, p, text) });
    setProgress(bar, 100, job.message || job.state);
    if (job.state !== 'done') bar.classList.add('fc-failed');
    host.flag(job.state === 'done' ? job.message : `Publish failed: ${job.message}`, job.state === 'done' ? 'success' : 'error');
    await refresh();
    const result = renderResult(job);
    showIn(box, result);
    result.focus();
    if (job.state === 'done') host.issueChanged();
  } catch (err) {
    const problem = document.createElement('p');
    problem.className = 'fc-message fc-error';
    problem.setAttribute('role', 'alert');
    problem.textContent = `Publish failed: ${err.message}`;
    showIn(box, problem);
    host.flag(`Publish failed: ${err.message}`, 'error');
  } finally {
    publishing = false;
    button.disabled = false;
    host.resize();
  }
}

$('generate').onclick = () => generate(true);
$('publish').onclick = publish;
refresh();
