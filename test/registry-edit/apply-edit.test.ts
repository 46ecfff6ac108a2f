/**
 * applyEdit keeps the document's own formatting: YAML comments, key order, quoting, indentation and
 * sequence style through the yaml Document API; JSON indentation, compactness, trailing newline;
 * a byte-order mark and CRLF line ends in both.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { applyEdit } from '../../controller/registry-edit/apply-edit.js';
import type { EditOperation } from '../../controller/registry-edit/model.js';

const YAML = `# Node registry for the lab (edited by hand and by courier)
management_laptops: []   # none yet
vps_nodes:
  # Edge in Frankfurt; keep sudo, the provider image has no root login.
  - name: edge-1
    ip: "100.64.0.1"
    ssh_user: sammy   # not root
    sudo: true
worker_nodes:
  - name: worker-1
    ip: 100.64.0.9
    ssh_user: ops

metadata:
  version: '1.0'
`;

describe('applyEdit on YAML', () => {
  it('an edit without operations gives the text back unchanged', () => {
    expect(applyEdit(YAML, 'yaml', [])).toBe(YAML);
  });

  it('appending an entry keeps comments, quoting and the untouched lines as they were', () => {
    const edited = applyEdit(YAML, 'yaml', [{ op: 'set', path: ['worker_nodes', 1], value: { name: 'worker-2', ip: '100.64.0.10', ssh_user: 'ops', last_sync: null } }]);
    expect(edited).toBe(
      YAML.replace(
        '    ssh_user: ops\n\n',
        '    ssh_user: ops\n  - name: worker-2\n    ip: 100.64.0.10\n    ssh_user: ops\n    last_sync: null\n\n',
      ),
    );
  });

  it('changing a field keeps its comment and position; deleting a field removes only that line', () => {
    const edited = applyEdit(YAML, 'yaml', [
      { op: 'set', path: ['vps_nodes', 0, 'ssh_user'], value: 'admin' },
      { op: 'delete', path: ['vps_nodes', 0, 'sudo'] },
    ]);
    // Only the changed line is re-printed (one space before its comment); every other line is the original's.
    expect(edited).toBe(YAML.replace('    ssh_user: sammy   # not root\n    sudo: true\n', '    ssh_user: admin # not root\n'));
  });

  it('the first entry of an empty flow list is written as a block list', () => {
    const edited = applyEdit(YAML, 'yaml', [{ op: 'set', path: ['management_laptops', 0], value: { name: 'laptop', ip: '100.64.0.2', ssh_user: 'me' } }]);
    expect(edited).toBe(YAML.replace('management_laptops: []   # none yet\n', 'management_laptops:\n  # none yet\n  - name: laptop\n    ip: 100.64.0.2\n    ssh_user: me\n'));
  });

  it('keeps four-space indentation', () => {
    const text = 'domains:\n    example.com:\n        description: main\nvps_nodes:\n    - tailscale_ip: 100.64.0.1\n      public_ip: 203.0.113.1\n';
    const edited = applyEdit(text, 'yaml', [{ op: 'set', path: ['domains', 'example.org'], value: { description: '', status: 'active' } }]);
    expect(edited).toBe('domains:\n    example.com:\n        description: main\n    example.org:\n        description: ""\n        status: active\nvps_nodes:\n    - tailscale_ip: 100.64.0.1\n      public_ip: 203.0.113.1\n');
  });

  it('keeps unindented sequences', () => {
    const text = 'vps_nodes:\n- name: edge-1\n  ip: 100.64.0.1\nworker_nodes: []\n';
    const edited = applyEdit(text, 'yaml', [{ op: 'set', path: ['vps_nodes', 1], value: { name: 'edge-2', ip: '100.64.0.2' } }]);
    expect(edited).toBe('vps_nodes:\n- name: edge-1\n  ip: 100.64.0.1\n- name: edge-2\n  ip: 100.64.0.2\nworker_nodes: []\n');
  });

  it('a layout the yaml printer cannot reproduce line for line is re-printed whole, comments kept, content exact', () => {
    const text = '# edges\nvps_nodes: [{name: edge-1, ip: 100.64.0.1},\n  {name: edge-2, ip: 100.64.0.2}]\n';
    const edited = applyEdit(text, 'yaml', [{ op: 'delete', path: ['vps_nodes', 0] }]);
    expect(edited.startsWith('# edges\n')).toBe(true);
    expect(parse(edited)).toEqual({ vps_nodes: [{ name: 'edge-2', ip: '100.64.0.2' }] });
  });

  it('keeps a document without a trailing newline that way', () => {
    expect(applyEdit('a: 1 # one', 'yaml', [{ op: 'set', path: ['b'], value: 2 }])).toBe('a: 1 # one\nb: 2');
  });

  it('an empty YAML document gets a block map', () => {
    expect(applyEdit('', 'yaml', [{ op: 'set', path: ['app'], value: { subdomain: 'app', port: 80 } }])).toBe('app:\n  subdomain: app\n  port: 80\n');
  });

  it('keeps CRLF line ends', () => {
    const edited = applyEdit('a:\r\n  x: 1\r\n', 'yaml', [{ op: 'set', path: ['b'], value: { y: 2 } }]);
    expect(edited).toBe('a:\r\n  x: 1\r\nb:\r\n  y: 2\r\n');
  });
});

describe('applyEdit on JSON', () => {
  const doc = { zeta: { port: 1 }, alpha: { port: 2 } };
  const add: EditOperation[] = [{ op: 'set', path: ['mid'], value: { port: 3 } }];

  it.each([
    ['two spaces (jq)', JSON.stringify(doc, null, 2) + '\n', (v: unknown) => JSON.stringify(v, null, 2) + '\n'],
    ['four spaces', JSON.stringify(doc, null, 4) + '\n', (v: unknown) => JSON.stringify(v, null, 4) + '\n'],
    ['tabs', JSON.stringify(doc, null, '\t') + '\n', (v: unknown) => JSON.stringify(v, null, '\t') + '\n'],
    ['compact, no newline (kubectl patch)', JSON.stringify(doc), (v: unknown) => JSON.stringify(v)],
    ['two spaces, no trailing newline', JSON.stringify(doc, null, 2), (v: unknown) => JSON.stringify(v, null, 2)],
  ])('keeps key order and %s', (_name, text, format) => {
    expect(applyEdit(text, 'json', add)).toBe(format({ zeta: { port: 1 }, alpha: { port: 2 }, mid: { port: 3 } }));
  });

  it('an assigned key keeps its position', () => {
    const edited = applyEdit(JSON.stringify(doc, null, 2), 'json', [{ op: 'set', path: ['zeta', 'port'], value: 9 }]);
    expect(Object.keys(JSON.parse(edited) as object)).toEqual(['zeta', 'alpha']);
  });

  it('a new document is two-space JSON with a trailing newline', () => {
    expect(applyEdit('', 'json', add)).toBe('{\n  "mid": {\n    "port": 3\n  }\n}\n');
  });

  it('keeps a byte-order mark and CRLF line ends', () => {
    const text = '\ufeff' + JSON.stringify(doc, null, 2).replace(/\n/g, '\r\n') + '\r\n';
    expect(applyEdit(text, 'json', add)).toBe('\ufeff' + JSON.stringify({ ...doc, mid: { port: 3 } }, null, 2).replace(/\n/g, '\r\n') + '\r\n');
  });

  it('deleting a list entry closes the gap', () => {
    expect(applyEdit('{"a": [1, 2, 3]}', 'json', [{ op: 'delete', path: ['a', 1] }])).toBe('{"a":[1,3]}');
  });

  it('a key named __proto__ becomes a field, not the prototype', () => {
    const edited = applyEdit('{}', 'json', [{ op: 'set', path: ['__proto__', 'x'], value: 1 }]);
    expect(edited).toBe('{"__proto__":{"x":1}}');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
