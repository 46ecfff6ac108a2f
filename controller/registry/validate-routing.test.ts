import { describe, expect, it } from 'vitest';
import { parseRegistry } from './parse-registry.js';
import { locations, minimalDocuments, problemsAfter, snapshotOf, type LooseJson } from '../../test/fixtures/registry-kit/registry-kit.js';

type Case = [name: string, mutate: (docs: LooseJson) => void, expected: [string, string][]];

const R = 'routing.json';

const cases: Case[] = [
  ['routing.json that is an array', (d) => (d[R] = []), [[R, '$']]],
  ['an entry for an unknown service', (d) => (d[R].ghost = d[R].app), [[R, '$.ghost']]],
  ['an entry that is a string', (d) => (d[R].app = 'example.com'), [[R, '$.app']]],
  ['an entry that is null', (d) => (d[R].app = null), [[R, '$.app']]],
  ['a domain not registered in domains.json', (d) => d[R].app.domains.push('example.org'), [[R, '$.app.domains[1]']]],
  ['a domain that is not a domain name', (d) => d[R].app.domains.push('example'), [[R, '$.app.domains[1]']]],
  ['a domain that is a number', (d) => d[R].app.domains.push(7), [[R, '$.app.domains[1]']]],
  ['an empty domains list', (d) => (d[R].app.domains = []), [[R, '$.app.domains']]],
  ['a missing domains list', (d) => delete d[R].app.domains, [[R, '$.app.domains']]],
  ['domains as a comma-separated string', (d) => (d[R].app.domains = 'example.com'), [[R, '$.app.domains']]],
  ['a domain listed twice', (d) => d[R].app.domains.push('example.com'), [[R, '$.app.domains[1]']]],
  ['an empty vps_nodes list', (d) => (d[R].app.vps_nodes = []), [[R, '$.app.vps_nodes']]],
  ['a missing vps_nodes list', (d) => delete d[R].app.vps_nodes, [[R, '$.app.vps_nodes']]],
  ['a VPS listed twice', (d) => d[R].app.vps_nodes.push('100.64.0.1'), [[R, '$.app.vps_nodes[1]']]],
  ['a VPS that is not an IPv4 address', (d) => (d[R].app.vps_nodes = ['edge']), [[R, '$.app.vps_nodes[0]']]],
  [
    'a VPS that is not in registry.json vps_nodes',
    (d) => {
      d['registry.json'].vps_nodes = [];
    },
    [[R, '$.app.vps_nodes[0]']],
  ],
  [
    'a VPS that is not in domains.json vps_nodes',
    (d) => {
      d['domains.json'].vps_nodes = [];
    },
    [[R, '$.app.vps_nodes[0]']],
  ],
  ['a VPS that is a worker, not a VPS', (d) => (d[R].app.vps_nodes = ['100.64.0.2']), [[R, '$.app.vps_nodes[0]'], [R, '$.app.vps_nodes[0]']]],
  ['an unknown strategy', (d) => (d[R].app.strategy = 'random'), [[R, '$.app.strategy']]],
  ['a strategy that is a number', (d) => (d[R].app.strategy = 1), [[R, '$.app.strategy']]],
];

describe('routing.json validation', () => {
  it.each(cases)('rejects %s', (_name, mutate, expected) => {
    expect(locations(problemsAfter(mutate))).toEqual(expected);
  });

  it("reads MyNodeOne's geo strategy as primary-backup, which is what MyNodeOne renders for it", () => {
    const docs = minimalDocuments();
    docs[R].app.strategy = 'geo';
    expect(parseRegistry(snapshotOf(docs)).routing).toEqual([{ service: 'app', domains: ['example.com'], vpsNodes: ['100.64.0.1'], strategy: 'primary-backup' }]);
  });

  it('says which registry a VPS is missing from', () => {
    const [node] = problemsAfter((d) => (d['registry.json'].vps_nodes = []));
    expect(node?.message).toMatch(/registry\.json vps_nodes/);
    const [edge] = problemsAfter((d) => (d['domains.json'].vps_nodes = []));
    expect(edge?.message).toMatch(/domains\.json vps_nodes.*public IP/);
  });

  it('does not repeat a problem of services.json as an unknown service', () => {
    expect(locations(problemsAfter((d) => (d['services.json'].app.port = 'x')))).toEqual([['services.json', '$.app.port']]);
  });

  it('does not report every domain as unregistered when domains.json does not parse', () => {
    const problems = problemsAfter((d) => (d['domains.json'] = '{"domains": '));
    expect(locations(problems)).toEqual([['domains.json', '$']]);
  });

  it('defaults a missing strategy to round-robin and keeps list order', () => {
    const docs = minimalDocuments();
    docs['registry.json'].vps_nodes.push({ name: 'edge2', ip: '100.64.0.3', ssh_user: 'root' });
    docs['domains.json'].vps_nodes.push({ tailscale_ip: '100.64.0.3', public_ip: '203.0.113.3' });
    docs[R].app = { domains: ['example.com'], vps_nodes: ['100.64.0.3', '100.64.0.1'], updated: '2025-01-01T00:00:00Z' };
    expect(parseRegistry(snapshotOf(docs)).routing).toEqual([
      { service: 'app', domains: ['example.com'], vpsNodes: ['100.64.0.3', '100.64.0.1'], strategy: 'round-robin' },
    ]);
  });
});
