import { getHost } from './host.js';

const host = getHost();
document.getElementById('open-issue').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const key = document.getElementById('issue-key').value.trim().toUpperCase();
  if (key) location.href = host.issueUrl(key);
});
