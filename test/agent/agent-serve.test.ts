/**
 * `courier-agent serve`: many rounds on one session, each exactly the exchange of `sync`, under
 * every supported shell. Nothing is left behind between rounds; `bye` or the end of the stream
 * ends the session; a protocol error ends it with nothing of that round written; an artifact
 * failure only fails its round.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_SCRIPT, SHELLS, blobOid, busyboxAppletDir, frames, listTree, makeRoot, put, shellEnv, startAgent, startAgentLookalikes, type Shell } from './run-agent.js';

const execFileAsync = promisify(execFile);

/** A serve session driven round by round: `round(input)` resolves with that round's lines. */
function serveSession(shell: Shell, root: string) {
  const agent = startAgent(shell, ['serve', '--root', root]);
  let seen = 0;
  const newLines = () => agent.stdout().slice(seen).split('\n').filter(Boolean);
  return {
    agent,
    async round(input: Buffer | string): Promise<string[]> {
      agent.child.stdin.write(input);
      // a round ends with its `done` line (or the session ends)
      let exited = false;
      void agent.done.then(() => (exited = true));
      await waitFor(() => exited || /(^|\n)done \d+ \d+\n$/.test(agent.stdout().slice(seen)) || /(^|\n)error [^\n]*\n$/.test(agent.stdout().slice(seen)));
      const lines = newLines();
      seen = agent.stdout().length;
      return lines;
    },
  };
}

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe.each(SHELLS)('courier-agent serve under $name', (shell) => {
  let root: string;
  beforeEach(() => {
    root = makeRoot();
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('runs many rounds on one session, leaving nothing behind between them, and exits 0 on bye', async () => {
    const session = serveSession(shell, root);
    const target = '/srv/routes.yml';
    let previous = '-';
    for (let i = 0; i < 25; i++) {
      const content = `http: {} # ${i}\n`;
      const lines = await session.round(frames([[target, 'file', blobOid(content)]], previous === blobOid(content) ? [] : [put(target, 'file', content)]));
      expect(lines[0]).toBe(`courier 1 1.1.1 - ${hostname()}`);
      expect(lines[1]).toBe(`have ${target} file ${previous}`);
      expect(lines.slice(-2)).toEqual([`ok ${target} ${blobOid(content)}`, 'done 1 0']);
      // only the target itself: no temp file, no staging leftovers
      expect(listTree(root)).toEqual(['srv', 'srv/routes.yml']);
      previous = blobOid(content);
    }
    // a round with nothing to change reports the haves and done 0 0
    expect((await session.round(frames([[target, 'file', previous]]))).slice(1)).toEqual([`have ${target} file ${previous}`, '?', 'done 0 0']);
    session.agent.child.stdin.write('bye\n');
    const run = await session.agent.done;
    expect(run.code).toBe(0);
  });

  it('at start removes the serve caches of dead agents (gone, a zombie, or its own pid reused), and keeps a running agent\'s', async () => {
    const tmp = makeRoot();
    const lookalikes = await startAgentLookalikes();
    try {
      const { stdout } = await execFileAsync('sh', ['-c', 'echo $$']);
      const cache = (pid: number | string) => join(tmp, `.courier-agent-${pid}`);
      for (const pid of [stdout.trim(), lookalikes.zombie, lookalikes.live, 'x']) {
        mkdirSync(cache(pid), { mode: 0o700 });
        writeFileSync(join(cache(pid), '1'), '');
      }
      // its own pid: a dir made under the pid the agent then runs as (exec keeps it)
      const script = `mkdir -m 700 "$TMPDIR/.courier-agent-$$" && : >"$TMPDIR/.courier-agent-$$/stale" && exec ${[shell.command, ...shell.args].join(' ')} -c "$0" courier-agent serve --root "$1"`;
      const agent = spawn('/bin/sh', ['-c', script, AGENT_SCRIPT, root], { env: shellEnv(shell, { TMPDIR: tmp }), stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      agent.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      agent.stdin.write('courier 1\n?\nend\n');
      await waitFor(() => /(^|\n)done 0 0\n$/.test(out));
      expect(readdirSync(tmp).sort()).toEqual([`.courier-agent-${lookalikes.live}`, '.courier-agent-x', ...(shell.appletsOnly ? [] : [`.courier-agent-${agent.pid}`])].sort());
      if (!shell.appletsOnly) expect(readdirSync(cache(agent.pid!))).toEqual([]);
      agent.stdin.end();
      await new Promise((r) => agent.once('close', r));
    } finally {
      lookalikes.stop();
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it(`probes -nt at start${shell.appletsOnly ? ': no cache even when the probe\'s first step crosses a whole second' : ' and keeps its cache when a probe step crosses a second'}`, async () => {
    // a sleep whose first call returns only after the wall clock's second has changed: the worst
    // case for a -nt that sees whole seconds (busybox's), which then passes that step
    const dir = makeRoot();
    try {
      writeFileSync(
        join(dir, 'sleep'),
        `#!/bin/sh\nif [ ! -e "${dir}/crossed" ]; then : >"${dir}/crossed"; s=$(date +%s); while [ "$(date +%s)" = "$s" ]; do :; done; exit 0; fi\nexec /usr/bin/busybox sleep "$@"\n`,
        { mode: 0o755 },
      );
      const tmp = join(dir, 'tmp');
      mkdirSync(tmp);
      const agent = startAgent(shell, ['serve', '--root', root], { env: { TMPDIR: tmp, PATH: `${dir}:${shell.appletsOnly ? busyboxAppletDir() : (process.env.PATH ?? '')}` } });
      agent.child.stdin.write('courier 1\n?\nend\n');
      await waitFor(() => /(^|\n)done 0 0\n$/.test(agent.stdout()));
      expect(existsSync(join(dir, 'crossed'))).toBe(true);
      expect(readdirSync(tmp)).toEqual(shell.appletsOnly ? [] : [`.courier-agent-${agent.child.pid}`]);
      agent.child.stdin.end();
      await agent.done;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('echoes each round\'s nonce and exits 0 when the stream ends between rounds', async () => {
    const session = serveSession(shell, root);
    expect((await session.round('courier 1 aa11\n?\nend\n'))[0]).toBe(`courier 1 1.1.1 aa11 ${hostname()}`);
    expect((await session.round('courier 1 bb22\n?\nend\n'))[0]).toBe(`courier 1 1.1.1 bb22 ${hostname()}`);
    session.agent.child.stdin.end();
    expect((await session.agent.done).code).toBe(0);
  });

  it('an artifact failure fails only its round; the next round on the same session succeeds', async () => {
    const session = serveSession(shell, root);
    mkdirSync(join(root, 'ro'));
    chmodSync(join(root, 'ro'), 0o555);
    const content = 'a\n';
    const failing = await session.round(frames([['/ro/sub/file', 'file', blobOid(content)]], [put('/ro/sub/file', 'file', content)]));
    // root ignores directory permissions: then the put succeeds, which is also a valid round
    expect(failing.at(-1)).toMatch(process.getuid?.() === 0 ? /^done [01] [01]$/ : /^done 0 1$/);
    const ok = await session.round(frames([['/srv/ok', 'file', blobOid(content)]], [put('/srv/ok', 'file', content)]));
    expect(ok.slice(-2)).toEqual([`ok /srv/ok ${blobOid(content)}`, 'done 1 0']);
    session.agent.child.stdin.end('bye\n');
    expect((await session.agent.done).code).toBe(0);
  });

  it('a protocol error ends the session with exit 2 and writes nothing of that round', async () => {
    const session = serveSession(shell, root);
    const content = 'first\n';
    await session.round(frames([['/srv/a', 'file', blobOid(content)]], [put('/srv/a', 'file', content)]));
    // round 2 stages a valid put, then sends garbage before `end`
    const second = 'second\n';
    const bad = Buffer.concat([frames([['/srv/a', 'file', blobOid(second)]], [put('/srv/a', 'file', second)], false), Buffer.from('bogus frame\n')]);
    const lines = await session.round(bad);
    expect(lines.at(-1)).toMatch(/^error AGENT_PROTOCOL /);
    expect((await session.agent.done).code).toBe(2);
    expect(readFileSync(join(root, 'srv/a'), 'utf8')).toBe(content);
    expect(listTree(root)).toEqual(['srv', 'srv/a']);
  });

  it(`answers a 'cached' round from what it wrote or hashed, as long as the target's mtime is not newer${shell.appletsOnly ? ' (busybox: no cache, its -nt sees whole seconds only)' : ''}`, async () => {
    const session = serveSession(shell, root);
    const content = 'managed\n';
    const file = join(root, 'srv/f');
    await session.round(frames([['/srv/f', 'file', blobOid(content)]], [put('/srv/f', 'file', content)]));
    // same size, other bytes, and the mtime set back: only the cache can still say `content`
    writeFileSync(file, 'MANAGED\n');
    utimesSync(file, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const cachedRound = Buffer.from(`courier 1 c1 cached\nwant /srv/f file ${blobOid(content)}\n?\nend\n`);
    const cached = await session.round(cachedRound);
    expect(cached[1]).toBe(`have /srv/f file ${blobOid(shell.appletsOnly ? 'MANAGED\n' : content)}`);
    // a round without `cached` (drift checks, reconciles) always hashes what is on disk
    const hashed = await session.round(frames([['/srv/f', 'file', blobOid(content)]]));
    expect(hashed[1]).toBe(`have /srv/f file ${blobOid('MANAGED\n')}`);
    // a modification after the agent's marker (a later clock tick: the file system's timestamps are
    // coarser than this test is fast) is seen even in a cached round
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(file, 'edited by hand\n');
    expect((await session.round(cachedRound))[1]).toBe(`have /srv/f file ${blobOid('edited by hand\n')}`);
    session.agent.child.stdin.end('bye\n');
    expect((await session.agent.done).code).toBe(0);
  });

  it('keeps a hand edit between rounds visible: the next round reports what is on disk', async () => {
    const session = serveSession(shell, root);
    const content = 'managed\n';
    await session.round(frames([['/srv/f', 'file', blobOid(content)]], [put('/srv/f', 'file', content)]));
    writeFileSync(join(root, 'srv/f'), 'edited by hand\n');
    const lines = await session.round(frames([['/srv/f', 'file', blobOid(content)]]));
    expect(lines[1]).toBe(`have /srv/f file ${blobOid('edited by hand\n')}`);
    session.agent.child.stdin.end('bye\n');
    expect((await session.agent.done).code).toBe(0);
    expect(existsSync(join(root, 'srv/f'))).toBe(true);
  });
});
