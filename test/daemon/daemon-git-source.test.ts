/**
 * The daemon on a git source served by Debian git's real `git http-backend` on loopback: a commit
 * pushed to the served repository is fetched, rendered, committed with the source commit as its
 * trigger, and pushed only to the nodes whose artifacts changed (local transport nodes).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http-server.js';
import { startDaemonProcess, type DaemonProcess } from './daemon-site.js';

const POLL = { timeout: 30_000, interval: 100 };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=ops', '-c', 'user.email=ops@example.com', ...args], { cwd, encoding: 'utf8' });
}

describe('daemon with a git source', () => {
  let dir: string;
  let work: string;
  let server: GitHttpServer;
  let daemon: DaemonProcess;
  const nodeRoot = (name: string) => path.join(dir, 'nodes', name);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'courier-git-daemon-'));
    const repos = path.join(dir, 'repos');
    mkdirSync(repos);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', path.join(repos, 'registry.git')]);
    work = path.join(dir, 'work');
    execFileSync('git', ['clone', '-q', path.join(repos, 'registry.git'), work]);
    mkdirSync(path.join(work, 'cluster'));
    const node = (name: string, ip: string) => ({ name, ip, ssh_user: 'ops', transport: 'local', root: nodeRoot(name) });
    writeFileSync(path.join(work, 'cluster', 'registry.json'), JSON.stringify({ vps_nodes: [node('edge-1', '127.0.0.2')], management_laptops: [node('laptop-1', '127.0.0.3')] }));
    writeFileSync(path.join(work, 'cluster', 'domains.json'), JSON.stringify({ domains: { 'example.com': {} }, vps_nodes: [{ tailscale_ip: '127.0.0.2', public_ip: '203.0.113.1' }] }));
    writeFileSync(path.join(work, 'cluster', 'services.json'), JSON.stringify({ app: { subdomain: 'app', ip: '100.64.0.1', port: 80, public: true }, wiki: { subdomain: 'wiki', ip: '100.64.0.2', port: 80, public: false } }));
    git(work, 'add', '.');
    git(work, 'commit', '-qm', 'initial registry');
    git(work, 'push', '-q', 'origin', 'main');
    server = await startGitHttpServer(repos);
    const config = path.join(dir, 'courier.yaml');
    writeFileSync(
      config,
      `source:\n  type: git\n  url: ${server.url}/registry.git\n  ref: main\n  path: cluster\n  interval: 200ms\n` +
        `hosts:\n  path: /etc/hosts\ntraefik:\n  path: /srv/traefik.yml\nhttp:\n  listen: 127.0.0.1:0\nreconcile:\n  retries: 0\n`,
    );
    daemon = await startDaemonProcess(config);
  });

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    await server?.stop();
  });

  it('converges the nodes from the served repository', async () => {
    await expect.poll(async () => (await daemon.status()).nodes.map((n) => n.status), POLL).toEqual(['active', 'active']);
    expect(readFileSync(path.join(nodeRoot('laptop-1'), 'etc/hosts'), 'utf8')).toContain('100.64.0.2\twiki.mynodeone.local');
    expect(readFileSync(path.join(nodeRoot('edge-1'), 'srv/traefik.yml'), 'utf8')).toContain('Host(`app.example.com`)');
  });

  it('a pushed commit reaches only the affected node, with the source commit as trigger', async () => {
    const syncs = async (node: string) => Number(new RegExp(`courier_syncs_total\\{node="${node}",mode="push",result="converged"\\} (\\d+)`).exec(await daemon.metrics())?.[1] ?? 0);
    const edgeBefore = await syncs('edge-1');
    const laptopBefore = await syncs('laptop-1');
    writeFileSync(path.join(work, 'cluster', 'services.json'), JSON.stringify({ app: { subdomain: 'app', ip: '100.64.0.1', port: 80, public: true }, wiki: { subdomain: 'wiki', ip: '100.64.0.9', port: 80, public: false } }));
    git(work, 'commit', '-qam', 'move wiki');
    git(work, 'push', '-q', 'origin', 'main');
    const sourceCommit = git(work, 'rev-parse', 'HEAD').trim();

    await expect.poll(() => readFileSync(path.join(nodeRoot('laptop-1'), 'etc/hosts'), 'utf8').includes('100.64.0.9\twiki.mynodeone.local'), POLL).toBe(true);
    await expect.poll(() => syncs('laptop-1'), POLL).toBe(laptopBefore + 1);
    expect(await syncs('edge-1')).toBe(edgeBefore);
    const revisions = (await (await fetch(`${daemon.url}/api/revisions?limit=1`)).json()) as { trigger: string; nodes: string[] }[];
    expect(revisions[0]?.trigger).toContain(`git commit ${sourceCommit.slice(0, 12)}`);
    expect(revisions[0]?.nodes).toEqual(['laptop-1']);
  });
});
