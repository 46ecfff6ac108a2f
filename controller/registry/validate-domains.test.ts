import { describe, expect, it } from 'vitest';
import { parseRegistry } from './parse-registry.js';
import { locations, minimalDocuments, problemsAfter, snapshotOf, type LooseJson } from '../../test/fixtures/registry-kit/registry-kit.js';

type Case = [name: string, mutate: (docs: LooseJson) => void, expected: [string, string][]];

const D = 'domains.json';
const R = 'routing.json';

/** Add a domain that no routing entry uses, so only the domain itself can be wrong. */
const addDomain = (domain: string) => (d: LooseJson) => (d[D].domains[domain] = {});

const cases: Case[] = [
  ['domains.json that is an array', (d) => (d[D] = []), [[D, '$']]],
  ['"domains" that is an array', (d) => (d[D].domains = ['example.com']), [[D, '$.domains'], [R, '$.app.domains[0]']]],
  ['a domain with uppercase', addDomain('Example.org'), [[D, '$.domains["Example.org"]']]],
  ['a domain with one label', addDomain('localhost'), [[D, '$.domains.localhost']]],
  ['a domain with an all-digit top-level label', addDomain('example.123'), [[D, '$.domains["example.123"]']]],
  ['a domain with a trailing dot', addDomain('example.org.'), [[D, '$.domains["example.org."]']]],
  ['a domain with an empty label', addDomain('example..org'), [[D, '$.domains["example..org"]']]],
  ['a domain label of 64 characters', addDomain(`${'a'.repeat(64)}.org`), [[D, `$.domains["${'a'.repeat(64)}.org"]`]]],
  ['a domain longer than 253 characters', addDomain(`${'a.'.repeat(127)}org`), [[D, `$.domains["${'a.'.repeat(40)}..."]`]]],
  ['a domain label starting with "-"', addDomain('-x.org'), [[D, '$.domains["-x.org"]']]],
  ['a domain entry that is a string', (d) => (d[D].domains['example.com'] = 'main'), [[D, '$.domains["example.com"]']]],
  ['vps_nodes that is an object', (d) => (d[D].vps_nodes = {}), [[D, '$.vps_nodes'], [R, '$.app.vps_nodes[0]']]],
  ['a VPS entry that is a string', (d) => d[D].vps_nodes.push('100.64.0.9'), [[D, '$.vps_nodes[1]']]],
  ['a VPS entry that is null', (d) => d[D].vps_nodes.push(null), [[D, '$.vps_nodes[1]']]],
  ['a domain entry that is null', (d) => (d[D].domains['example.com'] = null), [[D, '$.domains["example.com"]']]],
  ['a VPS without tailscale_ip', (d) => delete d[D].vps_nodes[0].tailscale_ip, [[D, '$.vps_nodes[0].tailscale_ip'], [R, '$.app.vps_nodes[0]']]],
  ['a VPS without public_ip', (d) => delete d[D].vps_nodes[0].public_ip, [[D, '$.vps_nodes[0].public_ip']]],
  ['a VPS with an invalid public_ip', (d) => (d[D].vps_nodes[0].public_ip = '203.0.113'), [[D, '$.vps_nodes[0].public_ip']]],
  ['a VPS with a location that is a number', (d) => (d[D].vps_nodes[0].location = 1), [[D, '$.vps_nodes[0].location']]],
  [
    'a duplicate tailscale_ip',
    (d) => d[D].vps_nodes.push({ tailscale_ip: '100.64.0.1', public_ip: '203.0.113.2' }),
    [[D, '$.vps_nodes[1].tailscale_ip']],
  ],
];

describe('domains.json validation', () => {
  it.each(cases)('rejects %s', (_name, mutate, expected) => {
    expect(locations(problemsAfter(mutate))).toEqual(expected);
  });

  it('names the first listing of a duplicate VPS', () => {
    const [problem] = problemsAfter((d) => d[D].vps_nodes.push({ tailscale_ip: '100.64.0.1', public_ip: '203.0.113.2' }));
    expect(problem?.message).toBe('"100.64.0.1" is already listed at $.vps_nodes[0]; each VPS may appear once');
  });

  it('returns domains sorted and endpoints with their location', () => {
    const docs = minimalDocuments();
    docs[D].domains['a.example.net'] = {};
    docs[D].vps_nodes.push({ tailscale_ip: '100.64.0.0', public_ip: '198.51.100.7', registered: 'x', status: 'active' });
    const registry = parseRegistry(snapshotOf(docs));
    expect(registry.domains).toEqual(['a.example.net', 'example.com']);
    expect(registry.vpsEndpoints).toEqual([
      { tailscaleIp: '100.64.0.0', publicIp: '198.51.100.7' },
      { tailscaleIp: '100.64.0.1', publicIp: '203.0.113.1', location: 'us-east' },
    ]);
  });

  it('accepts a domains.json without "domains" or "vps_nodes" when nothing is routed', () => {
    const docs = minimalDocuments();
    docs[D] = {};
    delete docs[R];
    docs['services.json'].app.public = false;
    expect(parseRegistry(snapshotOf(docs)).domains).toEqual([]);
  });

  it("reads MyNodeOne's first layout (the domains object itself) the way its init migrates it", () => {
    const docs = minimalDocuments();
    docs[D] = { 'example.com': { description: 'main' }, 'photos.example.net': { description: '' } };
    delete docs[R];
    docs['services.json'].app.public = false;
    const registry = parseRegistry(snapshotOf(docs));
    expect(registry.domains).toEqual(['example.com', 'photos.example.net']);
    expect(registry.vpsEndpoints).toEqual([]);
    const [problem] = problemsAfter((d) => (d[D] = { 'Bad.example': {} }));
    expect(problem?.path).toBe('$["Bad.example"]');
  });
});
