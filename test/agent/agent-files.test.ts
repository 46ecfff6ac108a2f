/**
 * Whole-file artifacts: staged, oid-checked, atomic writes; modes kept; deletes; big files; ~/
 * paths; and write failures that leave the old file intact. Under every supported shell.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHELLS, blobOid, busyboxAppletDir, frames, haves, listTree, makeRoot, mountOrSkip, put, results, runAgent, startAgentLookalikes, unmountAll } from './run-agent.js';

const execFileAsync = promisify(execFile);

describe.each(SHELLS)('courier-agent files under $name', (shell) => {
  let root: string;
  beforeEach(() => {
    root = makeRoot();
  });
  afterEach(() => {
    unmountAll();
    rmSync(root, { recursive: true, force: true });
  });
  const sync = (input: Buffer | string, env?: NodeJS.ProcessEnv) => runAgent(shell, ['sync', '--root', root], input, { env });

  it('a directory another agent creates between the check and mkdir is fine (no mkdir race)', async () => {
    // many "nodes" under one parent (the demo, tests) run their agents at once; stand in for the
    // other agent with a mkdir that creates the directory and then fails as the loser of the race would
    const shim = join(root, 'shim');
    mkdirSync(shim);
    const real = shell.appletsOnly ? '/usr/bin/busybox mkdir' : '/bin/mkdir';
    writeFileSync(join(shim, 'mkdir'), `#!/bin/sh\n${real} "$@"\necho "mkdir: cannot create directory '$1': File exists" >&2\nexit 1\n`, { mode: 0o755 });
    const content = '10.0.0.1\tapp.mycloud.local\n';
    const run = await runAgent(shell, ['sync', '--root', join(root, 'nodes', 'node-1')], frames([['/etc/hosts', 'block', blobOid(content)]], [put('/etc/hosts', 'block', content)]), {
      env: { PATH: `${shim}:${shell.appletsOnly ? busyboxAppletDir() : (process.env.PATH ?? '')}` },
    });
    expect(results(run), run.stderr).toEqual([`ok /etc/hosts ${blobOid(content)}`]);
    expect(readFileSync(join(root, 'nodes', 'node-1', 'etc/hosts'), 'utf8')).toContain(content);
  });

  it('writes a new file with mode 0644, creating missing directories, and reports its oid', async () => {
    const run = await sync(frames([['/srv/traefik/dynamic/courier.yml', 'file', blobOid('http: {}\n')]], [put('/srv/traefik/dynamic/courier.yml', 'file', 'http: {}\n')]));
    expect(results(run)).toEqual([`ok /srv/traefik/dynamic/courier.yml ${blobOid('http: {}\n')}`]);
    const target = join(root, 'srv/traefik/dynamic/courier.yml');
    expect(readFileSync(target, 'utf8')).toBe('http: {}\n');
    expect(statSync(target).mode & 0o7777).toBe(0o644);
    expect(listTree(root)).toEqual(['srv', 'srv/traefik', 'srv/traefik/dynamic', 'srv/traefik/dynamic/courier.yml']);
    expect(run.code).toBe(0);
  });

  it('creates files 0644 and directories 0755 under a login umask of 077 (one mkdir for the missing chain)', async () => {
    const before = process.umask(0o077);
    let run: Awaited<ReturnType<typeof sync>>;
    try {
      run = await sync(frames([], [put('/a/b/c/routes.yml', 'file', 'r\n'), put('/a/b/hosts', 'block', 'h\n')]));
    } finally {
      process.umask(before);
    }
    expect(results(run)).toEqual([`ok /a/b/c/routes.yml ${blobOid('r\n')}`, `ok /a/b/hosts ${blobOid('h\n')}`]);
    expect(statSync(join(root, 'a/b/c/routes.yml')).mode & 0o7777).toBe(0o644);
    expect(statSync(join(root, 'a/b/hosts')).mode & 0o7777).toBe(0o644);
    for (const dir of ['a', 'a/b', 'a/b/c']) expect(statSync(join(root, dir)).mode & 0o7777).toBe(0o755);
  });

  it('replaces a file and keeps its mode (0600 stays 0600)', async () => {
    const target = join(root, 'secret.env');
    writeFileSync(target, 'OLD=1\n');
    chmodSync(target, 0o600);
    const run = await sync(frames([['/secret.env', 'file', blobOid('NEW=2\n')]], [put('/secret.env', 'file', 'NEW=2\n')]));
    expect(haves(run)).toEqual([['/secret.env', 'file', blobOid('OLD=1\n')]]);
    expect(results(run)).toEqual([`ok /secret.env ${blobOid('NEW=2\n')}`]);
    expect(readFileSync(target, 'utf8')).toBe('NEW=2\n');
    expect(statSync(target).mode & 0o7777).toBe(0o600);
    expect(listTree(root)).toEqual(['secret.env']);
  });

  it('keeps the owner and group of a replaced file when run as root', async (ctx) => {
    ctx.skip(process.getuid?.() !== 0, 'only root can give a file another owner');
    const target = join(root, 'owned.conf');
    writeFileSync(target, 'old\n');
    chownSync(target, 4321, 8765);
    const run = await sync(frames([], [put('/owned.conf', 'file', 'new\n')]));
    expect(results(run)).toEqual([`ok /owned.conf ${blobOid('new\n')}`]);
    expect([statSync(target).uid, statSync(target).gid]).toEqual([4321, 8765]);
  });

  it('writes content without a trailing newline, with CRLFs and multibyte UTF-8, byte for byte', async () => {
    const content = Buffer.from('línea 1\r\nzweite Zeile ✓\r\n日本語\tend without newline', 'utf8');
    const run = await sync(frames([], [put('/a/b.txt', 'file', content)]));
    expect(results(run)).toEqual([`ok /a/b.txt ${blobOid(content)}`]);
    expect(readFileSync(join(root, 'a/b.txt')).equals(content)).toBe(true);
  });

  it('writes an empty file', async () => {
    const run = await sync(frames([], [put('/empty', 'file', '')]));
    expect(results(run)).toEqual([`ok /empty ${blobOid('')}`]);
    expect(readFileSync(join(root, 'empty')).length).toBe(0);
  });

  it('reads exactly <size> bytes: content that looks like frames stays content', async () => {
    const tricky = `end\nput /evil file ${blobOid('x')} 1\nx\ndel /a file\n`;
    const run = await sync(frames([], [put('/one', 'file', tricky), put('/two', 'file', 'two'), put('/three', 'file', 'end\n')]));
    expect(results(run)).toEqual([`ok /one ${blobOid(tricky)}`, `ok /two ${blobOid('two')}`, `ok /three ${blobOid('end\n')}`]);
    expect(readFileSync(join(root, 'one'), 'utf8')).toBe(tricky);
    expect(listTree(root)).toEqual(['one', 'three', 'two']);
  });

  it('receives a 5 MB file intact', async () => {
    const line = 'Ünïcödé ✓ 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n';
    let content = Buffer.from(line.repeat(Math.ceil((5 * 1024 * 1024) / Buffer.byteLength(line))));
    content = content.subarray(0, 5 * 1024 * 1024 - 1);
    const run = await sync(frames([['/big.bin', 'file', blobOid(content)]], [put('/big.bin', 'file', content), put('/after', 'file', 'after\n')]));
    expect(results(run)).toEqual([`ok /big.bin ${blobOid(content)}`, `ok /after ${blobOid('after\n')}`]);
    expect(readFileSync(join(root, 'big.bin')).equals(content)).toBe(true);
    expect(run.code).toBe(0);
  });

  it('refuses content whose oid does not match, leaving the target and no temp file', async () => {
    writeFileSync(join(root, 'conf'), 'old\n');
    const run = await sync(frames([], [put('/conf', 'file', 'tampered\n', blobOid('new\n')), put('/fresh/dir/x', 'file', 'x', blobOid('y'))]));
    const [first, second] = results(run);
    expect(first).toMatch(new RegExp(`^fail /conf OID_MISMATCH .*${blobOid('tampered\n')}.*${blobOid('new\n')}`));
    expect(second).toMatch(/^fail \/fresh\/dir\/x OID_MISMATCH /);
    expect(readFileSync(join(root, 'conf'), 'utf8')).toBe('old\n');
    expect(listTree(root)).toEqual(['conf']);
    expect(run.code).toBe(1);
  });

  it('sweeps the staging files of dead agents beside a put: gone, killed but not yet reaped, or a pid now used by another program', async () => {
    const { stdout } = await execFileAsync('sh', ['-c', 'echo $$']);
    const lookalikes = await startAgentLookalikes();
    try {
      // gone; killed but not reaped; a pid now used by a program that is no agent (this test's); running
      const names = { dead: stdout.trim(), zombie: lookalikes.zombie, reused: process.pid, live: lookalikes.live };
      for (const pid of Object.values(names)) writeFileSync(join(root, `.routes.yml.courier-${pid}-1`), 'partial');
      writeFileSync(join(root, '.other.courier-1-1'), 'not beside this target');
      const run = await sync(frames([], [put('/routes.yml', 'file', 'r\n')]));
      expect(results(run), run.stderr).toEqual([`ok /routes.yml ${blobOid('r\n')}`]);
      expect(listTree(root)).toEqual(['.other.courier-1-1', `.routes.yml.courier-${names.live}-1`, 'routes.yml'].sort());
    } finally {
      lookalikes.stop();
    }
  });

  it('deletes a file, and reports ok - for one that is already gone', async () => {
    writeFileSync(join(root, 'gone'), 'bye\n');
    const run = await sync(frames([['/gone', 'file', '-']], [{ del: '/gone', kind: 'file' }, { del: '/never', kind: 'file' }]));
    expect(haves(run)).toEqual([['/gone', 'file', blobOid('bye\n')]]);
    expect(results(run)).toEqual(['ok /gone -', 'ok /never -']);
    expect(listTree(root)).toEqual([]);
  });

  it('expands ~/ to $HOME', async () => {
    const home = join(root, 'home/op');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'present'), 'here\n');
    const env = { HOME: '/home/op', SUDO_USER: '' };
    const run = await sync(frames([['~/present', 'file', '-']], [put('~/.config/courier/hosts', 'file', 'h\n')]), env);
    expect(haves(run)).toEqual([['~/present', 'file', blobOid('here\n')]]);
    expect(results(run)).toEqual([`ok ~/.config/courier/hosts ${blobOid('h\n')}`]);
    expect(readFileSync(join(home, '.config/courier/hosts'), 'utf8')).toBe('h\n');
  });

  it('expands ~/ to the sudo user’s home from /etc/passwd when SUDO_USER is set', async () => {
    // daemon's home in Debian's /etc/passwd is /usr/sbin.
    const run = await sync(frames([], [put('~/marker', 'file', 'm\n')]), { HOME: '/root', SUDO_USER: 'daemon' });
    expect(results(run)).toEqual([`ok ~/marker ${blobOid('m\n')}`]);
    expect(readFileSync(join(root, 'usr/sbin/marker'), 'utf8')).toBe('m\n');
  });

  it('fails with WRITE_FAILED when the directory cannot be created (a parent is a file), and applies the rest', async () => {
    writeFileSync(join(root, 'blocker'), 'i am a file\n');
    const run = await sync(frames([], [put('/blocker/sub/x.yml', 'file', 'x\n'), put('/fine', 'file', 'f\n')]));
    const [first, second] = results(run);
    expect(first).toMatch(/^fail \/blocker\/sub\/x\.yml WRITE_FAILED \S/);
    expect(second).toBe(`ok /fine ${blobOid('f\n')}`);
    expect(readFileSync(join(root, 'blocker'), 'utf8')).toBe('i am a file\n');
    expect(run.lines.at(-1)).toBe('done 1 1');
    expect(run.code).toBe(1);
  });

  it('fails with WRITE_FAILED when the target is a directory', async () => {
    mkdirSync(join(root, 'conf.d'));
    const run = await sync(frames([], [put('/conf.d', 'file', 'x\n')]));
    expect(results(run)[0]).toMatch(/^fail \/conf\.d WRITE_FAILED /);
    expect(listTree(root)).toEqual(['conf.d']);
  });

  it('fails with WRITE_FAILED on a full disk and leaves the old file intact', async (ctx) => {
    const disk = join(root, 'disk');
    mkdirSync(disk);
    mountOrSkip(ctx, ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs'], disk);
    writeFileSync(join(disk, 'routes.yml'), 'old: true\n');
    const big = Buffer.alloc(300_000, 'r');
    const run = await sync(frames([], [put('/disk/routes.yml', 'file', big), put('/disk/small', 'file', 's\n')]));
    const [first, second] = results(run);
    expect(first).toMatch(/^fail \/disk\/routes\.yml WRITE_FAILED cannot write 300000 bytes into \S+: \S/);
    expect(second).toBe(`ok /disk/small ${blobOid('s\n')}`);
    expect(readFileSync(join(disk, 'routes.yml'), 'utf8')).toBe('old: true\n');
    expect(listTree(disk)).toEqual(['routes.yml', 'small']);
    expect(run.code).toBe(1);
  });

  it('writes in place when the target is bind-mounted and cannot be renamed over (EBUSY)', async (ctx) => {
    const outside = join(root, 'outside-hosts');
    const target = join(root, 'etc/hosts');
    mkdirSync(join(root, 'etc'));
    writeFileSync(outside, '127.0.0.1 localhost\n');
    writeFileSync(target, '');
    mountOrSkip(ctx, ['--bind', outside], target);
    const run = await sync(frames([], [put('/etc/hosts', 'file', '127.0.0.1 localhost\n10.0.0.1 a\n')]));
    expect(results(run)).toEqual([`ok /etc/hosts ${blobOid('127.0.0.1 localhost\n10.0.0.1 a\n')}`]);
    expect(readFileSync(outside, 'utf8')).toBe('127.0.0.1 localhost\n10.0.0.1 a\n');
    expect(listTree(join(root, 'etc'))).toEqual(['hosts']);
  });
});
