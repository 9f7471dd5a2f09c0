// The project page: every workflow of the project (found through the indexed issue property).
import { getHost } from './host.js';

const host = getHost();
const project = host.context.projectKey;
const $ = (id) => document.getElementById(id);

async function load() {
  try {
    const data = await host.api('GET', `/api/projects/${encodeURIComponent(project)}/workflows`);
    const body = $('workflows').tBodies[0];
    body.replaceChildren();
    for (const w of data.workflows) {
      const tr = body.insertRow();
      const story = tr.insertCell();
      const a = document.createElement('a');
      a.textContent = w.issueKey;
      a.href = host.mode === 'connect' ? `${host.context.jiraUrl}/browse/${encodeURIComponent(w.issueKey)}` : host.issueUrl(w.issueKey);
      if (host.mode === 'connect') a.target = '_top';
      story.append(a);
      if (w.summary) story.append(` ${w.summary}`);
      tr.insertCell().textContent = w.name || w.model || '—';
      tr.insertCell().textContent = w.coverage === null || w.coverage === undefined ? '—' : `${w.coverage}%`;
      tr.insertCell().textContent = w.tests ?? '—';
      const status = tr.insertCell();
      const lozenge = document.createElement('span');
      const published = w.status === 'published';
      lozenge.className = `ak-lozenge ${published ? 'ak-lozenge__appearance-success' : w.status === 'changed' ? 'ak-lozenge__appearance-moved' : 'ak-lozenge__appearance-default'}`;
      lozenge.textContent = w.status || 'draft';
      status.append(lozenge);
      tr.insertCell().textContent = w.updated ? new Date(w.updated).toLocaleString() : '—';
    }
    $('message').textContent = data.workflows.length ? '' : 'No story of this project has a flowcase workflow yet.';
  } catch (err) {
    $('message').textContent = `Cannot list workflows: ${err.message}`;
  } finally {
    $('main').setAttribute('aria-busy', 'false');
    host.resize();
  }
}
load();
