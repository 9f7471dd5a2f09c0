// The only module that knows where the page runs. Three back ends share one interface:
//   connect    - inside Jira: AP from all.js (only when Jira opened the page: xdm_e + jwt context)
//   standalone - on a laptop: same-origin fetch with the local access cookie
//   forge      - a Forge Custom UI page: host-forge.js (over @forge/bridge) loads first and supplies
//                window.__FLOWCASE_FORGE__ {getContext(), invoke(method, path, body), ...}; see docs/forge.md.
// Interface: {mode, context, api(method, path, body, opts), download(path, body), flag(message, type),
//             resize(), editorUrl(issueKey), issueUrl(issueKey), openEditor(issueKey, onClose), closeEditor(), issueChanged(),
//             initTheme()}

const pageContext = JSON.parse(document.getElementById('flowcase-context').textContent);

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `request failed (${status})`);
    this.status = status;
    this.code = err.code || 'http-error';
    this.diagnostics = err.diagnostics || [];
    this.body = body;
  }
}

async function parse(response) {
  const type = response.headers.get('content-type') || '';
  const body = type.includes('application/json') ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(values[k] || ''));
}

function showFlag(message, type = 'info') {
  const box = document.getElementById('fc-flags');
  if (!box) return;
  const flag = document.createElement('div');
  flag.className = `fc-flag fc-flag-${type}`;
  flag.setAttribute('role', type === 'error' ? 'alert' : 'status');
  flag.textContent = message;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'fc-flag-close';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  close.onclick = () => flag.remove();
  flag.append(close);
  box.append(flag);
  setTimeout(() => flag.remove(), type === 'error' ? 12000 : 5000);
}

function applyColorMode() {
  const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  const stored = localStorage.getItem('flowcase-theme');
  document.documentElement.dataset.colorMode = stored || (dark ? 'dark' : 'light');
}

// api() over fetch: `identify()` gives the headers that say who calls (cookie client or Connect JWT), `init` the
// other fetch options; opts.raw answers the Response itself, else its JSON (an ApiError when not ok).
function fetchApi(identify, init = {}) {
  return async (method, path, body, opts = {}) => {
    const headers = { ...(await identify()), Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, {
      method, headers, ...init, body: body === undefined ? undefined : JSON.stringify(body), signal: opts.signal,
    });
    return opts.raw ? response : parse(response);
  };
}

// download() over a fetchApi request: the POST's body as a Blob with the file name the server gave.
function downloader(request) {
  return async (path, body) => {
    const response = await request('POST', path, body, { raw: true });
    if (!response.ok) await parse(response);
    return { blob: await response.blob(), filename: filenameOf(response) };
  };
}

function standaloneHost() {
  const request = fetchApi(() => ({ 'X-Flowcase-Client': 'web' }), { credentials: 'same-origin' });
  return {
    mode: 'standalone',
    context: pageContext,
    api: request,
    download: downloader(request),
    flag: showFlag,
    resize() {},
    editorUrl: (issue) => (issue ? fill(pageContext.links.editor, { issue }) : '/app/editor'),
    issueUrl: (issue) => fill(pageContext.links.issue, { issue }),
    openEditor(issue) { location.href = this.editorUrl(issue); },
    issueChanged() {},
    closeEditor() {
      const issue = pageContext.issueKey;
      location.href = issue ? fill(pageContext.links.issue, { issue }) : '/app/';
    },
    initTheme: applyColorMode,
  };
}

function connectHost(AP) {
  const token = () => new Promise((resolve, reject) => {
    try { AP.context.getToken(resolve); } catch (e) { reject(e); }
  });
  const request = fetchApi(async () => ({ Authorization: `JWT ${await token()}` }));
  return {
    mode: 'connect',
    context: pageContext,
    api: request,
    download: downloader(request),
    flag(message, type = 'info') {
      if (AP.flag && AP.flag.create) {
        AP.flag.create({ title: 'flowcase', body: message, type: type === 'error' ? 'error' : type, close: 'auto' });
      } else showFlag(message, type);
    },
    resize() { if (AP.resize) AP.resize(); },
    editorUrl: (issue) => fill(pageContext.links.editor, { issue }),
    issueUrl: () => '',
    openEditor(issue, onClose) {
      // The editor is the app's full-screen dialog module; Jira fills in {issue.key} from the page context.
      if (AP.dialog && AP.dialog.create) {
        const dialog = AP.dialog.create({ key: `${pageContext.appKey}-editor`, chrome: false, size: 'fullscreen', customData: { issueKey: issue } });
        if (onClose && dialog && dialog.on) dialog.on('close', onClose);
      } else showFlag('Open the flowcase editor from the issue menu.', 'info');
    },
    closeEditor() {
      if (AP.dialog && AP.dialog.close) AP.dialog.close();
    },
    issueChanged() { // new links on the story: let Jira show them
      if (AP.jira && AP.jira.refreshIssuePage) AP.jira.refreshIssuePage();
    },
    initTheme() {
      applyColorMode();
      if (AP.theming && AP.theming.initializeTheming) AP.theming.initializeTheming();
    },
  };
}

function forgeHost(shell) {
  // Seam for the Forge Custom UI shell: it bundles @forge/bridge and passes invoke() through invokeRemote.
  return {
    mode: 'forge',
    context: { ...pageContext, ...shell.getContext() },
    api: (method, path, body) => shell.invoke(method, path, body),
    download: (path, body) => shell.download(path, body),
    flag: (message, type) => (shell.flag ? shell.flag(message, type) : showFlag(message, type)),
    resize() {},
    editorUrl: () => '',
    issueUrl: () => '',
    openEditor: (issue, onClose) => shell.openEditor(issue, onClose),
    closeEditor: () => shell.closeEditor && shell.closeEditor(),
    issueChanged: () => shell.issueChanged && shell.issueChanged(),
    initTheme: applyColorMode,
  };
}

function filenameOf(response) {
  const cd = response.headers.get('content-disposition') || '';
  const m = /filename="([^"]+)"/.exec(cd);
  return m ? m[1] : 'download';
}

let current = null;

export function getHost() {
  if (current) return current;
  const q = new URLSearchParams(location.search);
  if (pageContext.mode === 'connect' && window.AP && q.has('xdm_e')) current = connectHost(window.AP);
  else if (window.__FLOWCASE_FORGE__) current = forgeHost(window.__FLOWCASE_FORGE__);
  else current = standaloneHost();
  current.initTheme();
  return current;
}

export function saveBlob({ blob, filename }) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
