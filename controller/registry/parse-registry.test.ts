import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { parseRegistry } from './parse-registry.js';
import { readFilesSource } from '../sources/files-source.js';
import { isCourierError } from '../errors.js';
import { minimalDocuments, problemsAfter, snapshotOf } from '../../test/fixtures/registry-kit/registry-kit.js';

const REALISTIC = fileURLToPath(new URL('../../test/fixtures/registry-realistic/', import.meta.url));

describe('parseRegistry on a realistic MyNodeOne registry', () => {
  it('returns the typed model, sorted', async () => {
    const registry = parseRegistry(await readFilesSource(REALISTIC));
    expect(registry.clusterDomain).toBe('mycloud');
    expect(registry.domains).toEqual(['curiios.com', 'vinaysachdeva.com']);
    expect(registry.services).toEqual([
      { name: 'dashboard', subdomain: 'dashboard', ip: '100.118.5.200', port: 80, public: false, namespace: 'dashboard' },
      { name: 'immich', subdomain: 'photos', ip: '100.118.5.201', port: 80, public: true, namespace: 'immich' },
      { name: 'kube-prometheus-stack-grafana', subdomain: 'grafana', ip: '100.118.5.204', port: 80, public: false, namespace: 'monitoring' },
      { name: 'landing', subdomain: '', ip: '100.118.5.200', port: 8081, public: false, namespace: 'dashboard' },
      { name: 'minio-console', subdomain: 'minio', ip: '100.118.5.205', port: 9001, public: false, namespace: 'minio' },
      { name: 'open-webui', subdomain: 'chat', ip: '100.118.5.203', port: 80, public: true, namespace: 'llm-chat' },
      { name: 'website', subdomain: '@', ip: '100.118.5.200', port: 8080, public: true, namespace: 'website' },
    ]);
    expect(registry.routing).toEqual([
      { service: 'immich', domains: ['curiios.com', 'vinaysachdeva.com'], vpsNodes: ['100.68.225.92', '100.70.123.45'], strategy: 'round-robin' },
      { service: 'open-webui', domains: ['curiios.com'], vpsNodes: ['100.68.225.92'], strategy: 'primary-backup' },
      { service: 'website', domains: ['vinaysachdeva.com'], vpsNodes: ['100.70.123.45', '100.68.225.92'], strategy: 'primary-backup' },
    ]);
    expect(registry.vpsEndpoints).toEqual([
      { tailscaleIp: '100.68.225.92', publicIp: '45.8.133.192', location: 'us-east' },
      { tailscaleIp: '100.70.123.45', publicIp: '5.161.20.10', location: 'eu-central' },
    ]);
    expect(registry.nodes.map((n) => `${n.role}/${n.name}`)).toEqual([
      'laptop/family-desktop',
      'laptop/vinay-laptop',
      'vps/vps-contabo-us',
      'vps/vps-hetzner-eu',
      'worker/node-02',
      'worker/node-03',
    ]);
    expect(registry.nodes.find((n) => n.name === 'vps-hetzner-eu')).toEqual({
      name: 'vps-hetzner-eu',
      role: 'vps',
      ip: '100.70.123.45',
      sshUser: 'sammy',
      sshPort: 22,
      sudo: true,
      transport: 'ssh',
    });
    expect(registry.nodes.find((n) => n.name === 'node-02')?.sshPort).toBe(2222);
  });

  it("keeps MyNodeOne's extra fields in the normalized documents, keys sorted", async () => {
    const registry = parseRegistry(await readFilesSource(REALISTIC));
    expect(Object.keys(registry.documents)).toEqual(['services.json', 'domains.json', 'routing.json', 'registry.json', 'cluster-domain']);
    const services = registry.documents['services.json'] as Record<string, Record<string, unknown>>;
    expect(Object.keys(services)).toEqual([...Object.keys(services)].sort());
    expect(Object.keys(services.immich ?? {})).toEqual(['ip', 'namespace', 'port', 'public', 'service', 'subdomain', 'updated']);
    const nodes = registry.documents['registry.json'] as { metadata: unknown; vps_nodes: Record<string, unknown>[] };
    // status write-back fields are sync output, not inputs: a write-back must not make a revision
    expect(nodes.metadata).toEqual({ version: '1.0' });
    expect(nodes.vps_nodes[0]).toMatchObject({ webhook_port: 8080, repo_path: '/root/MyNodeOne' });
    expect(nodes.vps_nodes[0]).not.toHaveProperty('status');
    expect((registry.documents['routing.json'] as Record<string, { updated: string }>).immich?.updated).toBe('2025-10-28T09:20:44Z');
    expect(registry.documents['cluster-domain']).toBe('mycloud');
    // Unknown fields never reach the typed model.
    expect(registry.services.find((s) => s.name === 'immich')).not.toHaveProperty('updated');
    expect(registry.nodes.find((n) => n.name === 'node-02')).not.toHaveProperty('webhook_port');
  });

  it('gives the same registry whatever the key order of the documents', async () => {
    const snapshot = await readFilesSource(REALISTIC);
    const shuffled = structuredClone(snapshot);
    const services = shuffled.documents['services.json'];
    if (services === undefined) throw new Error('fixture lost services.json');
    const entries = Object.entries(JSON.parse(services.text) as Record<string, unknown>).reverse();
    services.text = JSON.stringify(Object.fromEntries(entries));
    expect(JSON.stringify(parseRegistry(shuffled))).toBe(JSON.stringify(parseRegistry(snapshot)));
  });
});

