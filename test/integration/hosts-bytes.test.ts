/**
 * End-to-end: the bytes of a hosts file outside courier's block survive every write unchanged.
 * 100 pushes alternate between two registry states, so each one rewrites the block on real sshd
 * nodes; the pipeline functions are called directly (100 CLI start-ups would only add time).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { silentLogger } from '../../controller/logger.js';
import { openSite } from '../../controller/pipeline/open-site.js';
import { renderRevision, type RenderOutcome } from '../../controller/pipeline/render-revision.js';
import { syncNodes } from '../../controller/pipeline/sync-nodes.js';
import { blobOid, createSite, HOSTS_PATH, type SiteNode } from './create-site.js';

const PUSHES = 100;

const NODES: SiteNode[] = [
  { name: 'laptop-lf', role: 'laptop', fleet: 0 },
  { name: 'laptop-crlf', role: 'laptop', fleet: 1 },
  { name: 'worker-nolf', role: 'worker', fleet: 2 },
];

// LF lines around an existing block, with whitespace an editor might strip
const LF_BEFORE = '127.0.0.1\tlocalhost\n# keep me   \n\n\t\n';
const LF_AFTER = '192.168.1.5\tnas.lan  # trailing comment\n\n';
// CRLF lines, CRLF markers, and no newline at the end of the file
const CRLF_BEFORE = '127.0.0.1 localhost\r\n::1 localhost\r\n';
const CRLF_AFTER = '192.168.1.5 nas\r\n# no newline at the end';
// no block yet and no final newline: the first write adds one newline, then the block
const NOLF = '127.0.0.1 localhost';

let fleet: SshdFleet;

beforeAll(async () => {
  fleet = await startSshdFleet(3);
});

afterAll(async () => {
  await fleet?.stopAll();
});

/** Split a hosts file into what precedes the block body (through the BEGIN line), the body, and the rest (from the END line). */
function splitBlock(file: Buffer): { before: Buffer; body: Buffer; after: Buffer } {
  const text = file.toString('latin1');
  const begin = /(^|\n)# BEGIN courier\r?\n/.exec(text);
  if (!begin) throw new Error(`no BEGIN marker in ${JSON.stringify(text.slice(0, 200))}`);
  const bodyStart = begin.index + begin[0].length;
  const end = /(^|\n)# END courier(\r?\n|$)/.exec(text.slice(bodyStart - 1));
  if (!end) throw new Error('no END marker');
  const bodyEnd = bodyStart - 1 + end.index + end[1]!.length;
  return { before: file.subarray(0, bodyStart), body: file.subarray(bodyStart, bodyEnd), after: file.subarray(bodyEnd) };
}

describe('bytes outside the hosts block', () => {
  it(`stay byte-identical through ${PUSHES} pushes that each rewrite the block (LF, CRLF, no final newline)`, async () => {
    const site = await createSite(
      fleet,
      NODES.map((n) => ({ ...n })),
      { hosts: '  removeLegacy: false' },
    );
    await site.write('laptop-lf', HOSTS_PATH, `${LF_BEFORE}# BEGIN courier\n10.0.0.1\told.mycloud.local\n# END courier\n${LF_AFTER}`);
    await site.write('laptop-crlf', HOSTS_PATH, `${CRLF_BEFORE}# BEGIN courier\r\n10.0.0.1\told\r\n# END courier\r\n${CRLF_AFTER}`);
    await site.write('worker-nolf', HOSTS_PATH, NOLF);
    const expected: Record<string, { before: Buffer; after: Buffer }> = {
      'laptop-lf': { before: Buffer.from(`${LF_BEFORE}# BEGIN courier\n`), after: Buffer.from(`# END courier\n${LF_AFTER}`) },
      'laptop-crlf': { before: Buffer.from(`${CRLF_BEFORE}# BEGIN courier\r\n`), after: Buffer.from(`# END courier\r\n${CRLF_AFTER}`) },
      'worker-nolf': { before: Buffer.from(`${NOLF}\n# BEGIN courier\n`), after: Buffer.from('# END courier\n') },
    };

    // two registry states that differ in the hosts block only
    const courier = await openSite(site.configFile, silentLogger());
    const states: RenderOutcome[] = [];
    for (const ip of ['100.64.0.14', '100.64.0.15']) {
      site.registry.services.grafana!.ip = ip;
      await site.save();
      states.push(await renderRevision(courier, { trigger: `test state ${ip}` }));
    }
    expect(states[0]!.commit.revision).not.toBe(states[1]!.commit.revision);

    for (let i = 0; i < PUSHES; i++) {
      const { registry, rendered, commit } = states[i % 2]!;
      const byNode = new Map(rendered.nodes.map((r) => [r.node.name, r.artifacts]));
      const reports = await syncNodes(courier, registry.nodes, commit.revision, 'push', { desired: (node) => ({ revision: commit.revision, artifacts: byNode.get(node.name) ?? [] }) });
      for (const report of reports) {
        const label = `push ${i + 1} to ${report.node}`;
        expect([label, report.status, report.changed, report.error]).toEqual([label, 'converged', ['hosts'], undefined]);
        const parts = splitBlock((await site.read(report.node, HOSTS_PATH))!);
        const want = byNode.get(report.node)!.find((a) => a.name === 'hosts')!;
        expect([label, parts.before, parts.after]).toEqual([label, expected[report.node]!.before, expected[report.node]!.after]);
        expect([label, parts.body.toString('utf8')]).toEqual([label, want.content]);
        expect(report.oids?.[`block ${HOSTS_PATH}`]).toBe(blobOid(parts.body));
      }
      for (const n of NODES) expect(await site.tempFiles(n.name, HOSTS_PATH)).toEqual([]);
    }
    // each push is a real SSH session per node: about half a second idle, several seconds under load
  }, 600_000);
});
