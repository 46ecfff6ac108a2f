import { describe, expect, it } from 'vitest';
import type { Node, Registry, Routing, Service } from '../registry/model.js';
import type { RenderSettings } from './model.js';
import { renderDnsRecords } from './render-dns-records.js';

const SETTINGS: RenderSettings = {
  traefik: { path: '/srv/traefik/courier.yml', publicDomain: 'example.com', entryPoints: { web: 'web', websecure: 'websecure' }, certResolver: 'le' },
  hosts: { path: '/etc/hosts' },
};

function makeNode(name: string, role: Node['role'], ip: string): Node {
  return { name, role, ip, sshUser: 'root', sshPort: 22, sudo: false, transport: 'ssh' };
}

function makeRegistry(services: Service[], routing: Routing[] = []): Registry {
  return {
    clusterDomain: 'mycloud',
    domains: ['example.com', 'one.com', 'two.com', 'three.com'],
    // vps-c (100.64.0.3) has no endpoint: it has no public IP to point at.
    vpsEndpoints: [
      { tailscaleIp: '100.64.0.2', publicIp: '203.0.113.2' },
      { tailscaleIp: '100.64.0.1', publicIp: '203.0.113.1' },
    ],
    services,
    routing,
    nodes: [makeNode('vps-b', 'vps', '100.64.0.2'), makeNode('vps-a', 'vps', '100.64.0.1'), makeNode('vps-c', 'vps', '100.64.0.3'), makeNode('laptop', 'laptop', '100.64.1.1')],
    documents: {},
  };
}

const app = (subdomain: string, isPublic = false): Service => ({ name: 'app', subdomain, ip: '10.0.0.1', port: 80, public: isPublic });

describe('renderDnsRecords', () => {
  const cases: { name: string; registry: Registry; records: { host: string; values: string[]; strategy: string }[] }[] = [
    {
      name: 'a single-domain public service points at every VPS node with an endpoint',
      registry: makeRegistry([app('www', true)]),
      records: [{ host: 'www.example.com', values: ['203.0.113.1', '203.0.113.2'], strategy: 'single' }],
    },
    {
      name: 'primary-backup points every domain at the first listed VPS',
      registry: makeRegistry([app('@')], [{ service: 'app', domains: ['one.com', 'two.com'], vpsNodes: ['100.64.0.2', '100.64.0.1'], strategy: 'primary-backup' }]),
      records: [
        { host: 'one.com', values: ['203.0.113.2'], strategy: 'primary-backup' },
        { host: 'two.com', values: ['203.0.113.2'], strategy: 'primary-backup' },
      ],
    },
    {
      name: 'round-robin points domain i at VPS i mod n',
      registry: makeRegistry(
        [app('photos')],
        [{ service: 'app', domains: ['one.com', 'two.com', 'three.com'], vpsNodes: ['100.64.0.1', '100.64.0.2'], strategy: 'round-robin' }],
      ),
      records: [
        { host: 'photos.one.com', values: ['203.0.113.1'], strategy: 'round-robin' },
        { host: 'photos.three.com', values: ['203.0.113.1'], strategy: 'round-robin' },
        { host: 'photos.two.com', values: ['203.0.113.2'], strategy: 'round-robin' },
      ],
    },
    {
      name: 'a host whose only VPS has no endpoint gets no record',
      registry: makeRegistry([app('www')], [{ service: 'app', domains: ['one.com'], vpsNodes: ['100.64.0.3'], strategy: 'round-robin' }]),
      records: [],
    },
    {
      name: 'internal services get no record',
      registry: makeRegistry([app('www', false)]),
      records: [],
    },
  ];

  it.each(cases)('$name', ({ registry, records }) => {
    expect(renderDnsRecords(registry, SETTINGS)).toEqual(records.map((r) => ({ host: r.host, type: 'A', values: r.values, service: 'app', strategy: r.strategy })));
  });
});
