// The editor's toolbar actions on the whole document: Tidy up and Fit, Import (any format the server reads) and
// Download (any export, generated on the server from the document and the tests view's options).
import { saveBlob } from './host.js';
import { fitDiagram } from './modeler.js';

const $ = (id) => document.getElementById(id);

// `ed`: { host, modeler, state, loadDocument(data), currentDoc(), changed(), setStatus(text, kind),
//         problems: {showDiagnostics}, tests: {generationRequest} }
export function installFileActions(ed) {
  const { host, modeler, state } = ed;
  const ctx = host.context;

  // "Tidy up": the server lays every workflow out anew (the same layout as the HTML report) and routes every
  // arrow around the boxes; the tables, parameters and names stay as they are.
  $('tidy').addEventListener('click', async () => {
    const button = $('tidy');
    button.disabled = true;
    try {
      const shown = $('workflow-select').value;
      const data = await host.api('POST', '/api/models/editor', { doc: await ed.currentDoc(), tidy: true });
      await ed.loadDocument(data);
      if (shown && $('workflow-select').value !== shown && $('workflow-select').options[Number(shown)]) {
        $('workflow-select').value = shown;
        $('workflow-select').dispatchEvent(new Event('change'));
      }
      host.flag('Diagram tidied up', 'success');
      ed.changed();
    } catch (err) {
      host.flag(`Could not tidy up: ${err.message}`, 'error');
    } finally {
      button.disabled = false;
    }
  });
  $('fit').addEventListener('click', () => { fitDiagram(modeler); $('canvas').focus(); });

  $('import-file').addEventListener('change', async (ev) => {
    const file = ev.target.files && ev.target.files[0];
    ev.target.value = '';
    if (!file) return;
    try {
      const text = await file.text();
      const data = await host.api('POST', '/api/models/import', { text, filename: file.name });
      const keepId = state.modelId;
      await ed.loadDocument(data);
      // a story that already has a saved workflow keeps its model id: published tests are matched by it
      if (state.issueKey && state.revision !== null) state.modelId = keepId || state.modelId;
      host.flag(`Imported ${file.name}`, 'success');
      ed.changed();
    } catch (err) {
      host.flag(`Could not import ${file.name}: ${err.message}`, 'error');
      if (err.diagnostics && err.diagnostics.length) ed.problems.showDiagnostics(err.diagnostics);
    }
  });

  (function exportChoices() {
    const select = $('export-format');
    const groups = {};
    for (const c of ctx.exports || []) {
      if (!groups[c.group]) {
        groups[c.group] = document.createElement('optgroup');
        groups[c.group].label = c.group;
        select.append(groups[c.group]);
      }
      const opt = document.createElement('option');
      opt.value = c.value;
      opt.textContent = c.label;
      groups[c.group].append(opt);
    }
  }());

  $('export').addEventListener('click', async () => {
    const format = $('export-format').value;
    const button = $('export');
    button.disabled = true;
    const before = [$('save-status').textContent, $('save-status').className.replace('fc-save-status', '').trim()];
    ed.setStatus('Preparing the download…');
    try {
      const project = state.issueKey ? state.issueKey.replace(/-\d+$/, '') : undefined;
      const body = { doc: await ed.currentDoc(), format, project, ...ed.tests.generationRequest() };
      const file = await host.download('/api/export', body);
      saveBlob(file);
      host.flag(`Downloaded ${file.filename}`, 'success');
    } catch (err) {
      host.flag(`Export failed: ${err.message}`, 'error');
    } finally {
      button.disabled = false;
      if ($('save-status').textContent === 'Preparing the download…') ed.setStatus(...before);
    }
  });
}
