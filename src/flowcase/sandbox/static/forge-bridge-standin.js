// Sandbox stand-in for the Forge Custom UI host bridge (window.__bridge.callBridge), which the real
// @forge/bridge calls. Injected by the sandbox into every Custom UI index.html it serves.
(function () {
  'use strict';
  var ctx = new URLSearchParams(location.search).get('ctx') || '';

  function post(path, body) {
    return fetch(path, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    }).then(function (r) {
      if (!r.ok) throw new Error('sandbox Forge bridge: ' + path + ' answered ' + r.status);
      return r.json();
    });
  }

  var handlers = {
    getContext: function () {
      return fetch('/_forge/context?ctx=' + encodeURIComponent(ctx), { credentials: 'same-origin' })
        .then(function (r) { return r.json(); });
    },
    invoke: function (payload) {
      if (payload.invokeType !== 'ui-remote-fetch') return Promise.reject(new Error('only invokeRemote is supported'));
      return post('/_forge/invoke', {
        ctx: ctx, path: payload.path, method: payload.method || 'GET', headers: payload.headers || {}, body: payload.body,
      });
    },
    openModal: function (payload) {
      return post('/_forge/modal', { ctx: ctx, resource: payload.resource, context: payload.context || {} })
        .then(function (answer) {
          window.parent.__forgeSandbox.openModal(answer.src, payload.size, payload.onClose);
          return true;
        });
    },
    close: function () { return window.parent.__forgeSandbox.close(window); },
    showFlag: function (payload) { window.parent.__forgeSandbox.flag(payload); return Promise.resolve(true); },
    closeFlag: function () { return Promise.resolve(true); },
  };

  window.__bridge = {
    callBridge: function (name, payload) {
      var handler = handlers[name];
      if (!handler) return Promise.reject(new Error('the sandbox Forge bridge has no ' + name));
      return Promise.resolve(handler(payload || {}));
    },
  };
})();
