// Sandbox Jira host side of the AP bridge. Each app iframe talks to this page over postMessage; a message is
// handled only when it comes from one of our iframes' windows AND from that app's registered origin.
(function () {
  'use strict';
  var PROTOCOL = 'sandbox-ap/1';
  var config = JSON.parse(document.getElementById('sandbox-host-config').textContent);
  var frames = [];          // {el, win, app, module, origin, customData, dialogId, opener}
  var dialogs = {};         // dialogId -> {layer element, frame record, opener record}
  var flags = {};
  var seq = 0;
  var mode = localStorage.getItem('sandbox-theme') || 'light';

  function register(el, extra) {
    var record = Object.assign({
      el: el, app: el.dataset.apApp, module: el.dataset.apModule, origin: el.dataset.apOrigin, customData: null,
    }, extra || {});
    frames.push(record);
    return record;
  }

  function recordFor(source) {
    for (var i = 0; i < frames.length; i++) if (frames[i].el.contentWindow === source) return frames[i];
    return null;
  }

  function post(record, message) {
    if (record.el.contentWindow) {
      message.ap = PROTOCOL;
      record.el.contentWindow.postMessage(message, record.origin);
    }
  }

  function bridge(path, body) {
    return fetch('/_sandbox/bridge/' + path, {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-Sandbox-Page': config.token},
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error((data.errorMessages || ['bridge call failed'])[0]);
        return data;
      });
    });
  }

  function applyTheme(next) {
    mode = next === 'dark' ? 'dark' : 'light';
    localStorage.setItem('sandbox-theme', mode);
    document.documentElement.setAttribute('data-color-mode', mode);
    var button = document.getElementById('theme-toggle');
    if (button) button.textContent = 'Theme: ' + mode;
    frames.forEach(function (f) { if (f.theming) post(f, {type: 'theme', mode: mode}); });
  }

  function showFlag(options) {
    var id = 'flag-' + (++seq);
    var box = document.createElement('div');
    box.className = 'flag ' + (['success', 'error', 'warning', 'info'].indexOf(options.type) >= 0 ? options.type : 'info');
    box.id = id;
    box.setAttribute('role', options.type === 'error' ? 'alert' : 'status');
    var close = document.createElement('button');
    close.type = 'button'; close.className = 'subtle'; close.textContent = '\u00d7';
    close.setAttribute('aria-label', 'Dismiss');
    close.onclick = function () { box.remove(); };
    var title = document.createElement('strong');
    title.textContent = String(options.title || '');
    var body = document.createElement('div');
    body.textContent = String(options.body || '');   // text only: never app-supplied HTML in the host page
    box.append(close, title, body);
    document.getElementById('flags').append(box);
    flags[id] = box;
    if (options.close === 'auto') setTimeout(function () { box.remove(); }, 5000);
    return id;
  }

  function openDialog(opener, options) {
    return bridge('frame', {app: opener.app, module: options.key || ''}).then(function (frame) {
      var dialogId = 'dialog-' + (++seq);
      var layer = document.getElementById('dialog-layer');
      var box = document.createElement('div');
      box.className = 'dialog';
      var full = options.size === 'fullscreen' || options.size === 'maximum';
      box.style.width = full ? '96vw' : (options.width || '600px');
      box.style.height = full ? '94vh' : (options.height || '400px');
      if (options.chrome !== false) {
        var header = document.createElement('header');
        var title = document.createElement('span');
        title.textContent = String(options.header || frame.name || '');
        var close = document.createElement('button');
        close.type = 'button'; close.className = 'subtle'; close.textContent = 'Close';
        close.onclick = function () { closeDialog(dialogId, null); };
        header.append(title, close);
        box.append(header);
      }
      var iframe = document.createElement('iframe');
      iframe.className = 'ap-iframe';
      iframe.dataset.apApp = frame.app; iframe.dataset.apModule = frame.module; iframe.dataset.apOrigin = frame.origin;
      iframe.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups allow-downloads');
      iframe.style.height = '100%';
      iframe.src = frame.src;
      box.append(iframe);
      layer.replaceChildren(box);
      layer.hidden = false;
      var record = register(iframe, {customData: options.customData || null, dialogId: dialogId, opener: opener});
      dialogs[dialogId] = {layer: layer, record: record, opener: opener};
      return {dialogId: dialogId};
    });
  }

  function closeDialog(dialogId, data) {
    var dialog = dialogs[dialogId];
    if (!dialog) return;
    delete dialogs[dialogId];
    frames = frames.filter(function (f) { return f !== dialog.record; });
    dialog.layer.hidden = true;
    dialog.layer.replaceChildren();
    post(dialog.opener, {type: 'dialog.close', dialogId: dialogId, data: data});
  }

  function navigate(record, target, context) {
    context = context || {};
    var ctx = config.context.jira || {};
    var url = null;
    if (target === 'issue') url = '/browse/' + encodeURIComponent(context.issueKey || (ctx.issue || {}).key || '');
    else if (target === 'project' || target === 'projectAdminSummary') {
      url = '/projects/' + encodeURIComponent(context.projectKey || (ctx.project || {}).key || '');
    } else if (target === 'addonmodule' || target === 'addonModule') {
      var params = new URLSearchParams();
      Object.keys(context.customData || {}).forEach(function (k) { params.set('ac.' + k, context.customData[k]); });
      if (ctx.issue) params.set('issue.key', ctx.issue.key);
      if (ctx.project) params.set('project.key', ctx.project.key);
      url = '/plugins/servlet/ac/' + encodeURIComponent(context.addonKey || record.app) + '/' +
        encodeURIComponent(context.moduleKey || '') + '?' + params.toString();
    } else if (target === 'site' || target === 'dashboard') url = '/jira';
    if (url) location.assign(url);
    return null;
  }

  var handlers = {
    'context.getToken': function (record) {
      return bridge('token', {app: record.app}).then(function (d) { return d.token; });
    },
    'context.getContext': function () { return config.context; },
    'request': function (record, args) {
      var o = args[0] || {};
      return bridge('request', {app: record.app, url: o.url, type: o.type || 'GET', data: o.data,
        contentType: o.contentType, headers: o.headers || {}});
    },
    'resize': function (record, args) {
      var w = args[0], h = args[1];
      if (h !== undefined && h !== null) record.el.style.height = /^\d+$/.test(String(h)) ? h + 'px' : String(h);
      if (w !== undefined && w !== null && String(w) !== '100%') {
        record.el.style.width = /^\d+$/.test(String(w)) ? w + 'px' : String(w);
      }
      return true;
    },
    'sizeToParent': function (record) {
      var top = record.el.getBoundingClientRect().top + window.scrollY;
      record.el.style.height = Math.max(200, window.innerHeight - top - 24) + 'px';
      return true;
    },
    'dialog.create': function (record, args) { return openDialog(record, args[0] || {}); },
    'dialog.close': function (record, args) {
      if (record.dialogId) closeDialog(record.dialogId, args[0] === undefined ? null : args[0]);
      return true;
    },
    'dialog.getCustomData': function (record) { return record.customData; },
    'flag.create': function (record, args) { return showFlag(args[0] || {}); },
    'flag.close': function (record, args) { var f = flags[args[0]]; if (f) f.remove(); return true; },
    'navigator.go': function (record, args) { return navigate(record, args[0], args[1]); },
    'navigator.reload': function () { location.reload(); return true; },
    'navigator.getLocation': function () {
      var ctx = config.context.jira || {};
      var target = ctx.issue ? 'issue' : ctx.project ? 'project' : 'site';
      return {target: target, context: {issueKey: (ctx.issue || {}).key, projectKey: (ctx.project || {}).key},
              href: location.href};
    },
    'events.emit': function (record, args) {
      var name = String(args[0] || ''), payload = args[1] || [], pub = !!args[2];
      frames.forEach(function (f) {
        if (f !== record && (pub || f.app === record.app)) post(f, {type: 'event', name: name, args: payload, sender: record.app});
      });
      return true;
    },
    'theming.init': function (record) { record.theming = true; return mode; },
  };

  window.addEventListener('message', function (event) {
    var record = recordFor(event.source);
    var m = event.data;
    if (!record || !m || m.ap !== PROTOCOL) return;
    if (event.origin !== record.origin) {           // a window we framed, but not the app's origin: refuse
      console.warn('sandbox: ignored a message from unexpected origin', event.origin);
      return;
    }
    var handler = handlers[m.method];
    var reply = function (result, error) { post(record, {id: m.id, result: result, error: error}); };
    if (!handler) { reply(null, 'unknown method ' + m.method); return; }
    Promise.resolve()
      .then(function () { return handler(record, Array.isArray(m.args) ? m.args : []); })
      .then(function (result) { reply(result === undefined ? null : result, null); },
            function (err) { reply(null, String(err && err.message || err)); });
  });

  function manageApps() {
    var form = document.getElementById('install-form');
    var status = document.getElementById('install-status');
    var run = function (body) {
      status.textContent = 'Working…';
      bridge('apps', body).then(function () { location.reload(); },
                                function (err) { status.textContent = err.message; });
    };
    if (form) {
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        run({descriptorUrl: document.getElementById('descriptor-url').value});
      });
    }
    document.querySelectorAll('button[data-uninstall]').forEach(function (button) {
      button.addEventListener('click', function () { run({uninstall: button.dataset.uninstall}); });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    manageApps();
    document.querySelectorAll('iframe.ap-iframe').forEach(function (el) { register(el); });
    applyTheme(mode);
    var button = document.getElementById('theme-toggle');
    if (button) button.addEventListener('click', function () { applyTheme(mode === 'dark' ? 'light' : 'dark'); });
  });
})();
