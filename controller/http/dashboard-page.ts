/**
 * The dashboard page served at `/`: one self-contained HTML document (inline CSS and JS, no
 * external resources) that reads `/api/status` and `/api/revisions` and follows `/api/events`,
 * falling back to polling every 5 s while the event stream is down. Every registry-derived string
 * goes into the page through `textContent`, never markup, so a hostile node name cannot inject
 * HTML; the Content-Security-Policy allows only this exact script and style (by hash).
 * With a bearer token (`http.tokenFile`) the API answers 401: the page then asks for the token
 * once, keeps it in sessionStorage (this tab only, gone when it closes) and sends it with every
 * request; the event stream is read with fetch for that reason (EventSource cannot send headers).
 */
import { createHash } from 'node:crypto';
import { HISTORY_SCRIPT, HISTORY_STYLE } from './dashboard-history.js';
import { BASE_STYLE } from './dashboard-style.js';

const BASE_SCRIPT = `
'use strict';
var ROLES = [['laptop', 'Management laptops'], ['vps', 'VPS edge nodes'], ['worker', 'Worker nodes']];
var POLL_MS = 5000;
var TOKEN_KEY = 'courier-token';
var state = { revision: undefined, pollTimer: undefined, stream: undefined, locked: false };

function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function shortRevision(revision) {
  return revision ? String(revision).slice(0, 12) : '';
}

function formatAge(iso, now) {
  if (!iso) return 'never';
  var then = Date.parse(iso);
  if (isNaN(then)) return 'unknown';
  var s = Math.floor((now - then) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return s + 's ago';
  var m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + (s % 60) + 's ago';
  var h = Math.floor(m / 60);
  if (h < 48) return h + 'h ' + (m % 60) + 'm ago';
  return Math.floor(h / 24) + 'd ago';
}

function ageCell(iso) {
  var td = el('td', 'age');
  if (iso) { td.setAttribute('data-time', iso); td.title = iso; }
  td.textContent = formatAge(iso, Date.now());
  return td;
}

function timeSpan(className, prefix, iso) {
  var span = el('span', className);
  if (iso) { span.setAttribute('data-time', iso); span.title = iso; }
  span.setAttribute('data-prefix', prefix);
  span.textContent = prefix + formatAge(iso, Date.now());
  return span;
}

function tickAges() {
  var now = Date.now();
  document.querySelectorAll('[data-time]').forEach(function (node) {
    node.textContent = (node.getAttribute('data-prefix') || '') + formatAge(node.getAttribute('data-time'), now);
  });
}

function renderNode(n) {
  var tr = el('tr', 'node');
  tr.setAttribute('data-node', n.node);
  tr.addEventListener('click', function () { showNode(n.node); });
  tr.setAttribute('data-status', n.status);
  var name = el('td');
  name.appendChild(el('strong', '', n.node));
  name.appendChild(el('span', 'address', n.address));
  tr.appendChild(name);
  var status = el('td');
  status.appendChild(el('span', 'badge ' + n.status, n.status.replace('_', ' ')));
  tr.appendChild(status);
  var synced = tr.appendChild(el('td'));
  synced.appendChild(timeSpan('', '', n.last_sync));
  // a failing node's last try says more than its last success
  if (n.last_attempt && n.last_attempt !== n.last_sync) synced.appendChild(timeSpan('attempt', 'tried ', n.last_attempt));
  var rev = el('td');
  if (n.revision) {
    rev.appendChild(el('code', '', shortRevision(n.revision)));
    rev.title = n.revision;
    if (!n.current) rev.appendChild(el('span', 'behind', 'behind'));
  } else {
    rev.appendChild(el('span', 'empty', 'none'));
  }
  tr.appendChild(rev);
  tr.appendChild(el('td', '', n.failures));
  var error = el('td');
  if (n.last_error) error.appendChild(el('span', 'error-text', n.last_error.code + ': ' + n.last_error.message));
  if (n.drift && n.drift.length) error.appendChild(el('span', 'drift', 'drift: ' + n.drift.map(function (d) { return d.path; }).join(', ')));
  tr.appendChild(error);
  return tr;
}

function renderGroup(title, nodes) {
  var section = el('section', 'group');
  section.appendChild(el('h2', '', title + ' (' + nodes.length + ')'));
  var table = el('table');
  var columns = table.appendChild(el('colgroup'));
  for (var i = 0; i < 6; i++) columns.appendChild(el('col'));
  var head = el('tr');
  ['Node', 'Status', 'Last sync', 'Revision', 'Failures', 'Last error'].forEach(function (h) { head.appendChild(el('th', '', h)); });
  table.appendChild(el('thead')).appendChild(head);
  var body = table.appendChild(el('tbody'));
  nodes.forEach(function (n) { body.appendChild(renderNode(n)); });
  section.appendChild(table);
  return section;
}

function renderStatus(view) {
  var revision = document.getElementById('revision');
  revision.textContent = view.revision ? shortRevision(view.revision) : 'none yet';
  revision.title = view.revision || '';
  var updated = document.getElementById('updated');
  updated.textContent = formatAge(view.updated, Date.now());
  if (view.updated) { updated.setAttribute('data-time', view.updated); updated.title = view.updated; } else updated.removeAttribute('data-time');

  renderSuspension(view);
  var banner = document.getElementById('registry');
  banner.replaceChildren();
  banner.className = 'banner ' + (view.registryValid ? 'valid' : 'invalid');
  banner.setAttribute('data-valid', String(view.registryValid));
  if (view.registryValid) {
    banner.appendChild(el('span', '', 'Registry valid'));
  } else {
    banner.appendChild(el('strong', '', 'Registry invalid: the last good revision stays in force until it validates.'));
    if (view.registryError) banner.appendChild(el('pre', '', view.registryError));
  }

  var counts = { active: 0, pending_sync: 0, error: 0 };
  view.nodes.forEach(function (n) { counts[n.status] = (counts[n.status] || 0) + 1; });
  var summary = document.getElementById('summary');
  summary.replaceChildren(
    el('span', '', counts.active + ' active'),
    el('span', '', counts.pending_sync + ' pending sync'),
    el('span', '', counts.error + ' error'));

  var groups = document.getElementById('nodes');
  groups.replaceChildren();
  var known = ROLES.map(function (r) { return r[0]; });
  ROLES.concat([['', 'Other nodes']]).forEach(function (role) {
    var nodes = view.nodes.filter(function (n) { return role[0] ? n.role === role[0] : known.indexOf(n.role) < 0; });
    if (nodes.length) groups.appendChild(renderGroup(role[1], nodes));
  });
  if (!view.nodes.length) groups.appendChild(el('p', 'empty', 'No nodes in the registry.'));

  if (view.revision !== state.revision) {
    state.revision = view.revision;
    loadRevisions();
  }
}

function renderRevisions(revisions) {
  var body = document.getElementById('revisions');
  body.replaceChildren();
  revisions.forEach(function (r) {
    var tr = el('tr');
    tr.setAttribute('data-revision', r.revision);
    var id = el('td');
    id.appendChild(el('code', '', shortRevision(r.revision)));
    id.title = r.revision;
    tr.appendChild(id);
    tr.appendChild(ageCell(r.time));
    tr.appendChild(el('td', '', r.trigger));
    tr.appendChild(el('td', '', r.nodes.length ? r.nodes.join(', ') : 'none'));
    tr.appendChild(el('td')).appendChild(rollbackButton(r.revision));
    tr.addEventListener('click', function () { showRevision(r.revision); });
    body.appendChild(tr);
  });
  if (!revisions.length) {
    var empty = el('td', 'empty', 'No revisions yet.');
    empty.colSpan = 5;
    body.appendChild(el('tr')).appendChild(empty);
  }
}

function authHeaders() {
  var token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: 'Bearer ' + token } : {};
}

// Every API request: the stored token, and a 401 turns the page to the token form.
function api(path, init) {
  var options = init || {};
  options.cache = 'no-store';
  options.headers = Object.assign(options.body ? { 'content-type': 'application/json' } : {}, authHeaders());
  return fetch(path, options).then(function (res) {
    if (res.status === 401) {
      askForToken(sessionStorage.getItem(TOKEN_KEY) ? 'The token was not accepted.' : '');
      throw new Error(path + ': HTTP 401');
    }
    return res;
  });
}

function getJson(path) {
  return api(path).then(function (res) {
    if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
    return res.json();
  });
}

function askForToken(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.locked = true;
  stopPolling();
  if (state.stream) { state.stream.abort(); state.stream = undefined; }
  setConnection('offline', 'token needed');
  document.getElementById('login').hidden = false;
  document.getElementById('login-error').textContent = message;
  document.getElementById('token').focus();
}

document.getElementById('login').addEventListener('submit', function (event) {
  event.preventDefault();
  var input = document.getElementById('token');
  var token = input.value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  input.value = '';
  document.getElementById('login').hidden = true;
  state.locked = false;
  start();
});

function loadRevisions() {
  getJson('/api/revisions?limit=10').then(renderRevisions).catch(function () {});
}

function setConnection(mode, text) {
  var node = document.getElementById('connection');
  node.className = mode;
  node.textContent = text;
}

function poll() {
  if (state.locked) return;
  getJson('/api/status').then(function (view) {
    renderStatus(view);
    if (state.pollTimer !== undefined) setConnection('polling', 'polling every 5 s');
  }).catch(function () { if (!state.locked) setConnection('offline', 'daemon unreachable'); });
}

function startPolling() {
  if (state.pollTimer !== undefined || state.locked) return;
  state.pollTimer = setInterval(poll, POLL_MS);
  poll();
}

function stopPolling() {
  if (state.pollTimer === undefined) return;
  clearInterval(state.pollTimer);
  state.pollTimer = undefined;
}

// One server-sent event frame: 'event:' and 'data:' lines (comments and retry ignored).
function handleFrame(frame) {
  var name = 'message';
  var data = [];
  frame.split('\\n').forEach(function (line) {
    if (line.indexOf('event:') === 0) name = line.slice(6).trim();
    else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
  });
  if (name === 'status' && data.length) renderStatus(JSON.parse(data.join('\\n')));
}

// The event stream over fetch (it carries the token); poll while it is down, retry every 3 s.
function connect() {
  if (state.locked || state.stream) return;
  var controller = new AbortController();
  state.stream = controller;
  api('/api/events', { signal: controller.signal }).then(function (res) {
    if (!res.ok || !res.body) throw new Error('/api/events: HTTP ' + res.status);
    stopPolling();
    setConnection('live', 'live');
    var reader = res.body.getReader();
    var decoder = new TextDecoder();
    var buffer = '';
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) throw new Error('/api/events: stream ended');
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\\r\\n?/g, '\\n');
        var frames = buffer.split('\\n\\n');
        buffer = frames.pop();
        frames.forEach(handleFrame);
        return pump();
      });
    }
    return pump();
  }).catch(function () {
    if (state.stream !== controller) return;
    state.stream = undefined;
    if (state.locked) return;
    setConnection('polling', 'reconnecting; polling every 5 s');
    startPolling();
    setTimeout(connect, 3000);
  });
}

function start() {
  poll();
  connect();
}

document.getElementById('reconcile').addEventListener('click', function () {
  var result = document.getElementById('reconcile-result');
  result.textContent = 'requesting…';
  api('/api/reconcile', { method: 'POST' }).then(function (res) {
    return res.json().catch(function () { return {}; }).then(function (body) {
      if (res.status === 202) result.textContent = 'reconcile started';
      else if (res.status === 404) result.textContent = 'reconcile not available';
      else result.textContent = 'not started: ' + (body.reason || (body.error && body.error.message) || 'HTTP ' + res.status);
    });
  }).catch(function () { result.textContent = state.locked ? 'token needed' : 'daemon unreachable'; });
});

setInterval(tickAges, 1000);
start();
`;

