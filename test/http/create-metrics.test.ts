import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../controller/http/create-metrics.js';
import type { NodeSyncReport } from '../../controller/pipeline/sync-node.js';
import type { NodeStatus } from '../../controller/status/next-node-status.js';

/** One sample line of the Prometheus text format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parse the sample lines (not comments) of a Prometheus text exposition. */
function parseSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The samples of one metric whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

const report = (fields: Partial<NodeSyncReport> & Pick<NodeSyncReport, 'node' | 'status'>): NodeSyncReport => ({
  role: 'vps',
  revision: 'abc123',
  changed: [],
  bytesSent: 0,
  durationMs: 250,
  attempts: 1,
  ...fields,
});

const nodeStatus = (fields: Partial<NodeStatus> & Pick<NodeStatus, 'node' | 'status'>): NodeStatus => ({ role: 'vps', failures: 0, oids: {}, drift: [], ...fields });

describe('createMetrics', () => {
  it('exposes every courier metric with its labels after the record calls', async () => {
    const metrics = createMetrics();
    metrics.recordSync(report({ node: 'edge-1', status: 'converged', bytesSent: 1234, durationMs: 800 }), 'push');
    metrics.recordSync(report({ node: 'edge-1', status: 'drifted', durationMs: 120 }), 'verify');
    metrics.setNodeStatus(nodeStatus({ node: 'edge-1', status: 'pending_sync', last_sync: '2026-01-02T03:04:05.000Z' }));
    metrics.setRegistryValid(true);
    metrics.setRevision('4f2a9c1e');
    metrics.recordWatchEvent('files');
    metrics.recordReconcile('interval');
    metrics.setLeader(true);

    const samples = parseSamples(await metrics.render());
    expect(find(samples, 'courier_node_status', { node: 'edge-1', role: 'vps' }).map((s) => [s.labels.status, s.value]).sort()).toEqual([
      ['active', 0],
      ['error', 0],
      ['pending_sync', 1],
    ]);
    expect(find(samples, 'courier_node_last_sync_timestamp_seconds', { node: 'edge-1', role: 'vps' })).toEqual([
      { name: 'courier_node_last_sync_timestamp_seconds', labels: { node: 'edge-1', role: 'vps' }, value: Date.parse('2026-01-02T03:04:05.000Z') / 1000 },
    ]);
    expect(find(samples, 'courier_sync_duration_seconds_count', { mode: 'push', result: 'converged' })[0]?.value).toBe(1);
    expect(find(samples, 'courier_sync_duration_seconds_sum', { mode: 'push', result: 'converged' })[0]?.value).toBeCloseTo(0.8);
    expect(find(samples, 'courier_sync_duration_seconds_bucket', { mode: 'verify', result: 'drifted', le: '0.25' })[0]?.value).toBe(1);
    expect(find(samples, 'courier_sync_duration_seconds_bucket', { mode: 'verify', result: 'drifted', le: '0.1' })[0]?.value).toBe(0);
    expect(find(samples, 'courier_syncs_total', { node: 'edge-1', mode: 'push', result: 'converged' })[0]?.value).toBe(1);
    expect(find(samples, 'courier_syncs_total', { node: 'edge-1', mode: 'verify', result: 'drifted' })[0]?.value).toBe(1);
    expect(find(samples, 'courier_artifact_bytes_sent_total', { node: 'edge-1' })[0]?.value).toBe(1234);
    expect(find(samples, 'courier_drift_events_total', { node: 'edge-1' })[0]?.value).toBe(1);
    expect(find(samples, 'courier_registry_valid')).toEqual([{ name: 'courier_registry_valid', labels: {}, value: 1 }]);
    expect(find(samples, 'courier_revision_info')).toEqual([{ name: 'courier_revision_info', labels: { revision: '4f2a9c1e' }, value: 1 }]);
    expect(find(samples, 'courier_watch_events_total', { source: 'files' })[0]?.value).toBe(1);
    expect(find(samples, 'courier_reconciles_total', { trigger: 'interval' })[0]?.value).toBe(1);
    expect(find(samples, 'courier_leader')).toEqual([{ name: 'courier_leader', labels: {}, value: 1 }]);
  });

  it('includes the default process metrics on its own registry, not the global one', async () => {
    const one = createMetrics();
    const two = createMetrics();
    one.recordWatchEvent('git');
    const names = new Set(parseSamples(await one.render()).map((s) => s.name));
    expect(names.has('process_cpu_user_seconds_total')).toBe(true);
    expect(names.has('nodejs_heap_size_used_bytes')).toBe(true);
    expect(find(parseSamples(await two.render()), 'courier_watch_events_total')).toEqual([]);
  });

  it('sizes the duration buckets from 50 ms to a minute', async () => {
    const metrics = createMetrics();
    metrics.recordSync(report({ node: 'edge-1', status: 'converged', durationMs: 45_000 }), 'push');
    const bounds = find(parseSamples(await metrics.render()), 'courier_sync_duration_seconds_bucket').map((s) => s.labels.le);
    expect(bounds[0]).toBe('0.05');
    expect(bounds).toContain('60');
    expect(bounds.at(-1)).toBe('+Inf');
  });

  it('counts healed hand edits as a drift event even when the sync converged', async () => {
    const metrics = createMetrics();
    const edit = { name: 'hosts', path: '/etc/hosts', kind: 'block' as const, expected: 'a', found: 'b' };
    metrics.recordSync(report({ node: 'worker-a', status: 'converged', handEdits: [edit] }), 'push');
    metrics.recordSync(report({ node: 'worker-a', status: 'converged', handEdits: [] }), 'push');
    expect(find(parseSamples(await metrics.render()), 'courier_drift_events_total', { node: 'worker-a' })[0]?.value).toBe(1);
  });

  it('keeps only the current revision in the info metric', async () => {
    const metrics = createMetrics();
    metrics.setRevision('old');
    metrics.setRevision('new');
    expect(find(parseSamples(await metrics.render()), 'courier_revision_info').map((s) => s.labels.revision)).toEqual(['new']);
  });

  it('moves a node status to its new role without leaving the old series', async () => {
    const metrics = createMetrics();
    metrics.setNodeStatus(nodeStatus({ node: 'n1', role: 'worker', status: 'active', last_sync: '2026-01-01T00:00:00Z' }));
    metrics.setNodeStatus(nodeStatus({ node: 'n1', role: 'vps', status: 'error', last_sync: '2026-01-01T00:00:00Z' }));
    const samples = parseSamples(await metrics.render());
    expect(find(samples, 'courier_node_status', { node: 'n1' }).map((s) => s.labels.role)).toEqual(['vps', 'vps', 'vps']);
    expect(find(samples, 'courier_node_last_sync_timestamp_seconds', { node: 'n1' }).map((s) => s.labels.role)).toEqual(['vps']);
  });

  it('has no last sync series for a node that never converged', async () => {
    const metrics = createMetrics();
    metrics.setNodeStatus(nodeStatus({ node: 'fresh', status: 'pending_sync' }));
    expect(find(parseSamples(await metrics.render()), 'courier_node_last_sync_timestamp_seconds', { node: 'fresh' })).toEqual([]);
  });

  it('forgets every series of a removed node and keeps the others', async () => {
    const metrics = createMetrics();
    for (const node of ['gone', 'kept']) {
      metrics.setNodeStatus(nodeStatus({ node, status: 'active', last_sync: '2026-01-01T00:00:00Z' }));
      metrics.recordSync(report({ node, status: 'drifted', bytesSent: 10 }), 'push');
      metrics.recordSync(report({ node, status: 'converged' }), 'verify');
    }
    metrics.forgetNode('gone');
    const samples = parseSamples(await metrics.render());
    expect(samples.filter((s) => s.labels.node === 'gone')).toEqual([]);
    expect(samples.filter((s) => s.labels.node === 'kept').map((s) => s.name).sort()).toEqual([
      'courier_artifact_bytes_sent_total',
      'courier_drift_events_total',
      'courier_node_last_sync_timestamp_seconds',
      'courier_node_status',
      'courier_node_status',
      'courier_node_status',
      'courier_syncs_total',
      'courier_syncs_total',
    ]);
  });
});
