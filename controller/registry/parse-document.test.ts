import { describe, expect, it } from 'vitest';
import { parseRegistry } from './parse-registry.js';
import { locateOffset } from './parse-document.js';
import { scanJson } from './scan-json.js';
import { problemsOf, snapshotOf } from '../../test/fixtures/registry-kit/registry-kit.js';

describe('JSON syntax errors', () => {
  const cases: [name: string, text: string, expected: RegExp][] = [
    ['a misspelled literal (V8 gives no position)', '{\n  "a": {\n    "subdomain": tru\n  }\n}', /^is not valid JSON: line 3, column 21: /],
    ['a missing comma (V8 gives a position)', '{\n  "a": {"subdomain": "a"}\n  "b": {}\n}', /^is not valid JSON: line 3, column 3: /],
    ['a trailing comma', '{\n  "a": {"subdomain": "a"},\n}', /^is not valid JSON: line 3, column 1: /],
    ['an unterminated document', '{\n  "a": {', /^is not valid JSON: line 2, column 9: /],
    ['a raw newline inside a string', '{"a": {"subdomain": "a\nb"}}', /^is not valid JSON: line 1, column 23: /],
    ['a single-quoted string', "{\r\n  'a': {}\r\n}", /^is not valid JSON: line 2, column 3: /],
    ['content after the value', '{}\n{}', /^is not valid JSON: line 2, column 1: /],
  ];

  it.each(cases)('reports %s with line and column', (_name, text, expected) => {
    const problems = problemsOf({ 'services.json': text });
    expect(problems.map((p) => [p.document, p.path])).toEqual([['services.json', '$']]);
    expect(problems[0]?.message).toMatch(expected);
  });

  it('never echoes the document in the message', () => {
    const secretish = `{"a": {"subdomain": "${'z'.repeat(200)}", "b": tru}}`;
    const [problem] = problemsOf({ 'services.json': secretish });
    expect(problem?.message).not.toContain('zzzz');
  });

  it('rejects duplicate keys, which JSON.parse would silently merge', () => {
    const problems = problemsOf({ 'services.json': '{\n  "a": {"subdomain": "a"},\n  "a": {"subdomain": "b"}\n}' });
    expect(problems.map((p) => [p.document, p.path])).toEqual([['services.json', '$.a']]);
    expect(problems[0]?.message).toMatch(/^is a duplicate key at line 3, column 3;/);
  });

  it('rejects nesting deep enough to threaten the stack', () => {
    const deep = `{"a": {"subdomain": "a", "x": ${'['.repeat(100)}${']'.repeat(100)}}}`;
    expect(problemsOf({ 'services.json': deep })[0]?.message).toMatch(/nested deeper than 64 levels/);
    expect(scanJson('['.repeat(100_000)).error?.message).toMatch(/nested deeper than 256 levels/);
  });
});

describe('YAML twins', () => {
  it('parse like their JSON documents', () => {
    const yaml = 'app:\n  subdomain: app   # the web front end\n  ip: 10.0.0.1\n  port: 80\n  public: false\n';
    const registry = parseRegistry(snapshotOf({ 'services.json': yaml }, 'yaml'));
    expect(registry.services).toEqual([{ name: 'app', subdomain: 'app', ip: '10.0.0.1', port: 80, public: false }]);
  });

  const cases: [name: string, text: string, expected: RegExp][] = [
    ['a bad indent', 'app:\n  subdomain: app\n ip: 10.0.0.1\n', /^is not valid YAML: line 3, column \d+: /],
    ['an unterminated quote', 'app:\n  subdomain: "app\n', /^is not valid YAML: line \d+, column \d+: Missing closing "quote/],
    ['a duplicate key', 'app:\n  subdomain: a\napp:\n  subdomain: b\n', /^is not valid YAML: line 3, column 1: Map keys must be unique/],
    ['an unresolved alias', 'app: *other\n', /^is not valid YAML: Unresolved alias/],
  ];

  it.each(cases)('report %s with its position', (_name, text, expected) => {
    const problems = problemsOf({ 'services.json': text }, {}, 'yaml');
    expect(problems.map((p) => [p.document, p.path])).toEqual([['services.json', '$']]);
    expect(problems[0]?.message).toMatch(expected);
  });
});

describe('empty and text documents', () => {
  it('treat an empty or blank document as absent, as MyNodeOne does', () => {
    const registry = parseRegistry(snapshotOf({ 'services.json': '', 'routing.json': ' \n', 'cluster-domain': '\n' }));
    expect(registry.services).toEqual([]);
    expect(registry.clusterDomain).toBe('mynodeone');
    expect(registry.documents).toEqual({});
  });

  it('trims the cluster domain and drops a byte-order mark', () => {
    const registry = parseRegistry(snapshotOf({ 'cluster-domain': '\ufeff  mycloud \r\n', 'services.json': '\ufeff{}' }));
    expect(registry.clusterDomain).toBe('mycloud');
    expect(registry.documents['cluster-domain']).toBe('mycloud');
  });

  it('computes 1-based line and column', () => {
    expect(locateOffset('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(locateOffset('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
    expect(locateOffset('ab\r\ncd', 4)).toEqual({ line: 2, column: 1 });
  });
});

describe('size and entry limits', () => {
  it('refuses a 50 MB document before parsing it, naming the document and the limit', () => {
    const huge = `{"a": {"subdomain": "a", "ip": "100.64.0.1", "port": 80, "public": false, "pad": "${'x'.repeat(50 * 1024 * 1024)}"}}`;
    const problems = problemsOf({ 'services.json': huge });
    expect(problems.map((p) => [p.document, p.path])).toEqual([['services.json', '$']]);
    expect(problems[0]?.message).toMatch(/^is 52428\d\d\d bytes, more than the 4 MiB a registry document may hold/);
  });

  it('refuses 100,000 services (a small document) with the entry limit', () => {
    const services: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) services[`s${i}`] = {};
    const problems = problemsOf({ 'services.json': JSON.stringify(services) });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ document: 'services.json', path: '$' });
    expect(problems[0]?.message).toBe('holds 100000 entries, more than the 10000 a registry document may hold (services, routes, nodes or domains)');
  });

  it('counts the nodes of registry.json across its role arrays', () => {
    const worker = (i: number) => ({ name: `w${i}`, ip: `100.64.${Math.floor(i / 250)}.${(i % 250) + 1}`, ssh_user: 'u' });
    const doc = { management_laptops: [], vps_nodes: [], worker_nodes: Array.from({ length: 10_001 }, (_, i) => worker(i)) };
    expect(problemsOf({ 'registry.json': JSON.stringify(doc) })[0]?.message).toMatch(/^holds 10004 entries/);
  });

  it('accepts a document at the limits', () => {
    const services: Record<string, unknown> = {};
    for (let i = 0; i < 9_999; i++) services[`s${i}`] = { subdomain: `s${i}`, ip: '100.64.0.1', port: 80, public: false };
    expect(parseRegistry(snapshotOf({ 'services.json': JSON.stringify(services) })).services).toHaveLength(9_999);
  });
});
