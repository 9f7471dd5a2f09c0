// flowcase sandbox stand-in for Atlassian Connect's all.js (https://connect-cdn.atl-paas.net/all.js).
// Include it from the sandbox site: <script src="{sandbox}/atlassian-connect/all.js"></script>.
// It talks to the host page over postMessage; it only accepts messages from the parent window at the host
// origin given by the xdm_e parameter of this iframe's URL.
(function () {
  'use strict';
  if (window.AP && window.AP.__sandbox) return;
  var PROTOCOL = 'sandbox-ap/1';
  var params = new URLSearchParams(window.location.search);
  var hostOrigin = null;
  try { hostOrigin = new URL(params.get('xdm_e') || document.referrer).origin; } catch (e) { hostOrigin = null; }
  var script = document.currentScript;
  var options = {};
  ((script && script.getAttribute('data-options')) || '').split(';').forEach(function (part) {
    var kv = part.split(':');
    if (kv.length === 2) options[kv[0].trim()] = kv[1].trim();
  });
  var seq = 0, pending = {}, listeners = {}, dialogListeners = {}, themeOn = false;

  function call(method, args) {
    return new Promise(function (resolve, reject) {
      if (!hostOrigin || window.parent === window) { reject(new Error('AP: not running inside the Jira host')); return; }
      var id = ++seq;
      pending[id] = {resolve: resolve, reject: reject};
      window.parent.postMessage({ap: PROTOCOL, id: id, method: method, args: args || []}, hostOrigin);
    });
  }

  function withCallback(promise, callback) {
    if (typeof callback === 'function') promise.then(callback, function () { callback(null); });
    return promise;
  }

  function setTheme(mode) {
    var root = document.documentElement;
    root.setAttribute('data-color-mode', mode);
    root.setAttribute('data-theme', 'dark:dark light:light spacing:spacing typography:typography');
  }

  window.addEventListener('message', function (event) {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    var m = event.data;
    if (!m || m.ap !== PROTOCOL) return;
    if (m.id && pending[m.id]) {
      var p = pending[m.id];
      delete pending[m.id];
      if (m.error) p.reject(new Error(m.error)); else p.resolve(m.result);
      return;
    }
    if (m.type === 'event') {
      (listeners[m.name] || []).slice().forEach(function (l) {
        if (l.once) off(m.name, l.fn);
        l.fn.apply(null, Array.isArray(m.args) ? m.args : [m.args]);
      });
    } else if (m.type === 'theme' && themeOn) {
      setTheme(m.mode);
    } else if (m.type === 'dialog.close') {
      var list = dialogListeners[m.dialogId] || [];
      delete dialogListeners[m.dialogId];
      list.forEach(function (fn) { fn(m.data); });
      (listeners['dialog.close'] || []).forEach(function (l) { l.fn(m.data); });
    }
  });

  function on(name, fn, once) { (listeners[name] = listeners[name] || []).push({fn: fn, once: !!once}); }
  function off(name, fn) { listeners[name] = (listeners[name] || []).filter(function (l) { return l.fn !== fn; }); }

  function request(urlOrOptions, maybeOptions) {
    var o = typeof urlOrOptions === 'string' ? Object.assign({url: urlOrOptions}, maybeOptions || {}) : (urlOrOptions || {});
    return call('request', [{url: o.url, type: (o.type || 'GET').toUpperCase(), data: o.data,
      contentType: o.contentType, headers: o.headers}]).then(function (r) {
      var xhr = {status: r.status, statusText: r.statusText, responseText: r.body,
        getResponseHeader: function (n) { return String(n).toLowerCase() === 'content-type' ? r.contentType : null; }};
      if (r.status >= 200 && r.status < 300) {
        if (typeof o.success === 'function') o.success(r.body, r.statusText, xhr);
        return {body: r.body, xhr: xhr};
      }
      if (typeof o.error === 'function') o.error(xhr, r.statusText, null);
      var err = new Error('request failed with HTTP ' + r.status);
      err.xhr = xhr; err.err = r.statusText;
      throw err;
    });
  }

  var AP = {
    __sandbox: true,
    context: {
      getToken: function (cb) { return withCallback(call('context.getToken'), cb); },
      getContext: function (cb) { return withCallback(call('context.getContext'), cb); },
    },
    request: request,
    resize: function (width, height) {
      var h = height === undefined ? document.documentElement.scrollHeight : height;
      return call('resize', [width === undefined ? '100%' : width, h]);
    },
    sizeToParent: function () { return call('sizeToParent'); },
    dialog: {
      create: function (opts) {
        var handle = {_id: null, _queued: [], on: function (name, fn) {
          if (name !== 'close') return handle;
          if (handle._id) (dialogListeners[handle._id] = dialogListeners[handle._id] || []).push(fn);
          else handle._queued.push(fn);
          return handle;
        }};
        call('dialog.create', [opts || {}]).then(function (r) {
          handle._id = r.dialogId;
          dialogListeners[r.dialogId] = (dialogListeners[r.dialogId] || []).concat(handle._queued);
        });
        return handle;
      },
      close: function (data) { return call('dialog.close', [data]); },
      getCustomData: function (cb) { return withCallback(call('dialog.getCustomData'), cb); },
    },
    flag: {
      create: function (opts) {
        var idPromise = call('flag.create', [opts || {}]);
        return {close: function () { return idPromise.then(function (id) { return call('flag.close', [id]); }); }};
      },
    },
    navigator: {
      go: function (target, context) { return call('navigator.go', [target, context || {}]); },
      reload: function () { return call('navigator.reload'); },
      getLocation: function (cb) { return withCallback(call('navigator.getLocation'), cb); },
    },
    events: {
      on: function (name, fn) { on(name, fn, false); },
      once: function (name, fn) { on(name, fn, true); },
      off: function (name, fn) { off(name, fn); },
      emit: function (name) { return call('events.emit', [name, Array.prototype.slice.call(arguments, 1), false]); },
      emitPublic: function (name) { return call('events.emit', [name, Array.prototype.slice.call(arguments, 1), true]); },
    },
    theming: {
      initializeTheming: function () {
        themeOn = true;
        return call('theming.init').then(function (mode) { setTheme(mode); return mode; });
      },
    },
  };
  window.AP = AP;

  // Like the real all.js: keep the iframe sized to its content unless told otherwise.
  function autoSize() {
    if (options.sizeToParent === 'true') { AP.sizeToParent(); return; }
    if (options.resize === 'false') return;
    var last = 0;
    var measure = function () {
      var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
      if (h && Math.abs(h - last) > 1) { last = h; call('resize', ['100%', h]).catch(function () {}); }
    };
    if (window.ResizeObserver) new ResizeObserver(measure).observe(document.documentElement);
    measure();
  }
  if (hostOrigin && window.parent !== window) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', autoSize); else autoSize();
  }
})();
