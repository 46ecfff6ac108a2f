/**
 * The pure edit planners, table-driven: each case plans an edit on a document value, applies the
 * operations to the document's JSON text, and compares the result, key order included, with what
 * MyNodeOne's scripts would leave (bookkeeping fields stamped from the given clock).
 */
import { describe, expect, it } from 'vitest';
import { isCourierError } from '../../controller/errors.js';
import { applyEdit } from '../../controller/registry-edit/apply-edit.js';
import { addDomain, addVps, removeDomain, removeVps } from '../../controller/registry-edit/edit-domains.js';
import { addNode, removeNode } from '../../controller/registry-edit/edit-nodes.js';
import { removeRouting, setRouting } from '../../controller/registry-edit/edit-routing.js';
import { removeService, setService } from '../../controller/registry-edit/edit-services.js';
import type { DocumentChange, EditContext } from '../../controller/registry-edit/model.js';

const NOW = new Date('2026-03-04T05:06:07.890Z');
const CONTEXT: EditContext = { now: NOW, actor: 'admin@control', origin: 'registry/test.json' };
const JQ_TIME = '2026-03-04T05:06:07Z';
const DATE_TIME = '2026-03-04T05:06:07+00:00';
const STAMP = { last_updated: DATE_TIME, updated_by: 'admin@control' };

type Json = Record<string, unknown>;

interface Case {
  name: string;
  before: Json | undefined;
  plan: (current: unknown) => DocumentChange;
  action: DocumentChange['action'];
  after: Json | undefined;
}

const NODES: Json = {
  management_laptops: [],
  vps_nodes: [{ ip: '100.64.0.1', name: 'edge-1', ssh_user: 'root', ssh_port: 2222, webhook_port: 8080, registered: '2025-01-01T00:00:00+00:00', last_sync: null, status: 'error' }],
  worker_nodes: [{ name: 'worker-1', ip: '100.64.0.9', ssh_user: 'ops', custom: { kept: true } }],
  metadata: { version: '1.0', last_updated: '2025-01-01T00:00:00+00:00', updated_by: 'vinay@cp' },
};

const DOMAINS: Json = {
  domains: { 'example.com': { description: 'main', registered: '2025-01-01T00:00:00Z', status: 'active', owner: 'me' } },
  vps_nodes: [{ tailscale_ip: '100.64.0.1', public_ip: '203.0.113.1', location: 'us-east', registered: '2025-01-01T00:00:00Z', status: 'active' }],
};

const ROUTING: Json = { app: { domains: ['example.com'], vps_nodes: ['100.64.0.1'], strategy: 'primary-backup', updated: '2025-01-01T00:00:00Z', note: 'kept' } };

const SERVICES: Json = { app: { subdomain: 'app', namespace: 'apps', service: 'app-svc', ip: '10.0.0.1', port: 80, public: true, updated: '2025-01-01T00:00:00Z' } };

