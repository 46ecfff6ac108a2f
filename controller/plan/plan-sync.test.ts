import { describe, expect, it } from 'vitest';
import { blobOid } from '../render/blob-oid.js';
import type { Artifact, ManifestEntry } from '../render/model.js';
import { ABSENT, findDrift, findHandEdits, planOps, planWants, wantKey } from './plan-sync.js';

const artifact = (name: string, path: string, kind: 'file' | 'block', content: string): Artifact => ({ name, path, kind, mode: '0644', content, oid: blobOid(content) });
const entry = ({ content: _c, ...rest }: Artifact): ManifestEntry => rest;

const hosts = artifact('hosts', '/etc/hosts', 'block', '10.0.0.1\ta.mycloud.local\n');
const traefik = artifact('traefik.yml', '/srv/traefik.yml', 'file', 'http: {}\n');

describe('planWants', () => {
  it('wants every desired artifact in manifest order', () => {
    expect(planWants([entry(hosts), entry(traefik)])).toEqual([
      { path: '/etc/hosts', kind: 'block', oid: hosts.oid, name: 'hosts' },
      { path: '/srv/traefik.yml', kind: 'file', oid: traefik.oid, name: 'traefik.yml' },
    ]);
  });

  it('wants removal of an artifact the verified revision had and main no longer has', () => {
    const wants = planWants([entry(hosts)], [entry(hosts), entry(traefik)]);
    expect(wants).toHaveLength(2);
    expect(wants[1]).toEqual({ path: '/srv/traefik.yml', kind: 'file', oid: ABSENT, name: 'traefik.yml' });
  });

  it('does not remove an artifact that moved only in content', () => {
    const changed = artifact('hosts', '/etc/hosts', 'block', '10.0.0.2\tb.mycloud.local\n');
    expect(planWants([entry(changed)], [entry(hosts)])).toEqual([{ path: '/etc/hosts', kind: 'block', oid: changed.oid, name: 'hosts' }]);
  });
});

describe('planOps', () => {
  const wants = planWants([entry(hosts), entry(traefik)]);
  const table: { name: string; haves: string[]; expected: string[] }[] = [
    { name: 'skips artifacts whose oids match', haves: [hosts.oid, traefik.oid], expected: [] },
    { name: 'puts an absent artifact', haves: [ABSENT, traefik.oid], expected: ['put /etc/hosts'] },
    { name: 'puts a drifted artifact', haves: [hosts.oid, blobOid('edited')], expected: ['put /srv/traefik.yml'] },
    { name: 'puts both when both differ', haves: [ABSENT, ABSENT], expected: ['put /etc/hosts', 'put /srv/traefik.yml'] },
  ];
  it.each(table)('$name', ({ haves, expected }) => {
    const ops = planOps(
      wants,
      wants.map((w, i) => ({ path: w.path, kind: w.kind, oid: haves[i]! })),
      [hosts, traefik],
    );
    expect(ops.map((o) => `${o.op} ${o.want.path}`)).toEqual(expected);
  });

  it('deletes a removed artifact only when the node still has it', () => {
    const removal = planWants([], [entry(traefik)]);
    expect(planOps(removal, [{ path: traefik.path, kind: 'file', oid: traefik.oid }], []).map((o) => o.op)).toEqual(['del']);
    expect(planOps(removal, [{ path: traefik.path, kind: 'file', oid: ABSENT }], [])).toEqual([]);
  });

  it('carries the artifact content on a put', () => {
    const [op] = planOps(wants.slice(0, 1), [{ path: hosts.path, kind: 'block', oid: ABSENT }], [hosts, traefik]);
    expect(op?.op === 'put' && op.artifact.content).toBe(hosts.content);
  });
});

describe('findDrift', () => {
  it('reports nothing when every want is found', () => {
    const wants = planWants([entry(hosts)]);
    expect(findDrift(wants, new Map([[wantKey(hosts), hosts.oid]]))).toEqual([]);
  });

  it('reports expected and found oids for an edited artifact', () => {
    const wants = planWants([entry(hosts)]);
    const edited = blobOid('hand edit\n');
    expect(findDrift(wants, new Map([[wantKey(hosts), edited]]))).toEqual([{ name: 'hosts', path: '/etc/hosts', kind: 'block', expected: hosts.oid, found: edited }]);
  });

  it('reports a missing artifact as found "-"', () => {
    expect(findDrift(planWants([entry(traefik)]), new Map())[0]?.found).toBe(ABSENT);
  });
});

describe('findHandEdits', () => {
  const wants = planWants([entry(hosts)]);
  const verified = new Map([[wantKey(hosts), blobOid('old\n')]]);

  it('finds content that is neither the verified nor the wanted one', () => {
    const edited = blobOid('edited by hand\n');
    expect(findHandEdits(wants, [{ path: hosts.path, kind: 'block', oid: edited }], verified)).toEqual([
      { name: 'hosts', path: '/etc/hosts', kind: 'block', expected: blobOid('old\n'), found: edited },
    ]);
  });

  it('does not count a node that is merely behind or already converged', () => {
    expect(findHandEdits(wants, [{ path: hosts.path, kind: 'block', oid: blobOid('old\n') }], verified)).toEqual([]);
    expect(findHandEdits(wants, [{ path: hosts.path, kind: 'block', oid: hosts.oid }], verified)).toEqual([]);
  });
});
