// Publishing, shared by the editor's tests view and the issue panel: a preview of what publishing will do in Jira
// (create N, update N, unchanged N, obsolete N, from /api/diff), a confirmation, then the durable job with progress.
// Everything is shown in the box next to the button the user pressed, and focus moves there.

const KINDS = [
  ['new', 'Create', 'new'], ['updated', 'Update', 'inprogress'], ['unchanged', 'Unchanged', 'success'],
  ['obsolete', 'Mark obsolete', 'removed'],
];

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(text, appearance, id) {
  const b = el('button', `ak-button ak-button__appearance-${appearance}`, text);
  b.type = 'button';
  if (id) b.id = id;
  return b;
}

const count = (diff, key) => ((diff && diff[key]) || []).length;

// The four counts as lozenges, then the tests of each kind (collapsed), for the preview and "Compare".
export function renderDiff(diff, { lists = true } = {}) {
  const wrap = el('div', 'fc-diff');
  const counts = el('div', 'fc-diff-counts');
  for (const [key, label, look] of KINDS) {
    counts.append(el('span', `ak-lozenge ak-lozenge__appearance-${look}`, `${label} ${count(diff, key)}`));
  }
  wrap.append(counts);
  if (!lists) return wrap;
  for (const [key, label] of KINDS) {
    const items = (diff && diff[key]) || [];
    if (!items.length || key === 'unchanged') continue;
    const details = el('details', 'fc-diff-kind');
    details.append(el('summary', '', `${label}: ${items.length} test${items.length === 1 ? '' : 's'}`));
    const ul = el('ul');
    for (const item of items.slice(0, 50)) {
      ul.append(el('li', '', typeof item === 'string' ? item : [item.key, item.name || item.id].filter(Boolean).join(' · ')));
    }
    if (items.length > 50) ul.append(el('li', 'fc-help', `and ${items.length - 50} more`));
    details.append(ul);
    wrap.append(details);
  }
  return wrap;
}

export function sentence(diff) {
  const parts = [`create ${count(diff, 'new')}`, `update ${count(diff, 'updated')}`,
    `leave ${count(diff, 'unchanged')} unchanged`, `mark ${count(diff, 'obsolete')} obsolete`];
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

// Show ``node`` in ``box`` and bring it into view: the user sees the answer where they clicked.
export function showIn(box, ...nodes) {
  box.replaceChildren(...nodes);
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest' });
}

// Ask /api/diff what publishing ``request`` would do and let the user confirm it. Resolves true (publish) or false.
export async function confirmPublish({ host, box, request, issueKey, trigger }) {
  const waiting = el('p', 'fc-message', 'Comparing with the tests published in Jira…');
  waiting.setAttribute('role', 'status');
  showIn(box, waiting);
  box.setAttribute('aria-busy', 'true');
  let diff;
  try {
    diff = (await host.api('POST', '/api/diff', request)).diff;
  } catch (err) {
    const problem = el('p', 'fc-message fc-error', `Cannot prepare the publish: ${err.message}`);
    problem.setAttribute('role', 'alert');
    showIn(box, problem);
    return false;
  } finally {
    box.setAttribute('aria-busy', 'false');
  }
  return new Promise((resolve) => {
    const dialog = el('div', 'fc-confirm');
    dialog.setAttribute('role', 'alertdialog');
    dialog.setAttribute('aria-labelledby', 'fc-confirm-title');
    dialog.setAttribute('aria-describedby', 'fc-confirm-text');
    const title = el('h3', 'fc-h3 fc-confirm-title', `Publish to ${issueKey}?`);
    title.id = 'fc-confirm-title';
    const text = el('p', 'fc-confirm-text', `Jira will ${sentence(diff)}. Nothing is deleted: obsolete tests are only labelled.`);
    text.id = 'fc-confirm-text';
    const yes = button('Publish', 'primary', 'confirm-publish');
    const no = button('Cancel', 'subtle', 'cancel-publish');
    const actions = el('div', 'fc-actions');
    actions.append(yes, no);
    dialog.append(title, text, renderDiff(diff), actions);
    const done = (answer) => {
      dialog.removeEventListener('keydown', onKey);
      if (!answer) {
        showIn(box, el('p', 'fc-message', 'Publish cancelled: nothing was sent to Jira.'));
        if (trigger) trigger.focus();
      }
      resolve(answer);
    };
    const onKey = (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); done(false); } };
    dialog.addEventListener('keydown', onKey);
    yes.onclick = () => done(true);
    no.onclick = () => done(false);
    showIn(box, dialog);
    yes.focus();
  });
}

// Run the publish job; ``progress(percent, text)`` hears about it. Resolves to the finished job.
export async function runPublish({ host, request, progress }) {
  let job = await host.api('POST', '/api/publish', request);
  while (job.state === 'queued' || job.state === 'running') {
    progress(job.total ? Math.round((100 * job.done) / job.total) : 5, job.message || 'Publishing…');
    await new Promise((r) => setTimeout(r, 400));
    job = await host.api('GET', `/api/publish/${encodeURIComponent(job.id)}`);
  }
  return job;
}

// What a publish did: counts per kind of change, as a focusable status the user lands on.
export function renderResult(job) {
  const wrap = el('div', 'fc-publish-result');
  wrap.setAttribute('role', 'status');
  wrap.tabIndex = -1;
  const ok = job.state === 'done';
  // The progress bar above says what happened in words; this box lists it by kind (its label says it for
  // screen readers, which land here).
  wrap.setAttribute('aria-label', ok ? (job.message || 'Published') : `Publish failed: ${job.message}`);
  if (!ok) wrap.append(el('p', 'fc-message fc-error', `Publish failed: ${job.message}`));
  const result = job.result || {};
  const row = el('div', 'fc-diff-counts');
  const kinds = [['created', 'Created', 'new'], ['updated', 'Updated', 'inprogress'], ['unchanged', 'Unchanged', 'success'],
    ['obsoleted', 'Marked obsolete', 'removed'], ['failed', 'Refused by Jira', 'removed']];
  for (const [key, label, look] of kinds) {
    const n = Array.isArray(result[key]) ? result[key].length : result[key] || 0;
    if (!n && (key === 'failed' || key === 'obsoleted')) continue;
    row.append(el('span', `ak-lozenge ak-lozenge__appearance-${look}`, `${label} ${n}`));
  }
  if (ok && job.result) wrap.append(row);
  return wrap;
}

// The publish progress bar: <div class="fc-progress"><progress></progress><span class="fc-progress-text"></span></div>
export function setProgress(bar, percent, text) {
  bar.hidden = false;
  bar.querySelector('progress').value = percent;
  bar.querySelector('.fc-progress-text').textContent = text;
}
