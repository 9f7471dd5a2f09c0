// The admin page: flowcase settings stored in the customer's Jira (app properties).
import { getHost } from './host.js';

const host = getHost();
const $ = (id) => document.getElementById(id);
const form = $('settings');

async function load() {
  try {
    const data = await host.api('GET', '/api/admin/settings');
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

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const settings = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    settings[el.name] = el.name === 'labels' ? el.value.split(',').map((s) => s.trim()).filter(Boolean) : el.value.trim();
  }
  try {
    await host.api('PUT', '/api/admin/settings', { settings });
    $('message').textContent = 'Settings saved.';
    host.flag('Settings saved', 'success');
  } catch (err) {
    $('message').textContent = `Not saved: ${err.message}`;
  }
});
load();
