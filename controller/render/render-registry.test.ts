import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCourierError } from '../errors.js';
import type { Node, Registry, Routing, Service } from '../registry/model.js';
import { buildRealisticRegistry, REALISTIC_SETTINGS } from '../../test/golden/realistic-registry.js';
import { blobOid, EMPTY_BLOB_OID } from './blob-oid.js';
import { loadTemplates, type Templates } from './load-templates.js';
import type { RenderResult, RenderSettings } from './model.js';
import { renderRegistry } from './render-registry.js';
import { validateTraefikConfig } from './validate-traefik-config.js';

const VPS_A = '100.64.0.1';
const VPS_B = '100.64.0.2';

const SETTINGS: RenderSettings = {
  traefik: { path: '/srv/traefik/courier.yml', publicDomain: 'example.com', entryPoints: { web: 'web', websecure: 'websecure' }, certResolver: 'le' },
  hosts: { path: '/etc/hosts' },
};

function makeNode(name: string, role: Node['role'], ip: string): Node {
  return { name, role, ip, sshUser: 'root', sshPort: 22, sudo: false, transport: 'ssh' };
}

function makeRegistry(services: Service[], routing: Routing[] = [], extra: Partial<Registry> = {}): Registry {
  return {
    clusterDomain: 'mycloud',
    domains: ['example.com'],
    vpsEndpoints: [],
    services,
    routing,
    nodes: [makeNode('vps-a', 'vps', VPS_A), makeNode('vps-b', 'vps', VPS_B), makeNode('laptop', 'laptop', '100.64.1.1')],
    documents: {},
    ...extra,
  };
}

function makeService(name: string, subdomain: string, ip?: string, extra: Partial<Service> = {}): Service {
  return { name, subdomain, ip, port: 8080, public: false, ...extra };
}

function artifactOf(result: RenderResult, node: string, artifact: string): string {
  const content = result.nodes.find((n) => n.node.name === node)?.artifacts.find((a) => a.name === artifact)?.content;
  if (content === undefined) throw new Error(`no ${node}/${artifact}`);
  return content;
}

/** Host names a node's Traefik file routes, from its parsed secure routers. */
function hostsServedBy(result: RenderResult, node: string): string[] {
  const config = parse(artifactOf(result, node, 'traefik.yml')) as { http: { routers?: Record<string, { rule: string; tls?: unknown }> } };
  return Object.values(config.http.routers ?? {})
    .filter((r) => r.tls !== undefined)
    .map((r) => /^Host\(`(.*)`\)$/.exec(r.rule)?.[1] ?? r.rule)
    .sort();
}

let templates: Templates;
beforeAll(async () => {
  templates = await loadTemplates();
});

