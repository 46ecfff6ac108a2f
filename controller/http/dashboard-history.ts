/**
 * The dashboard's history and suspension parts, joined into the page's one inline script and style:
 * a revision's diff on click, a node's page on click, the suspended banner with Resume, and a Roll
 * back button on each revision that asks for confirmation first. Everything goes into the page
 * through `textContent`; requests go to the page's own origin only.
 */

/** CSS for the revision and node panels and the suspension banner. */
export const HISTORY_STYLE = `
.banner.suspended { background: var(--amber-bg); border-color: var(--amber); }
.banner.suspended strong { color: var(--amber); }
.banner.suspended button { margin-left: 12px; }
.banner ul { margin: 6px 0 0; padding-left: 20px; }
tr[data-revision], tr.node { cursor: pointer; }
tr[data-revision]:hover, tr.node:hover { background: var(--bg); }
tr.selected { outline: 2px solid var(--amber); outline-offset: -2px; }
.panel { margin-top: 16px; padding: 12px 16px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
.panel h3 { margin: 0 0 8px; font-size: 15px; }
.panel pre { margin: 8px 0; padding: 8px; overflow-x: auto; background: var(--bg); border-radius: 6px; font-size: 12px; }
.panel .added { color: var(--green); } .panel .removed { color: var(--red); }
.panel table { margin-top: 8px; }
.drift-yes { color: var(--red); font-weight: 600; }
.revisions col:nth-child(5) { width: 10%; }
`;

