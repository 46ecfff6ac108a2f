/**
 * `courier-agent probe` under every shell: version, hasher and tools, and per target whether a sync
 * could replace it, while writing nothing (no file, no directory, no temp file) and reading no stdin.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAgent, SHELLS } from './run-agent.js';

/** Every entry under `dir`, recursively (relative paths, sorted). */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe.each(SHELLS)('courier-agent probe under $name', (shell) => {
  it('reports version, hasher, tools and per-target writability without writing anything', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'courier-probe-'));
    mkdirSync(path.join(root, 'etc'));
    writeFileSync(path.join(root, 'etc', 'hosts'), '127.0.0.1 localhost\n');
    mkdirSync(path.join(root, 'srv'));
    writeFileSync(path.join(root, 'srv', 'blocked'), 'a file where a directory should be\n');
    symlinkSync('/etc/passwd', path.join(root, 'etc', 'link'));
    mkdirSync(path.join(root, 'etc', 'dir.yml'));
    const before = tree(root);

    const run = await runAgent(shell, ['probe', '--root', root, '/etc/hosts', '/opt/new/deep/routes.yml', '/srv/blocked/routes.yml', '/etc/link', '/etc/dir.yml'], '');
    expect(run.lines[0]).toMatch(/^courier-agent \d+\.\d+\.\d+$/);
    expect(run.lines[1]).toMatch(/^hasher (sha1sum|shasum|openssl)$/);
    expect(run.lines[2]).toBe('tools ok');
    expect(run.lines.slice(3)).toEqual([
      'target /etc/hosts ok exists',
      'target /opt/new/deep/routes.yml ok absent',
      `target /srv/blocked/routes.yml fail ${root}/srv/blocked is not a directory`,
      `target /etc/link fail ${root}/etc/link is a symbolic link; courier replaces regular files only`,
      `target /etc/dir.yml fail ${root}/etc/dir.yml exists and is not a regular file`,
    ]);
    expect(run.code).toBe(1);
    expect(tree(root)).toEqual(before);
  });

  it('exits 0 when every target is writable, and 2 with an error line for a bad path', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'courier-probe-'));
    const ok = await runAgent(shell, ['probe', '--root', root, '/etc/hosts'], '');
    expect(ok.code).toBe(0);
    expect(ok.lines.at(-1)).toBe('target /etc/hosts ok absent');
    const bad = await runAgent(shell, ['probe', '--root', root, '/etc/../shadow'], '');
    expect(bad.code).toBe(2);
    expect(bad.lines.at(-1)).toMatch(/^error AGENT_PROTOCOL path \/etc\/\.\.\/shadow has a '\.\.' component$/);
    expect(tree(root)).toEqual([]);
  });
});

describe('courier-agent probe as a user without write access', () => {
  // dash only: the busybox run puts a root-only applet directory on PATH, which nobody cannot read
  const shell = SHELLS[0]!;
  it('reports a directory it cannot write in (a read-only directory, as the user nobody)', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'courier-probe-'));
    chmodSync(root, 0o755);
    mkdirSync(path.join(root, 'etc'), { mode: 0o755 });
    // root may write anywhere: run the agent as nobody, whose only obstacle is the mode
    const run = await runAgent(shell, ['probe', '--root', root, '/etc/hosts'], '', { uid: 65534, gid: 65534 });
    expect(run.lines.at(-1)).toBe(`target /etc/hosts fail cannot create files in ${root}/etc (permissions or a read-only file system)`);
    expect(run.code).toBe(1);
  });
});