describe('renderRegistry hosts block', () => {
  const cases: { name: string; services: Service[]; body: string }[] = [
    { name: 'a subdomain becomes <subdomain>.<cluster>.local', services: [makeService('grafana', 'grafana', '10.0.0.1')], body: '10.0.0.1\tgrafana.mycloud.local\n' },
    { name: '`@` becomes the bare cluster name', services: [makeService('home', '@', '10.0.0.2')], body: '10.0.0.2\tmycloud.local\n' },
    { name: 'an empty subdomain becomes the bare cluster name', services: [makeService('home', '', '10.0.0.2')], body: '10.0.0.2\tmycloud.local\n' },
    {
      name: 'dashboard also gets the bare name',
      services: [makeService('dashboard', 'dashboard', '10.0.0.3')],
      body: '10.0.0.3\tdashboard.mycloud.local\n10.0.0.3\tmycloud.local\n',
    },
    { name: 'services without an ip get no line', services: [makeService('minio', 'minio')], body: '' },
    {
      name: 'the same (name, ip) from two services is one line',
      services: [makeService('argocd', 'argocd', '10.0.0.4'), makeService('argocd-server', 'argocd', '10.0.0.4')],
      body: '10.0.0.4\targocd.mycloud.local\n',
    },
    {
      name: 'lines are sorted by name then ip',
      services: [makeService('b', 'zeta', '10.0.0.1'), makeService('a2', 'alpha', '10.0.0.9'), makeService('a1', 'alpha', '10.0.0.10')],
      body: '10.0.0.10\talpha.mycloud.local\n10.0.0.9\talpha.mycloud.local\n10.0.0.1\tzeta.mycloud.local\n',
    },
    { name: 'no services is an empty body', services: [], body: '' },
  ];
  it.each(cases)('$name', ({ services, body }) => {
    const result = renderRegistry(makeRegistry(services), SETTINGS, templates);
    expect(artifactOf(result, 'laptop', 'hosts')).toBe(body);
  });

  it('gives laptops and workers a hosts block and VPS nodes a Traefik file, with path, mode and oid', () => {
    const registry = makeRegistry([makeService('grafana', 'grafana', '10.0.0.1')]);
    registry.nodes.push(makeNode('worker', 'worker', '100.64.2.1'));
    const result = renderRegistry(registry, SETTINGS, templates);
    expect(result.nodes.map((n) => n.node.name)).toEqual(['laptop', 'vps-a', 'vps-b', 'worker']);
    const laptop = result.nodes[0]!.artifacts;
    expect(laptop).toEqual([
      { name: 'hosts', path: '/etc/hosts', kind: 'block', mode: '0644', content: '10.0.0.1\tgrafana.mycloud.local\n', oid: blobOid('10.0.0.1\tgrafana.mycloud.local\n') },
    ]);
    expect(result.nodes[3]!.artifacts[0]!.oid).toBe(laptop[0]!.oid);
    const vps = result.nodes[1]!.artifacts;
    expect(vps.map((a) => [a.name, a.path, a.kind, a.mode])).toEqual([['traefik.yml', '/srv/traefik/courier.yml', 'file', '0644']]);
    expect(vps[0]!.oid).toBe(blobOid(vps[0]!.content));
  });

  it('gives an empty hosts block the empty blob oid', () => {
    const result = renderRegistry(makeRegistry([]), SETTINGS, templates);
    expect(result.nodes.find((n) => n.node.name === 'laptop')!.artifacts[0]!.oid).toBe(EMPTY_BLOB_OID);
  });
});