describe('parseRegistry defaults', () => {
  it('returns an empty registry with cluster domain "mynodeone" when every document is absent', () => {
    expect(parseRegistry({ documents: {}, trigger: 'test' })).toEqual({
      services: [],
      domains: [],
      vpsEndpoints: [],
      routing: [],
      nodes: [],
      clusterDomain: 'mynodeone',
      documents: {},
    });
  });

  it('accepts the minimal test registry', () => {
    expect(parseRegistry(snapshotOf(minimalDocuments())).services.map((s) => s.name)).toEqual(['app', 'db']);
  });
});

describe('parseRegistry errors', () => {
  it('lists every problem, one per line, as <origin>: <path>: <value> <what is wrong>', () => {
    const docs = minimalDocuments();
    docs['registry.json'].worker_nodes[0].ssh_port = '22';
    docs['services.json'].db.port = 70000;
    docs['cluster-domain'] = 'My_Cloud';
    let error: unknown;
    try {
      parseRegistry(snapshotOf(docs));
    } catch (err) {
      error = err;
    }
    expect(isCourierError(error, 'REGISTRY_INVALID')).toBe(true);
    expect((error as Error).message).toBe(
      [
        'registry is invalid (3 problems):',
        'registry/services.json: $.db.port: 70000 is not a port (1-65535)',
        'registry/registry.json: $.worker_nodes[0].ssh_port: "22" must be a number (a port 1-65535)',
        'registry/cluster-domain: $: "My_Cloud" contains uppercase "M"; use lowercase',
      ].join('\n'),
    );
  });

  it('reports all problems across documents, not just the first', () => {
    const problems = problemsAfter((d) => {
      d['services.json'].db.ip = '10.0.0.300';
      d['domains.json'].vps_nodes[0].public_ip = 'nope';
      d['routing.json'].app.strategy = 'random';
    });
    expect(problems.map((p) => [p.document, p.origin, p.path])).toEqual([
      ['services.json', 'registry/services.json', '$.db.ip'],
      ['domains.json', 'registry/domains.json', '$.vps_nodes[0].public_ip'],
      ['routing.json', 'registry/routing.json', '$.app.strategy'],
    ]);
  });

  it('checks routing against an absent domains.json as an empty one', () => {
    const problems = problemsAfter((d) => delete d['domains.json']);
    expect(problems.map((p) => [p.document, p.path])).toEqual([
      ['routing.json', '$.app.domains[0]'],
      ['routing.json', '$.app.vps_nodes[0]'],
    ]);
  });
});
