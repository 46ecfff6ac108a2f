/**
 * The daemon benchmark's edit loop: rewrite services.json (write + rename, as editors do) and wait
 * until every node's status says `active` at the new revision of main — the node itself reported the
 * new hashes. Shared by bench/run.ts (latency) and bench/daemon-rss.ts (memory over many edits).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Site } from '../controller/pipeline/open-site.js';
import { readStatusFile } from '../controller/status/status-file.js';
import { readMain } from '../controller/store/commit-revision.js';
import { serviceIp } from './registry-gen.js';

/** Public service without a routing entry: on every VPS (Traefik) and every laptop/worker (hosts), so an edit changes every node. */
export const EDITED_SERVICE = 'svc-003';

/** Edits services.json of a site and waits for convergence. */
export class DaemonEditor {
  private readonly services: Record<string, { ip: string }>;
  private readonly file: string;
  private gen = 1000;

  constructor(
    private readonly site: Site,
    private readonly nodeNames: readonly string[],
    private readonly options: { pollMs?: number; timeoutMs?: number } = {},
  ) {
    if (site.config.source.type !== 'files') throw new Error('the daemon bench needs a files source');
    this.file = path.join(site.config.source.path, 'services.json');
    this.services = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, { ip: string }>;
  }

  /** One edit: returns ms from the rename until every node (or those in `waitFor`) is active at the new main, and that revision. */
  async edit(waitFor: readonly string[] = this.nodeNames): Promise<{ ms: number; committedMs: number; revision: string; ip: string }> {
    const before = await readMain(this.site.store);
    const ip = serviceIp(3, ++this.gen);
    this.services[EDITED_SERVICE]!.ip = ip;
    const tmp = path.join(path.dirname(this.file), '.services.json.bench-tmp');
    writeFileSync(tmp, JSON.stringify(this.services, null, 2));
    const start = performance.now();
    renameSync(tmp, this.file);
    const pollMs = this.options.pollMs ?? 10;
    const deadline = start + (this.options.timeoutMs ?? 60_000);
    let committedMs: number | undefined;
    for (;;) {
      await new Promise((r) => setTimeout(r, pollMs));
      const main = await readMain(this.site.store);
      if (main !== undefined && main !== before) {
        // when the new revision was first seen on main (render + commit done, push starting)
        committedMs ??= performance.now() - start;
        const doc = await readStatusFile(this.site.config.state.statusFile);
        if (waitFor.every((n) => doc.nodes[n]?.status === 'active' && doc.nodes[n]?.revision === main)) {
          return { ms: performance.now() - start, committedMs, revision: main, ip };
        }
      }
      if (performance.now() > deadline) {
        const doc = await readStatusFile(this.site.config.state.statusFile);
        const behind = waitFor.filter((n) => doc.nodes[n]?.revision !== main || doc.nodes[n]?.status !== 'active');
        throw new Error(`daemon did not converge within ${this.options.timeoutMs ?? 60_000} ms (main ${main?.slice(0, 12)}; behind: ${behind.join(', ')})`);
      }
    }
  }
}
