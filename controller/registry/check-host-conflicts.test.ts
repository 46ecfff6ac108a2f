import { describe, expect, it } from 'vitest';
import { parseRegistry } from './parse-registry.js';
import { defaultPublicDomain } from './default-public-domain.js';
import { locations, minimalDocuments, problemsAfter, snapshotOf, type LooseJson } from '../../test/fixtures/registry-kit/registry-kit.js';

type Case = [name: string, mutate: (docs: LooseJson) => void, expected: [string, string][]];

const S = 'services.json';

/** A private service: on the internal names only. */
const privateService = (subdomain: string, ip: string) => ({ subdomain, ip, port: 80, public: false });

const conflicts: Case[] = [
  ['two services with one subdomain and different ips', (d) => (d[S].db2 = privateService('db', '10.0.0.3')), [[S, '$.db2.subdomain']]],
  [
    '"" and "@" with different ips (both the bare name)',
    (d) => {
      d[S].a = privateService('', '10.0.0.5');
      d[S].b = privateService('@', '10.0.0.6');
    },
    [[S, '$.b.subdomain']],
  ],
  [
    'subdomain "dashboard" and "" with different ips (dashboard also claims the bare name)',
    (d) => {
      d[S].dashboard = privateService('dashboard', '10.0.0.5');
      d[S].home = privateService('', '10.0.0.6');
    },
    [[S, '$.home.subdomain']],
  ],
  [
    'two routed services on one public host with different backends',
    (d) => {
      d[S].app2 = { subdomain: 'app', ip: '10.0.0.1', port: 8080, public: true };
      d['routing.json'].app2 = { domains: ['example.com'], vps_nodes: ['100.64.0.1'], strategy: 'primary-backup' };
    },
    [[S, '$.app2.subdomain']],
  ],
  [
    'a public service on the public domain and a routed one on the same host',
    (d) => {
      d[S].app2 = { subdomain: 'app', ip: '10.0.0.1', port: 8080, public: true };
    },
    [[S, '$.app2.subdomain']],
  ],
];

describe('host-name conflicts', () => {
  it.each(conflicts)('rejects %s', (_name, mutate, expected) => {
    expect(locations(problemsAfter(mutate))).toEqual(expected);
  });

  it('names both services and both backends', () => {
    const [problem] = problemsAfter((d) => (d[S].db2 = privateService('db', '10.0.0.3')));
    expect(problem?.message).toBe(
      '"db" gives the host name db.mycloud.local, but service "db" already points at 10.0.0.2 and this service points at 10.0.0.3; give one of them another subdomain',
    );
    const [bare] = problemsAfter((d) => {
      d[S].dashboard = privateService('dashboard', '10.0.0.5');
      d[S].home = privateService('', '10.0.0.6');
    });
    expect(bare?.message).toMatch(/^"" gives the bare host name mycloud\.local, but service "dashboard" already points at 10\.0\.0\.5/);
  });

  it('reports a pair of services once even when they clash on two names', () => {
    const problems = problemsAfter((d) => {
      d[S].dashboard = privateService('dashboard', '10.0.0.5');
      d[S].zdash = privateService('dashboard', '10.0.0.6');
    });
    expect(locations(problems)).toEqual([[S, '$.zdash.subdomain']]);
  });

  it('checks public hosts against the configured public domain', () => {
    const problems = problemsAfter(
      (d) => {
        d[S].www = { subdomain: 'www', ip: '10.0.0.7', port: 80, public: true };
        d[S].www2 = { subdomain: 'www', ip: '10.0.0.8', port: 80, public: true };
        d['domains.json'].domains['example.org'] = {};
      },
      { publicDomain: 'example.net' },
    );
    expect(locations(problems)).toEqual([[S, '$.www2.subdomain'], [S, '$.www2.subdomain']]);
    expect(problems[1]?.message).toMatch(/public host www\.example\.net \(the public domain\)/);
  });

  it('accepts one name for one backend, and routed hosts on different domains', () => {
    const docs = minimalDocuments();
    docs[S].db2 = privateService('db', '10.0.0.2');
    docs[S].dashboard = privateService('dashboard', '10.0.0.5');
    docs[S].home = privateService('', '10.0.0.5');
    docs['domains.json'].domains['example.org'] = {};
    docs[S].app2 = { subdomain: 'app', ip: '10.0.0.1', port: 8080 };
    docs['routing.json'].app2 = { domains: ['example.org'], vps_nodes: ['100.64.0.1'], strategy: 'round-robin' };
    expect(parseRegistry(snapshotOf(docs)).services).toHaveLength(6);
  });
});

describe('public domain of public services without routing', () => {
  const withUnroutedPublic = (d: LooseJson) => {
    d[S].www = { subdomain: 'www', ip: '10.0.0.7', port: 80, public: true };
    d['domains.json'].domains['example.org'] = {};
  };

  it('is a problem when no public domain is configured and domains.json has two domains', () => {
    const problems = problemsAfter(withUnroutedPublic);
    expect(locations(problems)).toEqual([[S, '$.www.public']]);
    expect(problems[0]?.message).toBe(
      'public service has no routing entry and no public domain; set traefik.publicDomain in courier.yaml or add a routing entry',
    );
  });

  it('is the configured public domain when there is one', () => {
    const docs = minimalDocuments();
    withUnroutedPublic(docs);
    expect(() => parseRegistry(snapshotOf(docs), { publicDomain: 'example.org' })).not.toThrow();
  });

  it('is the only domain in domains.json when none is configured', () => {
    const docs = minimalDocuments();
    docs[S].www = { subdomain: 'www', ip: '10.0.0.7', port: 80, public: true };
    const registry = parseRegistry(snapshotOf(docs));
    expect(defaultPublicDomain(registry)).toBe('example.com');
    expect(defaultPublicDomain(registry, 'example.net')).toBe('example.net');
    expect(defaultPublicDomain({ domains: ['a.com', 'b.com'] })).toBeUndefined();
    expect(defaultPublicDomain({ domains: [] })).toBeUndefined();
  });
});
