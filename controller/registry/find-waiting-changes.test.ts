import { describe, expect, it } from 'vitest';
import type { RawDocument, RegistrySnapshot } from './model.js';
import { findWaitingChanges } from './find-waiting-changes.js';
import { parseRegistry } from './parse-registry.js';

const json = (name: RawDocument['name'], value: unknown): RawDocument => ({ name, origin: `registry/${name}`, format: 'json', text: JSON.stringify(value) });
const services = { app: { subdomain: 'app', ip: '100.64.0.1', port: 80, public: false } };
const nodes = { management_laptops: [{ name: 'laptop-1', ip: '127.0.0.2', ssh_user: 'ops', status: 'active' }], vps_nodes: [], worker_nodes: [] };
const base: RegistrySnapshot = { trigger: 't', documents: { 'services.json': json('services.json', services), 'registry.json': json('registry.json', nodes) } };
const pinned = parseRegistry(base).documents;

describe('findWaitingChanges', () => {
  it('finds nothing when the live registry equals the pinned one, status fields and key order aside', () => {
    const reordered = { worker_nodes: [], vps_nodes: [], management_laptops: [{ ssh_user: 'ops', ip: '127.0.0.2', name: 'laptop-1', status: 'pending_sync', last_sync: 'x' }] };
    expect(findWaitingChanges({ ...base, documents: { ...base.documents, 'registry.json': json('registry.json', reordered) } }, pinned)).toEqual({ valid: true, documents: [] });
  });

  it('lists added, modified and removed documents and whether each validates', () => {
    const live: RegistrySnapshot = {
      trigger: 't',
      documents: {
        'services.json': json('services.json', { app: { ...services.app, port: 70000 } }),
        'cluster-domain': { name: 'cluster-domain', origin: 'registry/cluster-domain', format: 'text', text: 'other\n' },
      },
    };
    const waiting = findWaitingChanges(live, pinned);
    expect(waiting.valid).toBe(false);
    expect(waiting.error).toContain('registry/services.json: $.app.port: 70000 is not a port');
    expect(waiting.documents).toEqual([
      { document: 'services.json', change: 'modified', valid: false, problems: [expect.stringContaining('$.app.port: 70000 is not a port') as unknown as string] },
      { document: 'registry.json', change: 'removed', valid: true, problems: [] },
      { document: 'cluster-domain', change: 'added', valid: true, problems: [] },
    ]);
  });

  it('counts a document that does not parse as changed and invalid', () => {
    const live: RegistrySnapshot = { ...base, documents: { ...base.documents, 'services.json': { ...json('services.json', {}), text: '{ "app": ' } } };
    const waiting = findWaitingChanges(live, pinned);
    expect(waiting.documents).toEqual([{ document: 'services.json', change: 'modified', valid: false, problems: [expect.stringContaining('registry/services.json') as unknown as string] }]);
  });
});
