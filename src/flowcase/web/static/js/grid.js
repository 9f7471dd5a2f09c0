// A small keyboard-friendly grid of inputs: decision tables, parameters, variables.
// Keys: Tab/Shift+Tab between cells, ArrowUp/ArrowDown (or Enter) to the same column in the next row,
// Ctrl+Enter adds a row below, Ctrl+Shift+Backspace deletes the row. Edits are committed on "change"
// (one undo step per edited cell), never per keystroke.

let uid = 0;

export function renderGrid(host, spec) {
  const { columns, rows, onCommit, messages = {}, label, addLabel = 'Add row', minRows = 0 } = spec;
  const id = `g${++uid}`;
  const active = document.activeElement;
  const keep = active && host.contains(active) && active.classList.contains('fc-cell')
    ? { row: active.dataset.row, col: active.dataset.col, start: active.selectionStart, end: active.selectionEnd }
    : null;
  host.replaceChildren();
  const wrap = document.createElement('div');
  wrap.className = 'fc-grid-wrap';
  const table = document.createElement('table');
  table.className = 'fc-grid';
  table.setAttribute('aria-label', label);
  const head = table.createTHead().insertRow();
  const hash = document.createElement('th');
  hash.scope = 'col';
  hash.innerHTML = '<span class="fc-sr">Row</span>#';
  head.append(hash);
  for (const col of columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = col.label;
    th.id = `${id}-${col.key}`;
    if (col.width) th.style.minWidth = col.width;
    head.append(th);
  }
  const actions = document.createElement('th');
  actions.innerHTML = '<span class="fc-sr">Actions</span>';
  head.append(actions);
  const body = table.createTBody();

  const commit = (next, structural = true) => onCommit(next.map((r) => ({ ...r })), structural);

  rows.forEach((row, r) => {
    const tr = body.insertRow();
    tr.dataset.row = String(r);
    const num = document.createElement('th');
    num.scope = 'row';
    num.textContent = String(r + 1);
    tr.append(num);
    for (const [c, col] of columns.entries()) {
      const td = tr.insertCell();
      const msg = messages[r] && messages[r][col.key];
      let input;
      if (col.type === 'select') {
        input = document.createElement('select');
        const options = col.options(row);
        const values = options.map((o) => o.value);
        if (row[col.key] && !values.includes(row[col.key])) options.push({ value: row[col.key], label: row[col.key] });
        if (!col.required) options.unshift({ value: '', label: '—' });
        for (const o of options) {
          const opt = document.createElement('option');
          opt.value = o.value;
          opt.textContent = o.label;
          input.append(opt);
        }
        input.value = row[col.key] ?? '';
      } else {
        input = document.createElement('input');
        input.type = 'text';
        input.value = col.format ? col.format(row[col.key]) : (row[col.key] ?? '');
        input.placeholder = col.placeholder || '';
        input.spellcheck = false;
        input.autocomplete = 'off';
      }
      input.className = 'fc-cell';
      input.dataset.row = String(r);
      input.dataset.col = String(c);
      input.dataset.key = col.key;
      input.setAttribute('aria-labelledby', `${id}-${col.key}`);
      input.setAttribute('aria-label', `${col.label}, row ${r + 1}`);
      if (msg) {
        input.setAttribute('aria-invalid', 'true');
        const m = document.createElement('div');
        m.className = `fc-cell-msg fc-cell-msg-${msg.severity}`;
        m.id = `${id}-m${r}-${c}`;
        m.textContent = msg.message;
        input.setAttribute('aria-describedby', m.id);
        td.classList.add(`fc-cell-${msg.severity}`);
        td.append(input, m);
      } else td.append(input);
      input.addEventListener('change', () => {
        const next = rows.map((x) => ({ ...x }));
        next[r][col.key] = col.parse ? col.parse(input.value) : input.value;
        commit(next, false);
        rows[r] = next[r]; // later edits in this rendering build on this one
      });
      input.addEventListener('keydown', (ev) => onKey(ev, table, rows, commit, spec, r));
    }
    const act = tr.insertCell();
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'fc-icon-button';
    del.textContent = '✕';
    del.title = 'Delete row (Ctrl+Shift+Backspace)';
    del.setAttribute('aria-label', `Delete row ${r + 1}`);
    del.disabled = rows.length <= minRows;
    del.onclick = () => commit(rows.filter((_, i) => i !== r));
    act.append(del);
  });
  wrap.append(table);
  host.append(wrap);
  const add = document.createElement('button');
  add.type = 'button';
  add.className = 'ak-button ak-button__appearance-subtle fc-add-row';
  add.textContent = `+ ${addLabel}`;
  add.onclick = () => {
    commit([...rows, spec.newRow()]);
    focusCell(host, rows.length, 0);
  };
  host.append(add);
  if (keep) {
    const cell = host.querySelector(`.fc-cell[data-row="${keep.row}"][data-col="${keep.col}"]`);
    if (cell) {
      cell.focus();
      if (cell.tagName === 'INPUT' && keep.start !== null) cell.setSelectionRange(keep.start, keep.end);
    }
  }
}

function onKey(ev, table, rows, commit, spec, r) {
  const input = ev.target;
  const c = Number(input.dataset.col);
  const move = (dr) => {
    const target = table.querySelector(`.fc-cell[data-row="${r + dr}"][data-col="${c}"]`);
    if (target) {
      ev.preventDefault();
      target.focus();
    }
  };
  if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    const next = rows.map((x) => ({ ...x }));
    next.splice(r + 1, 0, spec.newRow());
    commit(next);
    focusCell(table.parentElement.parentElement, r + 1, 0);
  } else if (ev.key === 'Backspace' && (ev.ctrlKey || ev.metaKey) && ev.shiftKey) {
    ev.preventDefault();
    if (rows.length > (spec.minRows || 0)) {
      commit(rows.filter((_, i) => i !== r));
      focusCell(table.parentElement.parentElement, Math.max(0, r - 1), c);
    }
  } else if (input.tagName === 'INPUT' && (ev.key === 'ArrowDown' || ev.key === 'Enter')) move(1);
  else if (input.tagName === 'INPUT' && ev.key === 'ArrowUp') move(-1);
}

export function focusCell(host, row, col) {
  requestAnimationFrame(() => {
    const cell = host.querySelector(`.fc-cell[data-row="${row}"][data-col="${col}"]`);
    if (cell) cell.focus();
  });
}

// "1, 2, three, true" -> [1, 2, "three", true]; quotes keep text as it is: "'01'" -> "01".
export function parseValue(text) {
  const t = String(text).trim();
  if (/^-?\d+$/.test(t)) return Number.parseInt(t, 10);
  if (/^-?\d*\.\d+$/.test(t)) return Number.parseFloat(t);
  if (t === 'true' || t === 'false') return t === 'true';
  const q = /^(['"])(.*)\1$/.exec(t);
  return q ? q[2] : t;
}

export function parseList(text) {
  return String(text).split(',').map((s) => s.trim()).filter((s) => s !== '').map(parseValue);
}

export function formatValue(v) {
  if (typeof v === 'string' && (/^-?\d+(\.\d+)?$/.test(v) || v === 'true' || v === 'false' || v.includes(','))) {
    return JSON.stringify(v);
  }
  return v === undefined || v === null ? '' : String(v);
}

export function formatList(values) {
  return (values || []).map(formatValue).join(', ');
}
