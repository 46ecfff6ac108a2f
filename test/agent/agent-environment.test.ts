/**
 * The agent as a portable script: shellcheck-clean POSIX sh, runnable as an installed file, oids
 * equal to `git hash-object` with any of the hashers it accepts, and clean after a lost connection.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import { AGENT_PATH, SHELLS, blobOid, frames, haves, listTree, makeRoot, put, results, runAgent, startAgent } from './run-agent.js';

/** A PATH directory with every command of /usr/bin except `omit` (to choose the agent's hasher). */
function pathWithout(omit: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'courier-path-'));
  for (const name of readdirSync('/usr/bin')) {
    if (!omit.includes(name)) symlinkSync(join('/usr/bin', name), join(dir, name));
  }
  return dir;
}

describe('courier-agent as a script', () => {
  it('passes shellcheck -s sh', () => {
    const out = execFileSync('shellcheck', ['-s', 'sh', AGENT_PATH], { encoding: 'utf8' });
    expect(out).toBe('');
  });

  it('runs as an installed executable file (shebang) and prints its version', () => {
    expect(execFileSync(AGENT_PATH, ['--version'], { encoding: 'utf8' })).toBe('courier-agent 1.1.1\n');
  });

  it('computes the same oid as git hash-object', async () => {
    const root = makeRoot();
    try {
      const content = 'binary-ish ✓ \r\n\u0001\u007f no final newline';
      writeFileSync(join(root, 'f'), content);
      const gitOid = execFileSync('git', ['hash-object', join(root, 'f')], { encoding: 'utf8' }).trim();
      expect(blobOid(content)).toBe(gitOid);
      const run = await runAgent(SHELLS[0]!, ['sync', '--root', root], frames([['/f', 'file', '-']]));
      expect(haves(run)).toEqual([['/f', 'file', gitOid]]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  describe.each([
    ['shasum', ['sha1sum']],
    ['openssl', ['sha1sum', 'shasum']],
  ])('without sha1sum it hashes with %s', (_hasher, omit) => {
    let root: string;
    let path: string;
    beforeEach(() => {
      root = makeRoot();
      path = pathWithout(omit);
    });
    afterEach(() => {
      rmSync(root, { recursive: true, force: true });
      rmSync(path, { recursive: true, force: true });
    });

    it.each(SHELLS.filter((s) => !s.appletsOnly))('and reports correct oids under $name', async (shell) => {
      writeFileSync(join(root, 'hosts'), `a\n# BEGIN courier\nb\n# END courier\n`);
      const run = await runAgent(shell, ['sync', '--root', root], frames([['/hosts', 'block', '-']], [put('/x', 'file', 'x\n')]), { env: { PATH: path } });
      expect(haves(run)).toEqual([['/hosts', 'block', blobOid('b\n')]]);
      expect(results(run)).toEqual([`ok /x ${blobOid('x\n')}`]);
    });
  });

  it('refuses to start without any hasher (error line, exit 2)', async () => {
    const path = pathWithout(['sha1sum', 'shasum', 'openssl']);
    try {
      const run = await runAgent(SHELLS[0]!, ['sync'], frames([]), { env: { PATH: path } });
      expect(run.lines).toEqual(['error AGENT_TOOLS need one of sha1sum, shasum, openssl to compute oids']);
      expect(run.code).toBe(2);
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
  });
});

describe.each(SHELLS)('courier-agent connection loss under $name', (shell) => {
  let root: string;
  beforeEach(() => {
    root = makeRoot();
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('removes its temp files and writes nothing when the connection drops mid-put (SIGHUP and EOF)', async (ctx: TestContext) => {
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/hosts'), 'old\n');
    const agent = startAgent(shell, ['sync', '--root', root]);
    const content = Buffer.alloc(100_000, 'n');
    const whole = frames([], [put('/etc/new.conf', 'file', 'staged first\n'), put('/etc/hosts', 'file', content)], false);
    agent.child.stdin.write(whole.subarray(0, whole.length - 30_000));
    // Wait until the second put is being received: its temp file exists beside the target.
    await waitFor(() => readdirSync(join(root, 'etc')).filter((n) => n.startsWith('.hosts.courier-')).length > 0);
    agent.child.kill('SIGHUP');
    agent.child.stdin.end();
    const run = await agent.done;
    await ctx.annotate(`exit ${run.code}, stderr: ${run.stderr.trim()}`);
    expect(run.code).toBe(2);
    expect(readFileSync(join(root, 'etc/hosts'), 'utf8')).toBe('old\n');
    expect(existsSync(join(root, 'etc/new.conf'))).toBe(false);
    expect(listTree(root)).toEqual(['etc', 'etc/hosts']);
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error('condition not reached within 30 s');
}
