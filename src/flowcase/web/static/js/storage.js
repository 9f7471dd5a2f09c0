// The editor's side of model storage on the issue: conflicts (who saved what when; reload, or overwrite after
// confirming), restoring the previous revision, and a damaged stored model (explained; restore the previous
// revision or replace it with the editor's model, each only after confirming). Nothing is overwritten silently.

const modelPath = (key) => `/api/models/${encodeURIComponent(key)}`;

function button(text, appearance, onclick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `ak-button ak-button__appearance-${appearance}`;
  b.textContent = text;
  b.onclick = onclick;
  return b;
}

function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : ` at ${d.toLocaleString()}`;
}

export function createStorageUi({ host, state, loadDocument, setStatus, save, currentDoc }) {
  const banner = document.getElementById('storage-banner');
  const restoreButton = document.getElementById('restore-previous');

  function show(kind, text, actions) {
    banner.replaceChildren();
    banner.className = `fc-banner fc-banner-${kind}`;
    const p = document.createElement('p');
    p.className = 'fc-banner-text';
    p.textContent = text;
    const bar = document.createElement('div');
    bar.className = 'fc-banner-actions';
    bar.append(...actions);
    banner.append(p, bar);
    banner.hidden = false;
    (actions[0] || banner).focus?.();
  }

  function hide() {
    banner.hidden = true;
    banner.replaceChildren();
  }

  // Ask before a destructive step: the banner turns into a yes/no question about exactly what will happen.
  function confirmStep(question, yesText, onYes, back) {
    show('warning', question, [
      button(yesText, 'primary', async () => { hide(); await onYes(); }),
      button('Cancel', 'subtle', back),
    ]);
  }

  async function reload() {
    const data = await host.api('GET', modelPath(state.issueKey));
    state.revision = data.revision;
    state.conflict = false;
    await loadDocument(data);
    hide();
    setStatus(`Loaded revision ${data.revision}`, 'fc-ok');
  }

  function conflict(err) {
    const e = (err.body && err.body.error) || {};
    if (e.code === 'busy') {
      setStatus('Another save is in progress: trying again…');
      state.conflict = false;
      setTimeout(() => save(), 1500);
      return;
    }
    state.conflict = true;
    setStatus('Not saved: someone else saved this workflow.', 'fc-bad');
    const who = e.savedBy ? ` by ${e.savedBy}` : '';
    const text = `Revision ${e.revision} was saved${who}${when(e.savedAt)}, after the revision ${state.revision ?? '(none)'} `
      + 'you started from. Your changes are not saved yet.';
    const ask = () => conflict(err);
    show('error', text, [
      button(`Load revision ${e.revision}`, 'default', () => confirmStep(
        `Load revision ${e.revision}? Your unsaved changes in this editor will be discarded.`,
        'Discard mine and load', reload, ask)),
      button('Overwrite with mine', 'subtle', () => confirmStep(
        `Overwrite revision ${e.revision} with your version? It stays restorable as the previous revision.`,
        'Overwrite', async () => {
          state.revision = e.revision ?? state.revision;
          state.conflict = false;
          await save(true);
        }, ask)),
    ]);
  }

  async function restorePrevious(fromRevision, back) {
    try {
      const data = await host.api('POST', `${modelPath(state.issueKey)}/restore`, { revision: fromRevision });
      state.revision = data.revision;
      state.conflict = false;
      state.damaged = null;
      await loadDocument(data);
      hide();
      setStatus(`Previous revision restored as revision ${data.revision}`, 'fc-ok');
    } catch (err) {
      if (err.status === 409 && err.body?.error?.code === 'conflict') conflict(err);
      else show('error', `Could not restore: ${err.message}`, [button('Back', 'subtle', back)]);
    }
  }

  function damaged(err) {
    const e = err.body.error;
    state.damaged = { revision: e.revision ?? null, previous: e.previousRevision ?? null };
    state.conflict = true; // no autosave over a damaged model
    setStatus('The stored workflow cannot be read.', 'fc-bad');
    const again = () => damaged(err);
    const actions = [];
    if (e.previousRevision) {
      actions.push(button(`Restore revision ${e.previousRevision}`, 'default', () => confirmStep(
        `Make revision ${e.previousRevision} current again? The damaged revision is replaced.`,
        'Restore', () => restorePrevious(e.revision ?? null, again), again)));
    }
    actions.push(button('Replace it with this editor\'s workflow', 'subtle', () => confirmStep(
      'Replace the damaged workflow stored on the issue with the one in this editor (import a file first if you '
      + 'have one)? The damaged data is deleted.', 'Replace', async () => {
        try {
          const edits = state.edits;
          const result = await host.api('PUT', modelPath(state.issueKey), {
            doc: await currentDoc(), revision: null, replaceDamaged: true,
          });
          state.revision = result.revision;
          state.damaged = null;
          state.conflict = false;
          state.dirty = state.edits !== edits; // a change made meanwhile is not in this save
          if (state.dirty) save();
          else setStatus(`Saved · revision ${result.revision}`, 'fc-ok');
        } catch (e2) {
          show('error', `Not replaced: ${e2.message}`, [button('Back', 'subtle', again)]);
        }
      }, again)));
    show('error', `${e.message}. Nothing has been deleted.`, actions);
  }

  if (restoreButton) {
    restoreButton.onclick = () => {
      if (state.revision === null) {
        show('info', 'There is no earlier revision yet.', [button('OK', 'subtle', hide)]);
        return;
      }
      confirmStep(`Restore the revision before ${state.revision}? It becomes revision ${state.revision + 1}; `
        + `revision ${state.revision} stays restorable the same way.`, 'Restore',
      () => restorePrevious(state.revision, hide), hide);
    };
  }

  return { conflict, damaged, hide };
}
