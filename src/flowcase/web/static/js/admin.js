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
load();
