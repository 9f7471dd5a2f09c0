// The issue panel: does the story have a workflow, how many tests, what coverage, when last published.
import { getHost } from './host.js';
import { confirmPublish, renderResult, runPublish, setProgress, showIn } from './publish-flow.js';
import { showPanelResults } from './results-remote.js';
import { renderRequirements } from './requirements.js';

const host = getHost();
const key = host.context.issueKey;
const $ = (id) => document.getElementById(id);
let doc = null;
let published = false;

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
    published = Boolean(pub && pub.at);
    $('f-published').textContent = pub && pub.at ? `${new Date(pub.at).toLocaleString()} · ${pub.tests} test${pub.tests === 1 ? '' : 's'}` : 'Never';
    if (!data.exists && await showLineage()) return;
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

// A published test issue: where it comes from (story, workflow revision), its path on a small diagram, and whether
// it is current, outdated or obsolete. False for any other issue (a story without a workflow yet).
const STATUS_LOOK = { current: 'success', outdated: 'moved', obsolete: 'removed' };
const STATUS_TEXT = { current: 'Current', outdated: 'Outdated', obsolete: 'Obsolete' };

function storyLink(story) {
  const url = host.mode === 'standalone' ? host.issueUrl(story)
    : (host.context.jiraUrl ? `${host.context.jiraUrl.replace(/\/$/, '')}/browse/${encodeURIComponent(story)}` : '');
  if (!url) return document.createTextNode(story);
  const a = document.createElement('a');
  a.href = url;
  if (host.mode !== 'standalone') a.target = '_top';
  a.textContent = story;
  return a;
}

async function showLineage() {
  const info = await host.api('GET', `/api/lineage/${encodeURIComponent(key)}`);
  if (!info.isTest) return false;
  $('summary').hidden = true;
  $('lineage').hidden = false;
  $('l-status').textContent = STATUS_TEXT[info.status] || info.status;
  $('l-status').className = `ak-lozenge ak-lozenge__appearance-${STATUS_LOOK[info.status] || 'default'}`;
  $('l-reason').textContent = `${info.reason[0].toUpperCase()}${info.reason.slice(1)}.`;
  const story = $('l-story');
  story.replaceChildren(storyLink(info.story));
  if (info.storySummary) story.append(` · ${info.storySummary}`);
  const published = info.publishedRevision ?? '—';
  let revision = `${published}`;
  if (info.currentRevision !== null && info.currentRevision !== undefined) {
    revision += info.currentRevision === info.publishedRevision ? ' (the current one)' : ` (the workflow is now at revision ${info.currentRevision})`;
  }
  $('l-revision').textContent = revision;
  $('l-test').textContent = info.name ? `${info.testId} · ${info.name}` : info.testId;
  if (info.diagram) {
    // flowcase's own SVG (flowcase.export.diagram: every text escaped), with this test's path marked data-tests="t"
    $('l-diagram').innerHTML = info.diagram;
    const svg = $('l-diagram').querySelector('svg.diagram');
    if (svg) svg.setAttribute('aria-label', `${info.workflow}: the path of ${info.testId} is highlighted`);
    $('l-caption').textContent = `The path of this test through “${info.workflow}”, highlighted.`;
    $('l-figure').hidden = false;
  } else $('l-figure').hidden = true;
  return true;
}

// ``announce``: the Generate button was pressed, so say what happened (the automatic run on load stays quiet).
async function generate(announce = false) {
  const button = $('generate');
  if (announce) {
    button.disabled = true;
    $('message').textContent = 'Generating…';
  }
  try {
    const { suite, requirements } = await host.api('POST', '/api/generate', { doc, criterion: 'all-decisions' });
    renderRequirements($('requirements'), requirements || [], Object.fromEntries(suite.tests.map((t) => [t.id, t.name])));
    host.resize();
    // the tests' latest executions in Xray or Zephyr Scale, once the story has published tests (in the background)
    if (!announce && published) showPanelResults({ host, issueKey: key, suite, request: { issueKey: key, doc, criterion: 'all-decisions' } });
    $('f-tests').textContent = String(suite.tests.length);
    $('f-coverage').textContent = coverageText(suite);
    $('message').textContent = announce
      ? `Generated ${suite.tests.length} test${suite.tests.length === 1 ? '' : 's'} · ${coverageText(suite)}. Open the editor to see each test's path.`
      : '';
  } catch (err) {
    $('f-tests').textContent = '—';
    $('message').textContent = `Cannot generate: ${err.message}`;
  } finally {
    if (announce) button.disabled = false;
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