describe('renderRegistry Traefik routes', () => {
  it('round-robin serves domain i on VPS i mod n: three domains over two VPS', () => {
    const routing: Routing = { service: 'immich', domains: ['one.com', 'two.com', 'three.com'], vpsNodes: [VPS_A, VPS_B], strategy: 'round-robin' };
    const result = renderRegistry(makeRegistry([makeService('immich', 'photos', '10.0.0.5')], [routing]), SETTINGS, templates);
    expect(hostsServedBy(result, 'vps-a')).toEqual(['photos.one.com', 'photos.three.com']);
    expect(hostsServedBy(result, 'vps-b')).toEqual(['photos.two.com']);
  });

  it('primary-backup serves every listed domain on every listed VPS', () => {
    const routing: Routing = { service: 'immich', domains: ['one.com', 'two.com'], vpsNodes: [VPS_B, VPS_A], strategy: 'primary-backup' };
    const result = renderRegistry(makeRegistry([makeService('immich', 'photos', '10.0.0.5')], [routing]), SETTINGS, templates);
    expect(hostsServedBy(result, 'vps-a')).toEqual(['photos.one.com', 'photos.two.com']);
    expect(hostsServedBy(result, 'vps-b')).toEqual(['photos.one.com', 'photos.two.com']);
  });

  it('routing only reaches the VPS it lists', () => {
    const routing: Routing = { service: 'immich', domains: ['one.com'], vpsNodes: [VPS_B], strategy: 'primary-backup' };
    const result = renderRegistry(makeRegistry([makeService('immich', 'photos', '10.0.0.5')], [routing]), SETTINGS, templates);
    expect(hostsServedBy(result, 'vps-a')).toEqual([]);
    expect(hostsServedBy(result, 'vps-b')).toEqual(['photos.one.com']);
  });

  it('routing publishes a service whose public flag is false, and replaces its single-domain route', () => {
    const routing: Routing = { service: 'blog', domains: ['two.com'], vpsNodes: [VPS_A], strategy: 'primary-backup' };
    const services = [makeService('blog', 'www', '10.0.0.6', { public: false }), makeService('wiki', 'wiki', '10.0.0.7', { public: true })];
    const result = renderRegistry(makeRegistry(services, [routing]), SETTINGS, templates);
    expect(hostsServedBy(result, 'vps-a')).toEqual(['wiki.example.com', 'www.two.com']);
    expect(hostsServedBy(result, 'vps-b')).toEqual(['wiki.example.com']);
  });

  const bare: { name: string; subdomain: string; host: string }[] = [
    { name: '`@` is served on the bare public domain', subdomain: '@', host: 'example.com' },
    { name: 'an empty subdomain is served on the bare public domain', subdomain: '', host: 'example.com' },
    { name: 'a subdomain is served under the public domain', subdomain: 'media', host: 'media.example.com' },
  ];
  it.each(bare)('$name', ({ subdomain, host }) => {
    const result = renderRegistry(makeRegistry([makeService('site', subdomain, '10.0.0.8', { public: true })]), SETTINGS, templates);
    expect(hostsServedBy(result, 'vps-a')).toEqual([host]);
    expect(hostsServedBy(result, 'vps-b')).toEqual([host]);
  });

  it('`@` in a routing entry is the bare routed domain', () => {
    const routing: Routing = { service: 'site', domains: ['two.com'], vpsNodes: [VPS_A], strategy: 'round-robin' };
    const result = renderRegistry(makeRegistry([makeService('site', '@', '10.0.0.8')], [routing]), SETTINGS, templates);
    expect(hostsServedBy(result, 'vps-a')).toEqual(['two.com']);
  });

  it('writes the router pair, the service and the redirect middleware with the configured names', () => {
    const settings: RenderSettings = { ...SETTINGS, traefik: { ...SETTINGS.traefik, entryPoints: { web: 'http', websecure: 'https' }, certResolver: 'acme' } };
    const result = renderRegistry(makeRegistry([makeService('site', 'www', '10.0.0.8', { public: true, port: 3000 })]), settings, templates);
    expect(parse(artifactOf(result, 'vps-a', 'traefik.yml'))).toEqual({
      http: {
        routers: {
          'site-www-example-com': { rule: 'Host(`www.example.com`)', entryPoints: ['https'], service: 'site-service', tls: { certResolver: 'acme' } },
          'site-www-example-com-http': { rule: 'Host(`www.example.com`)', entryPoints: ['http'], middlewares: ['https-redirect'], service: 'site-service' },
        },
        services: { 'site-service': { loadBalancer: { servers: [{ url: 'http://10.0.0.8:3000' }] } } },
        middlewares: { 'https-redirect': { redirectScheme: { scheme: 'https', permanent: true } } },
      },
    });
  });

  it('brackets an IPv6 backend address in the server url', () => {
    const result = renderRegistry(makeRegistry([makeService('site', 'www', 'fd7a:115c::5', { public: true })]), SETTINGS, templates);
    expect(artifactOf(result, 'vps-a', 'traefik.yml')).toContain('url: "http://[fd7a:115c::5]:8080"');
  });

  it('a domain listed twice renders one router pair', () => {
    const routing: Routing = { service: 'site', domains: ['two.com', 'two.com'], vpsNodes: [VPS_A], strategy: 'primary-backup' };
    const result = renderRegistry(makeRegistry([makeService('site', 'www', '10.0.0.8')], [routing]), SETTINGS, templates);
    expect(hostsServedBy(result, 'vps-a')).toEqual(['www.two.com']);
  });

  it('a VPS serving nothing gets a header and `http: {}`', () => {
    const result = renderRegistry(makeRegistry([makeService('internal', 'grafana', '10.0.0.1')]), SETTINGS, templates);
    expect(artifactOf(result, 'vps-a', 'traefik.yml')).toBe('# Managed by courier: generated from the registry; local edits are overwritten.\nhttp: {}\n');
  });

  it('leaves out public services without an ip or a port', () => {
    const services = [makeService('a', 'a', undefined, { public: true }), makeService('b', 'b', '10.0.0.1', { public: true, port: undefined })];
    const result = renderRegistry(makeRegistry(services), SETTINGS, templates);
    expect(hostsServedBy(result, 'vps-a')).toEqual([]);
  });

  it('uses the only registry domain when traefik.publicDomain is not set', () => {
    const settings: RenderSettings = { ...SETTINGS, traefik: { ...SETTINGS.traefik, publicDomain: undefined } };
    const result = renderRegistry(makeRegistry([makeService('site', 'www', '10.0.0.8', { public: true })], [], { domains: ['only.org'] }), settings, templates);
    expect(hostsServedBy(result, 'vps-a')).toEqual(['www.only.org']);
  });

  it('fails with RENDER_INVALID naming traefik.publicDomain when a public service has no domain to go on', () => {
    const settings: RenderSettings = { ...SETTINGS, traefik: { ...SETTINGS.traefik, publicDomain: undefined } };
    const registry = makeRegistry([makeService('site', 'www', '10.0.0.8', { public: true })], [], { domains: ['one.org', 'two.org'] });
    expect(() => renderRegistry(registry, settings, templates)).toThrow(expect.objectContaining({ code: 'RENDER_INVALID', data: expect.objectContaining({ setting: 'traefik.publicDomain' }) }));
  });

  it('two services on one public host with the same backend render one router pair, for the first by name', () => {
    const routing: Routing = { service: 'argocd-server', domains: ['two.com'], vpsNodes: [VPS_B], strategy: 'primary-backup' };
    const services = [makeService('argocd-server', 'cd', '10.0.0.1'), makeService('argocd', 'cd', '10.0.0.1', { public: true })];
    const result = renderRegistry(makeRegistry(services, [routing], { domains: ['two.com'] }), { ...SETTINGS, traefik: { ...SETTINGS.traefik, publicDomain: 'two.com' } }, templates);
    for (const vps of ['vps-a', 'vps-b']) {
      const config = parse(artifactOf(result, vps, 'traefik.yml')) as { http: { routers: object; services: object } };
      expect(Object.keys(config.http.routers)).toEqual(['argocd-cd-two-com', 'argocd-cd-two-com-http']);
      expect(Object.keys(config.http.services)).toEqual(['argocd-service']);
    }
  });

  it('fails with RENDER_INVALID when two services claim the same public host with different backends', () => {
    const services = [makeService('a', 'www', '10.0.0.1', { public: true }), makeService('b', 'www', '10.0.0.2', { public: true })];
    expect(() => renderRegistry(makeRegistry(services), SETTINGS, templates)).toThrow(expect.objectContaining({ code: 'RENDER_INVALID' }));
  });

  it('fails with RENDER_INVALID when two (service, host) pairs would share a router name', () => {
    const routing: Routing[] = [
      { service: 'a-b', domains: ['c.com'], vpsNodes: [VPS_A], strategy: 'primary-backup' },
      { service: 'a', domains: ['b-c.com'], vpsNodes: [VPS_A], strategy: 'primary-backup' },
    ];
    const services = [makeService('a-b', '@', '10.0.0.1'), makeService('a', '@', '10.0.0.2')];
    expect(() => renderRegistry(makeRegistry(services, routing), SETTINGS, templates)).toThrow(
      expect.objectContaining({ code: 'RENDER_INVALID', data: expect.objectContaining({ router: 'a-b-c-com' }) }),
    );
  });

  it('every Traefik file of the realistic registry passes validateTraefikConfig', () => {
    const result = renderRegistry(buildRealisticRegistry(), REALISTIC_SETTINGS, templates);
    const files = result.nodes.flatMap((n) => n.artifacts.filter((a) => a.name === 'traefik.yml'));
    expect(files).toHaveLength(3);
    for (const file of files) expect(() => validateTraefikConfig(file.content, file.name)).not.toThrow();
  });
});

