// Forge Custom UI variant of the host bridge. Every Custom UI page (built by flowcase.web.forge_bundle) loads
// this module first: it reads the Forge context through @forge/bridge, installs the shell that host.js's
// forgeHost() expects as window.__FLOWCASE_FORGE__, then loads the page's own module (data-flowcase-page).
// API calls go through invokeRemote to the Python backend (Forge adds the invocation token and Jira tokens).
import { invokeRemote, getContext, close, showFlag, Modal } from '../vendor/forge-bridge-7.2.0/forge-bridge.js';

function parseBody(body) {
  if (typeof body !== 'string') return body === undefined ? null : body;
  try { return body ? JSON.parse(body) : null; } catch (e) { return body; }
}

function header(headers, name) {
  const key = Object.keys(headers || {}).find((k) => k.toLowerCase() === name);
  return key ? String(headers[key]) : '';
}

async function remote(method, path, body) {
  const headers = { Accept: 'application/json', 'X-Flowcase-Client': 'forge' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await invokeRemote({ path, method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status || 0, headers: response.headers || {}, body: response.body };
}

async function api(method, path, body) {
  const { ApiError } = await import('./host.js');
  const response = await remote(method, path, body);
  const data = parseBody(response.body);
  if (response.status < 200 || response.status >= 300) throw new ApiError(response.status, data);
  return data;
}

const context = await getContext();
const extension = context.extension || {};
const modal = extension.modal || {};
const shellContext = {
  issueKey: modal.issueKey || (extension.issue && extension.issue.key) || null,
  projectKey: modal.projectKey || (extension.project && extension.project.key) || null,
  jiraUrl: context.siteUrl || '',
};

window.__FLOWCASE_FORGE__ = {
  getContext: () => shellContext,
  invoke: api,
  async download(path, body) {
    const response = await remote('POST', path, body);
    if (response.status < 200 || response.status >= 300) return api('POST', path, body); // throws ApiError
    const m = /filename="([^"]+)"/.exec(header(response.headers, 'content-disposition'));
    const blob = new Blob([typeof response.body === 'string' ? response.body : JSON.stringify(response.body)],
      { type: header(response.headers, 'content-type') || 'application/octet-stream' });
    return { blob, filename: m ? m[1] : 'download' };
  },
  flag(message, type = 'info') {
    showFlag({ id: `flowcase-${Date.now()}`, title: 'flowcase', description: message,
      type: type === 'error' ? 'error' : type, isAutoDismiss: type !== 'error' });
  },
  openEditor(issueKey, onClose) {
    new Modal({ resource: 'editor', size: 'max', context: { issueKey }, onClose: () => onClose && onClose() }).open();
  },
  closeEditor: () => close(),
  issueChanged() {},
};

// Custom UI pages are static: issue-bound controls carry a placeholder key until the Forge context names the issue.
const lozenge = document.getElementById('issue-lozenge');
if (lozenge && shellContext.issueKey) lozenge.textContent = shellContext.issueKey;
else if (!shellContext.issueKey) ['issue-lozenge', 'save', 'close'].forEach((id) => document.getElementById(id)?.remove());

const page = document.querySelector('script[data-flowcase-page]');
await import(new URL(page.dataset.flowcasePage, new URL('.', import.meta.url)).href);
