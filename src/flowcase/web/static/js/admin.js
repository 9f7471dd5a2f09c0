// The admin page: publishing settings stored in the customer's Jira (app property, or a project property).
import { getHost } from './host.js';

const host = getHost();
const $ = (id) => document.getElementById(id);
const form = $('settings');
const query = () => ($('s-project').value.trim() ? `?projectKey=${encodeURIComponent($('s-project').value.trim())}` : '');

async function load() {
  $('main').setAttribute('aria-busy', 'true');
  $('message').textContent = '';
  try {
    const data = await host.api('GET', `/api/admin/settings${query()}`);
    for (const el of form.elements) {
      if (!el.name) continue;
      const v = data.settings[el.name];
      if (v !== undefined && v !== null) el.value = Array.isArray(v) ? v.join(', ') : String(v);
      el.disabled = !data.editable;
    }
    $('save').disabled = !data.editable;
    if (!data.editable) $('message').textContent = 'Only Jira administrators can change these settings.';
  } catch (err) {
    $('message').textContent = `Cannot load settings: ${err.message}`;
  } finally {
    $('main').setAttribute('aria-busy', 'false');
    host.resize();
  }
}

$('scope').addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const settings = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    settings[el.name] = el.name === 'labels' ? el.value.split(',').map((s) => s.trim()).filter(Boolean) : el.value.trim();
  }
  try {
    await host.api('PUT', `/api/admin/settings${query()}`, { settings });
    $('message').textContent = 'Settings saved.';
    host.flag('Settings saved', 'success');
  } catch (err) {
    $('message').textContent = `Not saved: ${err.message}`;
  }
});
// Jira setup: what the project lacks for publishing (preflight), and the admin's fix (create, or map).
const project = () => $('s-project').value.trim();

function option(select, names) {
  select.replaceChildren(new Option('(keep)', ''), ...names.map((n) => new Option(n, n)));
}

function showReadiness(r, actions = []) {
  const list = $('problems');
  list.replaceChildren();
  for (const a of actions) {
    const li = document.createElement('li');
    li.textContent = `Done: ${a}`;
    list.append(li);
  }
  if (r.ready) {
    const li = document.createElement('li');
    li.textContent = `Project ${r.projectKey} is ready: tests are "${r.issueType}" issues linked with "${r.linkType}".`;
    list.append(li);
  }
  for (const p of r.problems) {
    const li = document.createElement('li');
    const what = document.createElement('strong');
    what.textContent = p.what;
    li.append(what, document.createTextNode(` ${p.fix}`));
    list.append(li);
  }
  option($('use-issue-type'), r.availableIssueTypes || []);
  option($('use-link-type'), r.availableLinkTypes || []);
  $('run-setup').disabled = r.ready || !r.problems.some((p) => p.setupFixes);
  $('use-existing').disabled = false;
  host.resize();
}

async function check() {
  $('setup-message').textContent = '';
  if (!project()) { $('setup-message').textContent = 'Enter a project key above first.'; return; }
  try {
    showReadiness(await host.api('GET', `/api/preflight/${encodeURIComponent(project())}`));
  } catch (err) {
    $('setup-message').textContent = `Cannot check: ${err.message}`;
  }
}

async function runSetup(body) {
  $('setup-message').textContent = 'Working…';
  try {
    const data = await host.api('POST', '/api/admin/setup', { projectKey: project(), ...body });
    showReadiness(data.readiness, data.actions);
    $('setup-message').textContent = data.readiness.ready ? 'Ready for publishing.' : 'Some problems remain (see above).';
    if (data.actions.length) host.flag('flowcase setup done', 'success');
    load();
  } catch (err) {
    $('setup-message').textContent = `Setup failed: ${err.message}`;
  }
}

$('check').addEventListener('click', check);
$('run-setup').addEventListener('click', () => runSetup({}));
$('use-existing').addEventListener('click', () => {
  const body = {};
  if ($('use-issue-type').value) body.useIssueType = $('use-issue-type').value;
  if ($('use-link-type').value) body.useLinkType = $('use-link-type').value;
  runSetup(body);
});
// The site's Xray / Zephyr Scale credentials: the server answers only "set" or "not set", never a value.
function showVendor(data) {
  $('xray-state').textContent = data.credentials.xray;
  $('zephyr-state').textContent = data.credentials.zephyr;
  if (data.perSite === false) { // standalone: the deployment's configuration holds them, nothing to enter here
    $('vendor-message').textContent = `Credentials: ${data.message}.`;
    for (const el of $('vendor').querySelectorAll('input, button')) el.disabled = true;
  }
  host.resize();
}

const VENDOR_NAME = { xray: 'Xray', zephyr: 'Zephyr Scale' };

// What the server says of the credentials just sent: each vendor was asked before they were stored.
function checkedText(checked) {
  return Object.entries(checked || {}).map(([vendorId, result]) => (result === 'accepted'
    ? `${VENDOR_NAME[vendorId]} accepted ${vendorId === 'xray' ? 'them' : 'it'}.`
    : `${VENDOR_NAME[vendorId]}: ${result} (saved; publishing will tell if they are wrong).`)).join(' ');
}

// ``done`` runs once the server took the change (a form empties its fields then, not when it is refused).
async function vendor(method, path, body, done) {
  $('vendor-message').textContent = '';
  try {
    const data = await host.api(method, `/api/admin/vendor-credentials${path}`, body);
    showVendor(data);
    if (done) done();
    if (method !== 'GET') $('vendor-message').textContent = ['Saved.', checkedText(data.checked)].filter(Boolean).join(' ');
  } catch (err) {
    $('vendor-message').textContent = `Credentials: ${err.message}`;
    for (const el of $('vendor').querySelectorAll('input, button')) el.disabled = method === 'GET';
  }
}

$('xray-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const xray = { clientId: $('xray-id').value.trim(), clientSecret: $('xray-secret').value.trim() };
  vendor('PUT', '', { xray }, () => { $('xray-id').value = ''; $('xray-secret').value = ''; });
});
$('zephyr-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const zephyr = { token: $('zephyr-token').value.trim() };
  vendor('PUT', '', { zephyr }, () => { $('zephyr-token').value = ''; });
});
$('xray-remove').addEventListener('click', () => vendor('DELETE', '/xray'));
$('zephyr-remove').addEventListener('click', () => vendor('DELETE', '/zephyr'));
load();
vendor('GET', '');
