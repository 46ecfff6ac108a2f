/**
 * The controller SIGKILLed while it commits a 1,000-node revision, then started again: the store
 * stays `git fsck`-clean, `main` is at the old revision or the new one (never a commit whose
 * objects are missing), the restarted controller takes over the dead process's lock and commits,
 * and nodes (local transport, one per role) converge on the new revision.
 */
import { spawn, execFile } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateRegistry, syntheticNodes, writeRegistry, PUBLIC_DOMAIN, type GenRegistry } from '../../bench/registry-gen.js';
import { packagePath } from '../../controller/package-root.js';
import { runCourier, CLI_TEST_TIMEOUT } from '../integration/run-courier.js';

const run = promisify(execFile);
const BIN = packagePath('dist', 'courier', 'main.js');

/** Run `courier render` and SIGKILL it once it has written `afterObjects` new files into the store's objects; resolves with how it ended. */
function renderAndKill(configFile: string, objectsDir: string, afterObjects: number): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    let killed = false;
    const child = spawn(process.execPath, [BIN, 'render', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, COURIER_LOG_LEVEL: 'warn' } });
    // every object write (a temp file renamed into a fan-out directory) is an event here
    const watcher = watch(objectsDir, { recursive: true }, () => {
      if (++seen >= afterObjects && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      watcher.close();
      resolve({ killed: signal === 'SIGKILL', code });
    });
  });
}

async function git(store: string, ...args: string[]): Promise<string> {
  return (await run('git', [`--git-dir=${store}`, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
}

describe('the controller SIGKILLed during a commit of a 1,000-node revision', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('leaves an fsck-clean store with main at the old or the new revision; a restart commits and the nodes converge', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'courier-kill-'));
    const registryDir = path.join(dir, 'registry');
    await mkdir(registryDir);
    const nodes = syntheticNodes({ vps: 40, laptops: 480, workers: 480 }).map((n) => ({ ...n, transport: 'local', root: path.join(dir, 'nodes', n.name) }));
    const registry: GenRegistry = generateRegistry(nodes, 300);
    writeRegistry(registryDir, registry);
    const configFile = path.join(dir, 'courier.yaml');
    await writeFile(configFile, `source:\n  type: files\n  path: registry\nstate:\n  dir: state\ntraefik:\n  path: /srv/traefik/routes.yml\n  publicDomain: ${PUBLIC_DOMAIN}\nlog:\n  level: warn\n`);
    const store = path.join(dir, 'state', 'store');

    const first = await runCourier(configFile, ['render']);
    expect(first.code, first.stderr).toBe(0);
    const old = await git(store, 'rev-parse', 'main');

    // a change to every node: a new public service (every VPS) with a new private address (every hosts block)
    registry.services['svc-new'] = { subdomain: 'brand-new', ip: '100.100.99.1', port: 9999, public: true, namespace: 'ns-0' };
    writeRegistry(registryDir, registry, ['services.json']);

    // kill after the first object, after a few, and after many: each run dies somewhere else in the commit
    const observed: string[] = [];
    let killedMidway = 0;
    for (const after of [1, 3, 10, 40]) {
      const outcome = await renderAndKill(configFile, path.join(store, 'objects'), after);
      if (outcome.killed) killedMidway++;
      await git(store, 'fsck', '--strict', '--no-dangling');
      observed.push(await git(store, 'rev-parse', 'main'));
    }
    expect(killedMidway).toBeGreaterThan(0);
    // the first kill landed while objects were being written, before main moved
    expect(observed[0]).toBe(old);

    // started again: takes over the dead render's lock, and commits (unless a killed run already had)
    const again = await runCourier(configFile, ['render', '--json']);
    expect(again.code, again.stderr).toBe(0);
    await git(store, 'fsck', '--strict', '--no-dangling');
    const final = await git(store, 'rev-parse', 'main');
    expect(final).not.toBe(old);
    expect(await git(store, 'rev-parse', 'main~1')).toBe(old);
    const finalTree = await git(store, 'rev-parse', 'main^{tree}');
    // never between: every main seen after a kill is the old revision or one with the new tree on top of it
    for (const main of observed) {
      if (main === old) continue;
      expect(await git(store, 'rev-parse', `${main}^{tree}`)).toBe(finalTree);
      expect(await git(store, 'rev-parse', `${main}~1`)).toBe(old);
    }
    expect((await git(store, 'ls-tree', '--name-only', 'main:nodes')).split('\n')).toHaveLength(1000);

    // nodes converge on the new revision (local transport; one node of each role)
    const push = await runCourier(configFile, ['push', '--node', 'vps-000', '--node', 'laptop-000', '--node', 'worker-479', '--json']);
    expect(push.code, push.stdout + push.stderr).toBe(0);
    const reports = push.json as { node: string; status: string; revision: string }[];
    expect(reports.map((r) => [r.node, r.status, r.revision])).toEqual(
      expect.arrayContaining([
        ['vps-000', 'converged', final],
        ['laptop-000', 'converged', final],
        ['worker-479', 'converged', final],
      ]),
    );
  });
});