/** The script: functions called from the page's renderStatus, renderNode and renderRevisions. */
export const HISTORY_SCRIPT = `
var suspensionState = { suspended: false };

function postJson(path, body) {
  // through the page's api(): the stored bearer token goes along (http.tokenFile)
  return api(path, { method: 'POST', body: JSON.stringify(body || {}) }).then(function (res) {
    return res.json().catch(function () { return {}; }).then(function (reply) {
      if (!res.ok) throw new Error((reply.error && reply.error.message) || ('HTTP ' + res.status));
      return reply;
    });
  });
}

function renderSuspension(view) {
  var banner = document.getElementById('suspension');
  banner.replaceChildren();
  suspensionState.suspended = !!view.suspension;
  banner.setAttribute('data-suspended', String(suspensionState.suspended));
  if (!view.suspension) { banner.className = ''; banner.hidden = true; return; }
  var s = view.suspension;
  banner.hidden = false;
  banner.className = 'banner suspended';
  banner.appendChild(el('strong', '', 'Suspended'));
  banner.appendChild(el('span', '', ' since ' + s.since + ' by ' + s.by + ', pinned at '));
  banner.appendChild(el('code', '', shortRevision(s.revision)));
  if (s.reason) banner.appendChild(el('span', '', ': ' + s.reason));
  var resume = el('button', '', 'Resume');
  resume.id = 'resume';
  resume.type = 'button';
  resume.addEventListener('click', function () {
    var result = document.getElementById('action-result');
    result.textContent = 'resuming…';
    postJson('/api/resume', {}).then(function (reply) {
      result.textContent = 'resumed at ' + shortRevision(reply.revision);
    }).catch(function (err) { result.textContent = 'resume failed: ' + err.message; });
  });
  banner.appendChild(resume);
  var waiting = view.waiting;
  var list = el('ul');
  if (!waiting || !waiting.documents.length) list.appendChild(el('li', '', 'No registry changes waiting.'));
  else waiting.documents.forEach(function (d) {
    var item = el('li', d.valid ? '' : 'error-text', d.document + ' ' + d.change + (d.valid ? '' : ' (invalid: ' + d.problems.join('; ') + ')'));
    item.setAttribute('data-waiting', d.document);
    list.appendChild(item);
  });
  banner.appendChild(list);
}

function select(selector, attribute, value) {
  document.querySelectorAll(selector).forEach(function (row) {
    row.classList.toggle('selected', row.getAttribute(attribute) === value);
  });
}

function showRevision(revision) {
  select('tr[data-revision]', 'data-revision', revision);
  var panel = document.getElementById('detail');
  panel.hidden = false;
  panel.replaceChildren(el('h3', '', 'Revision ' + shortRevision(revision)), el('p', 'meta', 'loading…'));
  getJson('/api/revisions/' + encodeURIComponent(revision)).then(function (d) {
    panel.setAttribute('data-detail', 'revision');
    panel.setAttribute('data-revision', d.revision);
    panel.replaceChildren(el('h3', '', 'Revision ' + shortRevision(d.revision)));
    panel.appendChild(el('p', 'meta', d.time + ' · ' + d.trigger));
    d.nodes.forEach(function (n) {
      panel.appendChild(el('p', '', n.node + ' (' + n.change + '): ' + n.artifacts.map(function (a) { return a.name + ' ' + a.change; }).join(', ')));
    });
    if (!d.files.length) panel.appendChild(el('p', 'empty', 'No file changed.'));
    d.files.forEach(function (f) {
      var pre = el('pre');
      pre.setAttribute('data-file', f.path);
      f.patch.split('\\n').forEach(function (line) {
        var cls = line.charAt(0) === '+' && line.indexOf('+++') !== 0 ? 'added' : line.charAt(0) === '-' && line.indexOf('---') !== 0 ? 'removed' : '';
        pre.appendChild(el('span', cls, line + '\\n'));
      });
      panel.appendChild(pre);
    });
  }).catch(function (err) { panel.replaceChildren(el('p', 'error-text', err.message)); });
}

function showNode(name) {
  select('tr.node', 'data-node', name);
  var panel = document.getElementById('detail');
  panel.hidden = false;
  panel.replaceChildren(el('h3', '', 'Node ' + name), el('p', 'meta', 'loading…'));
  getJson('/api/nodes/' + encodeURIComponent(name)).then(function (n) {
    panel.setAttribute('data-detail', 'node');
    panel.setAttribute('data-node-detail', n.node);
    panel.replaceChildren(el('h3', '', 'Node ' + n.node + ' (' + n.role + ', ' + n.address + ')'));
    panel.appendChild(el('p', 'meta', n.status + ' · desired ' + shortRevision(n.revision) + ' · verified at ' + (n.verifiedRevision ? shortRevision(n.verifiedRevision) : 'never')));
    if (n.last_error) panel.appendChild(el('p', 'error-text', n.last_error.code + ': ' + n.last_error.message));
    var table = el('table');
    var head = el('tr');
    ['Artifact', 'Path', 'Desired oid', 'Reported oid', 'Drift'].forEach(function (h) { head.appendChild(el('th', '', h)); });
    table.appendChild(el('thead')).appendChild(head);
    var body = table.appendChild(el('tbody'));
    n.artifacts.forEach(function (a) {
      var tr = el('tr');
      tr.setAttribute('data-artifact', a.name);
      tr.appendChild(el('td', '', a.name));
      tr.appendChild(el('td', '', a.path));
      tr.appendChild(el('td')).appendChild(el('code', '', shortRevision(a.desired)));
      tr.appendChild(el('td')).appendChild(el('code', '', a.reported ? shortRevision(a.reported) : 'unknown'));
      tr.appendChild(el('td', a.drift ? 'drift-yes' : '', a.drift ? 'drifted' : 'no'));
      body.appendChild(tr);
    });
    panel.appendChild(table);
    panel.appendChild(el('p', 'meta', 'Verified at: ' + (n.verifiedAt.length ? n.verifiedAt.map(function (r) { return shortRevision(r.revision) + ' (' + r.trigger + ')'; }).join(', ') : 'never')));
  }).catch(function (err) { panel.replaceChildren(el('p', 'error-text', err.message)); });
}

function rollbackButton(revision) {
  var button = el('button', '', 'Roll back');
  button.type = 'button';
  button.setAttribute('data-rollback', revision);
  button.addEventListener('click', function (event) {
    event.stopPropagation();
    if (!window.confirm('Roll back every node to revision ' + shortRevision(revision) + '? The site will be suspended until you resume.')) return;
    var result = document.getElementById('action-result');
    result.textContent = 'rolling back…';
    postJson('/api/rollback', { revision: revision }).then(function (reply) {
      result.textContent = 'rolled back to ' + shortRevision(reply.target) + ' as ' + shortRevision(reply.revision);
    }).catch(function (err) { result.textContent = 'roll back failed: ' + err.message; });
  });
  return button;
}
`;