describe('renderRegistry determinism', () => {
  it('renders the same registry twice to identical results', () => {
    const first = renderRegistry(buildRealisticRegistry(), REALISTIC_SETTINGS, templates);
    const second = renderRegistry(buildRealisticRegistry(), REALISTIC_SETTINGS, templates);
    expect(second).toEqual(first);
  });

  it('renders the same registry in a different input order to identical results', () => {
    const registry = buildRealisticRegistry();
    const shuffled: Registry = {
      ...registry,
      services: [...registry.services].reverse(),
      nodes: [...registry.nodes].reverse(),
      routing: [...registry.routing].reverse(),
      vpsEndpoints: [...registry.vpsEndpoints].reverse(),
    };
    expect(renderRegistry(shuffled, REALISTIC_SETTINGS, templates)).toEqual(renderRegistry(registry, REALISTIC_SETTINGS, templates));
  });
});

describe('renderRegistry with hostile registry strings (validation bypassed)', () => {
  const hostile = ['a\nb', 'a`b', 'a"b', "a'b", 'a#b', 'a: b', 'a\rb', 'a b', 'a\u2028b', 'a@b', 'a}}b', 'x\n    evil:\n      rule: "Host(`evil.com`)"'];

  /** Either the render throws RENDER_INVALID, or every Traefik file holds exactly the routers of the one safe service. */
  function expectSafe(registry: Registry): void {
    let result: RenderResult;
    try {
      result = renderRegistry(registry, SETTINGS, templates);
    } catch (err) {
      expect(isCourierError(err, 'RENDER_INVALID')).toBe(true);
      return;
    }
    for (const node of result.nodes) {
      for (const artifact of node.artifacts) {
        if (artifact.name === 'hosts') {
          for (const line of artifact.content.split('\n').slice(0, -1)) expect(line).toMatch(/^[0-9a-f.:]+\t[a-z0-9.-]+$/);
        } else {
          const config = parse(artifact.content) as { http: { routers?: object } };
          expect(Object.keys(config.http.routers ?? {}).sort()).toEqual(['safe-safe-example-com', 'safe-safe-example-com-http']);
        }
      }
    }
  }

  it.each(hostile)('a hostile service name %j cannot add a router, key or line', (value) => {
    expectSafe(makeRegistry([makeService('safe', 'safe', '10.0.0.1', { public: true }), makeService(value, 'x', '10.0.0.2', { public: true })]));
  });

  it.each(hostile)('a hostile subdomain %j cannot add a router, key or line', (value) => {
    expectSafe(makeRegistry([makeService('safe', 'safe', '10.0.0.1', { public: true }), makeService('bad', value, '10.0.0.2', { public: true })]));
  });

  it.each(hostile)('a hostile ip %j cannot add a router, key or line', (value) => {
    expectSafe(makeRegistry([makeService('safe', 'safe', '10.0.0.1', { public: true }), makeService('bad', 'bad', value, { public: true })]));
  });

  it.each(hostile)('a hostile routed domain %j cannot add a router, key or line', (value) => {
    const routing: Routing = { service: 'bad', domains: [value], vpsNodes: [VPS_A], strategy: 'primary-backup' };
    expectSafe(makeRegistry([makeService('safe', 'safe', '10.0.0.1', { public: true }), makeService('bad', 'bad', '10.0.0.2')], [routing]));
  });

  it.each(hostile)('a hostile cluster domain %j cannot add a line', (value) => {
    expectSafe(makeRegistry([makeService('safe', 'safe', '10.0.0.1', { public: true })], [], { clusterDomain: value }));
  });
});