const CASES: Case[] = [
  {
    name: 'nodes add appends a new node with MyNodeOne bookkeeping and stamps metadata',
    before: NODES,
    plan: (c) => addNode(c, { role: 'vps', ip: '100.64.1.3', name: 'edge-3', sshUser: 'root', sudo: true, root: '/srv/edge-3' }, CONTEXT),
    action: 'added',
    after: {
      ...NODES,
      vps_nodes: [...(NODES.vps_nodes as Json[]), { name: 'edge-3', ip: '100.64.1.3', ssh_user: 'root', sudo: true, root: '/srv/edge-3', registered: DATE_TIME, last_sync: null, status: 'active' }],
      metadata: { version: '1.0', ...STAMP },
    },
  },
  {
    name: 'nodes add with a known name replaces its connection fields in place and keeps the rest',
    before: NODES,
    plan: (c) => addNode(c, { role: 'vps', ip: '100.64.0.5', name: 'edge-1', sshUser: 'admin', transport: 'ssh' }, CONTEXT),
    action: 'updated',
    after: {
      ...NODES,
      // ssh_port was not given again, so it is gone; status, last_sync and webhook_port stay.
      vps_nodes: [{ ip: '100.64.0.5', name: 'edge-1', ssh_user: 'admin', webhook_port: 8080, registered: DATE_TIME, last_sync: null, status: 'error', transport: 'ssh' }],
      metadata: { version: '1.0', ...STAMP },
    },
  },
  {
    name: 'nodes add with a known name and another role moves the node to that role',
    before: NODES,
    plan: (c) => addNode(c, { role: 'laptop', ip: '100.64.0.9', name: 'worker-1', sshUser: 'me' }, CONTEXT),
    action: 'updated',
    after: {
      ...NODES,
      management_laptops: [{ name: 'worker-1', ip: '100.64.0.9', ssh_user: 'me', custom: { kept: true }, registered: DATE_TIME }],
      worker_nodes: [],
      metadata: { version: '1.0', ...STAMP },
    },
  },
  {
    name: "nodes add on an absent registry creates MyNodeOne's init shape",
    before: undefined,
    plan: (c) => addNode(c, { role: 'worker', ip: '127.0.0.2', name: 'w', sshUser: 'u', sshPort: 2201, transport: 'local' }, CONTEXT),
    action: 'added',
    after: {
      management_laptops: [],
      vps_nodes: [],
      worker_nodes: [{ name: 'w', ip: '127.0.0.2', ssh_user: 'u', ssh_port: 2201, transport: 'local', registered: DATE_TIME, last_sync: null, status: 'active' }],
      metadata: { version: '1.0', ...STAMP },
    },
  },
  {
    name: 'nodes remove deletes the node whatever its role',
    before: NODES,
    plan: (c) => removeNode(c, 'worker-1', CONTEXT),
    action: 'removed',
    after: { ...NODES, worker_nodes: [], metadata: { version: '1.0', ...STAMP } },
  },
  { name: 'nodes remove of an unknown name changes nothing', before: NODES, plan: (c) => removeNode(c, 'ghost', CONTEXT), action: 'unchanged', after: NODES },
  {
    name: 'domains add registers a domain as register-domain does',
    before: DOMAINS,
    plan: (c) => addDomain(c, 'example.org', undefined, CONTEXT),
    action: 'added',
    after: { ...DOMAINS, domains: { ...(DOMAINS.domains as Json), 'example.org': { description: '', registered: JQ_TIME, status: 'active' } } },
  },
  {
    name: 'domains add of a known domain updates its description and keeps unknown fields',
    before: DOMAINS,
    plan: (c) => addDomain(c, 'example.com', 'renamed', CONTEXT),
    action: 'updated',
    after: { ...DOMAINS, domains: { 'example.com': { description: 'renamed', registered: JQ_TIME, status: 'active', owner: 'me' } } },
  },
  {
    name: "domains add on an absent document creates init's shape",
    before: undefined,
    plan: (c) => addDomain(c, 'example.com', 'main', CONTEXT),
    action: 'added',
    after: { domains: { 'example.com': { description: 'main', registered: JQ_TIME, status: 'active' } }, vps_nodes: [] },
  },
  { name: 'domains remove deletes the domain', before: DOMAINS, plan: (c) => removeDomain(c, 'example.com', CONTEXT), action: 'removed', after: { ...DOMAINS, domains: {} } },
  { name: 'domains remove of an unknown domain changes nothing', before: DOMAINS, plan: (c) => removeDomain(c, 'nope.com', CONTEXT), action: 'unchanged', after: DOMAINS },
  {
    name: 'vps add appends an edge as register-vps does',
    before: DOMAINS,
    plan: (c) => addVps(c, { tailscaleIp: '100.64.0.2', publicIp: '198.51.100.2', location: 'eu' }, CONTEXT),
    action: 'added',
    after: { ...DOMAINS, vps_nodes: [...(DOMAINS.vps_nodes as Json[]), { tailscale_ip: '100.64.0.2', public_ip: '198.51.100.2', location: 'eu', registered: JQ_TIME, status: 'active' }] },
  },
  {
    name: 'vps add of a known tailscale IP updates it in place and keeps its location when none is given',
    before: DOMAINS,
    plan: (c) => addVps(c, { tailscaleIp: '100.64.0.1', publicIp: '198.51.100.9' }, CONTEXT),
    action: 'updated',
    after: { ...DOMAINS, vps_nodes: [{ tailscale_ip: '100.64.0.1', public_ip: '198.51.100.9', location: 'us-east', registered: JQ_TIME, status: 'active' }] },
  },
  { name: 'vps remove deletes the edge', before: DOMAINS, plan: (c) => removeVps(c, '100.64.0.1', CONTEXT), action: 'removed', after: { ...DOMAINS, vps_nodes: [] } },
  {
    name: 'routing set creates an entry as configure-routing does, round-robin by default',
    before: ROUTING,
    plan: (c) => setRouting(c, { service: 'web', domains: ['a.com', 'b.com'], vpsNodes: ['100.64.0.1'] }, CONTEXT),
    action: 'added',
    after: { ...ROUTING, web: { domains: ['a.com', 'b.com'], vps_nodes: ['100.64.0.1'], strategy: 'round-robin', updated: JQ_TIME } },
  },
  {
    name: 'routing set on a routed service changes the given fields and keeps the strategy and unknown fields',
    before: ROUTING,
    plan: (c) => setRouting(c, { service: 'app', vpsNodes: ['100.64.0.2', '100.64.0.1'] }, CONTEXT),
    action: 'updated',
    after: { app: { domains: ['example.com'], vps_nodes: ['100.64.0.2', '100.64.0.1'], strategy: 'primary-backup', updated: JQ_TIME, note: 'kept' } },
  },
  { name: 'routing remove deletes the entry', before: ROUTING, plan: (c) => removeRouting(c, 'app', CONTEXT), action: 'removed', after: {} },
  {
    name: 'services set creates a private service as register does',
    before: SERVICES,
    plan: (c) => setService(c, { name: 'db', subdomain: 'db', ip: '10.0.0.2', port: 5432, namespace: 'data' }, CONTEXT),
    action: 'added',
    after: { ...SERVICES, db: { subdomain: 'db', namespace: 'data', ip: '10.0.0.2', port: 5432, public: false, updated: JQ_TIME } },
  },
  {
    name: 'services set on a known service changes only the given fields',
    before: SERVICES,
    plan: (c) => setService(c, { name: 'app', port: 8080, public: false }, CONTEXT),
    action: 'updated',
    after: { app: { subdomain: 'app', namespace: 'apps', service: 'app-svc', ip: '10.0.0.1', port: 8080, public: false, updated: JQ_TIME } },
  },
  {
    name: 'services set on an absent document creates it',
    before: undefined,
    plan: (c) => setService(c, { name: 'app', subdomain: '@', ip: '10.0.0.1', port: 80, public: true }, CONTEXT),
    action: 'added',
    after: { app: { subdomain: '@', ip: '10.0.0.1', port: 80, public: true, updated: JQ_TIME } },
  },
  { name: 'services remove deletes the service', before: SERVICES, plan: (c) => removeService(c, 'app', CONTEXT), action: 'removed', after: {} },
];

