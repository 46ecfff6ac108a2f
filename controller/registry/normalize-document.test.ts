import { describe, expect, it } from 'vitest';
import { normalizeDocument, stripStatusFields } from './normalize-document.js';
import { parseRegistry } from './parse-registry.js';

describe('normalizeDocument', () => {
  it('sorts keys recursively and keeps array order', () => {
    expect(JSON.stringify(normalizeDocument({ b: 1, a: [{ d: 1, c: 2 }, 3] }))).toBe('{"a":[{"c":2,"d":1},3],"b":1}');
  });
});

describe('stripStatusFields', () => {
  it('drops the status write-back fields and keeps every other field', () => {
    const doc = {
      vps_nodes: [{ name: 'edge-1', ip: '10.0.0.1', ssh_user: 'root', status: 'active', last_sync: 'x', last_attempt: 'y', registered: 'z' }],
      metadata: { version: '1.0', last_updated: 'a', updated_by: 'b' },
    };
    expect(stripStatusFields(doc)).toEqual({ vps_nodes: [{ name: 'edge-1', ip: '10.0.0.1', ssh_user: 'root', registered: 'z' }], metadata: { version: '1.0' } });
  });

  it('makes a status write-back produce the same stored registry document', () => {
    const registry = (status: string) =>
      parseRegistry({
        trigger: 't',
        documents: {
          'registry.json': {
            name: 'registry.json',
            origin: 'registry.json',
            format: 'json',
            text: JSON.stringify({ worker_nodes: [{ name: 'w1', ip: '10.0.0.2', ssh_user: 'ops', status, last_sync: status === 'active' ? '2026-01-01T00:00:00Z' : null }] }),
          },
        },
      }).documents['registry.json'];
    expect(registry('active')).toEqual(registry('pending_sync'));
  });

  it('drops a metadata object the write-back created for its own fields (a first write-back changes no revision)', () => {
    const before = { worker_nodes: [{ name: 'w1', ip: '10.0.0.2', ssh_user: 'ops' }] };
    const after = { ...before, metadata: { last_updated: '2026-01-01T00:00:00Z', updated_by: 'courier@cp' } };
    expect(stripStatusFields(after)).toEqual(stripStatusFields(before));
    expect(stripStatusFields({ ...before, metadata: { version: '1.0', updated_by: 'x' } })).toEqual({ ...before, metadata: { version: '1.0' } });
  });
});
