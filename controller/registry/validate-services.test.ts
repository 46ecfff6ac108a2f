import { describe, expect, it } from 'vitest';
import { parseRegistry } from './parse-registry.js';
import { locations, minimalDocuments, problemsAfter, snapshotOf, type LooseJson } from '../../test/fixtures/registry-kit/registry-kit.js';

type Case = [name: string, mutate: (docs: LooseJson) => void, expected: [string, string][]];

const S = 'services.json';

const cases: Case[] = [
  ['services.json that is an array', (d) => (d[S] = [d[S].app]), [[S, '$']]],
  ['a service entry that is an array', (d) => (d[S].db = []), [[S, '$.db']]],
  ['a service entry that is a string', (d) => (d[S].db = 'db'), [[S, '$.db']]],
  ['a service entry that is null', (d) => (d[S].db = null), [[S, '$.db']]],
  ['services.json that is null', (d) => (d[S] = 'null'), [[S, '$']]],
  ['a service name with uppercase', (d) => (d[S].Db = d[S].db), [[S, '$.Db']]],
  ['a service name starting with "-"', (d) => (d[S]['-db'] = { subdomain: 'x' }), [[S, '$["-db"]']]],
  ['a service name of 64 characters', (d) => (d[S]['a'.repeat(64)] = { subdomain: 'x' }), [[S, `$.${'a'.repeat(64)}`]]],
  ['a missing subdomain', (d) => delete d[S].db.subdomain, [[S, '$.db.subdomain']]],
  ['a null subdomain', (d) => (d[S].db.subdomain = null), [[S, '$.db.subdomain']]],
  ['a numeric subdomain', (d) => (d[S].db.subdomain = 5), [[S, '$.db.subdomain']]],
  ['a subdomain starting with "-"', (d) => (d[S].db.subdomain = '-db'), [[S, '$.db.subdomain']]],
  ['a subdomain ending with "-"', (d) => (d[S].db.subdomain = 'db-'), [[S, '$.db.subdomain']]],
  ['a subdomain with "_"', (d) => (d[S].db.subdomain = 'my_db'), [[S, '$.db.subdomain']]],
  ['a subdomain with two labels', (d) => (d[S].db.subdomain = 'a.b'), [[S, '$.db.subdomain']]],
  ['a subdomain of 64 characters', (d) => (d[S].db.subdomain = 'a'.repeat(64)), [[S, '$.db.subdomain']]],
  ['a subdomain "@@"', (d) => (d[S].db.subdomain = '@@'), [[S, '$.db.subdomain']]],
  ['an ip octet above 255', (d) => (d[S].db.ip = '10.0.0.256'), [[S, '$.db.ip']]],
  ['an ip with a leading zero', (d) => (d[S].db.ip = '10.0.0.02'), [[S, '$.db.ip']]],
  ['an ip with three parts', (d) => (d[S].db.ip = '10.0.0'), [[S, '$.db.ip']]],
  ['an ip that is a host name', (d) => (d[S].db.ip = 'db.local'), [[S, '$.db.ip']]],
  ['an ip that is a number', (d) => (d[S].db.ip = 167772162), [[S, '$.db.ip']]],
  ['an IPv6 ip', (d) => (d[S].db.ip = 'fd00::2'), [[S, '$.db.ip']]],
  ['port 70000', (d) => (d[S].db.port = 70000), [[S, '$.db.port']]],
  ['port 0', (d) => (d[S].db.port = 0), [[S, '$.db.port']]],
  ['port 80.5', (d) => (d[S].db.port = 80.5), [[S, '$.db.port']]],
  ['port as a string', (d) => (d[S].db.port = '5432'), [[S, '$.db.port']]],
  ['public as a string', (d) => (d[S].db.public = 'true'), [[S, '$.db.public']]],
  ['a namespace with uppercase', (d) => (d[S].db.namespace = 'Data'), [[S, '$.db.namespace']]],
  ['a Kubernetes service name that is a number', (d) => (d[S].db.service = 5), [[S, '$.db.service']]],
];

describe('services.json validation', () => {
  it.each(cases)('rejects %s', (_name, mutate, expected) => {
    expect(locations(problemsAfter(mutate))).toEqual(expected);
  });

  it('says how to fix uppercase and wrong types', () => {
    const [upper] = problemsAfter((d) => (d[S].Db = d[S].db));
    expect(upper?.message).toBe('"Db" contains uppercase "D"; use lowercase');
    const [type] = problemsAfter((d) => (d[S].db.port = '5432'));
    expect(type?.message).toBe('"5432" must be a number (a port 1-65535)');
    const [range] = problemsAfter((d) => (d[S].db.port = 70000));
    expect(range?.message).toBe('70000 is not a port (1-65535)');
  });

  it('does not report an invalid ip a second time as missing for a public service', () => {
    expect(locations(problemsAfter((d) => (d[S].app.ip = '1.2.3')))).toEqual([[S, '$.app.ip']]);
  });

  // MyNodeOne's scripts take these (a LoadBalancer ip still pending); render leaves them out of the routes
  it('accepts a public service without ip, one without port and a routed one without either', () => {
    const docs = minimalDocuments();
    delete docs[S].db.ip;
    docs[S].db.public = true;
    docs[S].web = { subdomain: 'web', ip: '10.0.0.7', public: true };
    docs[S].app = { subdomain: 'app', ip: null, public: true };
    expect(parseRegistry(snapshotOf(docs)).services.map((s) => [s.name, s.ip ?? null, s.port ?? null])).toEqual([
      ['app', null, null],
      ['db', null, 5432],
      ['web', '10.0.0.7', null],
    ]);
  });

  it('accepts "", "@", null optional fields and a private service without ip or port', () => {
    const docs = minimalDocuments();
    docs[S].bare = { subdomain: '', ip: '10.0.0.9', port: 80 };
    docs[S].apex = { subdomain: '@', ip: '10.0.0.9', port: 80, public: false };
    docs[S].pending = { subdomain: 'pending', ip: null, port: null, namespace: null };
    docs[S]['svc_1.a-b'] = { subdomain: 'x1' };
    const registry = parseRegistry(snapshotOf(docs));
    expect(registry.services.map((s) => s.name)).toEqual(['apex', 'app', 'bare', 'db', 'pending', 'svc_1.a-b']);
    expect(registry.services.find((s) => s.name === 'pending')).toEqual({ name: 'pending', subdomain: 'pending', public: false });
  });
});
