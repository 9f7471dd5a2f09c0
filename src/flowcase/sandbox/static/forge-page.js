// Sandbox Forge mode, Jira side: modal dialogs of Custom UI resources and flags (called by the bridge stand-in).
(function () {
  'use strict';
  var modals = [];
  window.__forgeSandbox = {
    openModal: function (src, size, onClose) {
      var overlay = document.createElement('div');
      overlay.className = 'forge-modal forge-modal-' + (size || 'medium');
      var frame = document.createElement('iframe');
      frame.className = 'forge-frame';
      frame.setAttribute('data-forge-resource', new URL(src, location.href).pathname.split('/')[4] || 'modal');
      frame.src = src;
      overlay.append(frame);
      document.body.append(overlay);
      modals.push({ overlay: overlay, frame: frame, onClose: onClose });
    },
    close: function (win) {
      var i = modals.findIndex(function (m) { return m.frame.contentWindow === win; });
      if (i < 0) return false;
      var modal = modals.splice(i, 1)[0];
      modal.overlay.remove();
      if (typeof modal.onClose === 'function') modal.onClose();
      return true;
    },
    flag: function (payload) {
      var flag = document.createElement('div');
      flag.className = 'forge-flag forge-flag-' + (payload.type || 'info');
      flag.setAttribute('role', 'status');
      flag.textContent = (payload.title ? payload.title + ': ' : '') + (payload.description || '');
      document.body.append(flag);
      setTimeout(function () { flag.remove(); }, 5000);
    },
  };
})();