describe('edit planners', () => {
  it.each(CASES)('$name', ({ before, plan, action, after }) => {
    const text = before === undefined ? '' : `${JSON.stringify(before, null, 2)}\n`;
    const change = plan(structuredClone(before));
    expect(change.action).toBe(action);
    if (action === 'unchanged') expect(change.operations).toEqual([]);
    const edited = applyEdit(text, 'json', change.operations);
    // String comparison: key order is part of the expectation.
    expect(edited).toBe(after === undefined ? '' : `${JSON.stringify(after, null, 2)}\n`);
  });

  it('planning does not modify the value it is given', () => {
    const before = structuredClone(NODES);
    addNode(before, { role: 'vps', ip: '100.64.0.5', name: 'edge-1', sshUser: 'admin' }, CONTEXT);
    removeNode(before, 'worker-1', CONTEXT);
    expect(before).toEqual(NODES);
  });

  it.each([
    ['routing set of a new service without --vps', () => setRouting(ROUTING, { service: 'web', domains: ['a.com'] }, CONTEXT)],
    ['services set of a new service without --ip and --port', () => setService(SERVICES, { name: 'db', subdomain: 'db' }, CONTEXT)],
  ])('%s is a usage error', (_name, plan) => {
    expect(() => plan()).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it.each([
    ['a node list that is not a list', () => addNode({ vps_nodes: { a: 1 } }, { role: 'vps', ip: '1.2.3.4', name: 'x', sshUser: 'u' }, CONTEXT), '$.vps_nodes'],
    ['a registry that is a list', () => removeNode([], 'x', CONTEXT), '$'],
    ['domains that are a list', () => addDomain({ domains: [] }, 'a.com', undefined, CONTEXT), '$.domains'],
    ['services that are a string', () => setService('nope', { name: 'a' }, CONTEXT), '$'],
  ])('an edit refuses %s with REGISTRY_INVALID naming the path', (_name, plan, path) => {
    let error: unknown;
    try {
      plan();
    } catch (err) {
      error = err;
    }
    expect(isCourierError(error, 'REGISTRY_INVALID')).toBe(true);
    expect((error as Error).message).toContain(`registry/test.json: ${path}: `);
  });

  it('describes nodes with role and address for the human line', () => {
    const change = addNode(NODES, { role: 'vps', ip: '100.64.1.3', name: 'edge-3', sshUser: 'root' }, CONTEXT);
    expect([change.kind, change.key, change.detail]).toEqual(['node', 'edge-3', '(vps 100.64.1.3)']);
    expect(removeNode(NODES, 'edge-1', CONTEXT).detail).toBe('(vps 100.64.0.1)');
  });
});