const STYLE = BASE_STYLE + HISTORY_STYLE;
const SCRIPT = BASE_SCRIPT + HISTORY_SCRIPT;

/** The dashboard HTML document. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>courier</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>courier</h1>
  <span class="meta">desired revision <b id="revision">…</b></span>
  <span class="meta">status updated <span id="updated">…</span></span>
  <span class="spacer"></span>
  <span id="connection" class="polling">connecting</span>
  <button id="reconcile" type="button">Reconcile now</button>
  <span id="reconcile-result" class="meta"></span>
  <span id="action-result" class="meta"></span>
</header>
<main>
  <form id="login" class="banner" hidden>
    <label>This daemon needs its API token (the content of http.tokenFile): <input id="token" type="password" autocomplete="off" spellcheck="false"></label>
    <button type="submit">Open dashboard</button>
    <span id="login-error" class="error-text"></span>
  </form>
  <div id="suspension" hidden></div>
  <div id="registry" class="banner">Loading status…</div>
  <div id="summary" class="summary"></div>
  <div id="nodes"></div>
  <h2>Recent revisions</h2>
  <table class="revisions">
    <colgroup><col><col><col><col><col></colgroup>
    <thead><tr><th>Revision</th><th>Time</th><th>Trigger</th><th>Changed nodes</th><th></th></tr></thead>
    <tbody id="revisions"></tbody>
  </table>
  <div id="detail" class="panel" hidden></div>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** The page's Content-Security-Policy: its own inline script and style (by hash), requests to its own origin, nothing else. */
export const DASHBOARD_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src '${hashSource(SCRIPT)}'`,
  `style-src '${hashSource(STYLE)}'`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A CSP hash source for an inline element's exact text. */
function hashSource(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}
