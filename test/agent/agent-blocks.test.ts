/**
 * Managed blocks (`# BEGIN courier` … `# END courier` inside /etc/hosts): every byte outside the
 * block is preserved; marker edge cases; MyNodeOne's legacy section. Under every supported shell.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHELLS, blobOid, frames, haves, listTree, makeRoot, mountOrSkip, put, results, runAgent, unmountAll } from './run-agent.js';

const BODY = '10.0.0.5\timmich.mycloud.local\n10.0.0.6\tgrafana.mycloud.local\n';
const NEW_BODY = '10.0.0.7\tvault.mycloud.local\n';
const BEGIN = '# BEGIN courier\n';
const END = '# END courier\n';
const BEFORE = '127.0.0.1\tlocalhost\n127.0.1.1\tnode1 # keep   spacing\n\n';
const AFTER = '\n# The following lines are desirable for IPv6 capable hosts\n::1     ip6-localhost ip6-loopback\n';

describe.each(SHELLS)('courier-agent blocks under $name', (shell) => {
  let root: string;
  let hosts: string;
  beforeEach(() => {
    root = makeRoot();
    mkdirSync(join(root, 'etc'));
    hosts = join(root, 'etc/hosts');
  });
  afterEach(() => {
    unmountAll();
    rmSync(root, { recursive: true, force: true });
  });
  const sync = (input: Buffer | string, extra: string[] = []) => runAgent(shell, ['sync', '--root', root, ...extra], input);
  const putBlock = (body: string, extra: string[] = []) => sync(frames([['/etc/hosts', 'block', blobOid(body)]], [put('/etc/hosts', 'block', body)]), extra);
  const haveBlock = async () => haves(await sync(frames([['/etc/hosts', 'block', '-']])))[0]![2];

  it('replaces the block body in a hosts file and keeps every byte before and after it', async () => {
    writeFileSync(hosts, BEFORE + BEGIN + BODY + END + AFTER);
    chmodSync(hosts, 0o640);
    const run = await putBlock(NEW_BODY);
    expect(haves(run)).toEqual([['/etc/hosts', 'block', blobOid(BODY)]]);
    expect(results(run)).toEqual([`ok /etc/hosts ${blobOid(NEW_BODY)}`]);
    expect(readFileSync(hosts, 'utf8')).toBe(BEFORE + BEGIN + NEW_BODY + END + AFTER);
    expect(statSync(hosts).mode & 0o7777).toBe(0o640);
    expect(listTree(root)).toEqual(['etc', 'etc/hosts']);
  });

  it.each([
    ['first in the file', '', AFTER],
    ['last in the file', BEFORE, ''],
    ['in the middle', BEFORE, AFTER],
    ['the whole file', '', ''],
  ])('replaces a block that is %s', async (_where, before, after) => {
    writeFileSync(hosts, before + BEGIN + BODY + END + after);
    expect(await haveBlock()).toBe(blobOid(BODY));
    await putBlock(NEW_BODY);
    expect(readFileSync(hosts, 'utf8')).toBe(before + BEGIN + NEW_BODY + END + after);
    expect(await haveBlock()).toBe(blobOid(NEW_BODY));
  });

  it('appends the block to a file that has none', async () => {
    writeFileSync(hosts, BEFORE);
    expect(await haveBlock()).toBe('-');
    const run = await putBlock(BODY);
    expect(results(run)).toEqual([`ok /etc/hosts ${blobOid(BODY)}`]);
    expect(readFileSync(hosts, 'utf8')).toBe(BEFORE + BEGIN + BODY + END);
  });

  it('appends after a newline when the file does not end with one', async () => {
    writeFileSync(hosts, '127.0.0.1 localhost');
    await putBlock(BODY);
    expect(readFileSync(hosts, 'utf8')).toBe('127.0.0.1 localhost\n' + BEGIN + BODY + END);
  });

  it('keeps a file without trailing newline after the END marker that way', async () => {
    writeFileSync(hosts, BEFORE + BEGIN + BODY + '# END courier\n::1 localhost');
    await putBlock(NEW_BODY);
    expect(readFileSync(hosts, 'utf8')).toBe(BEFORE + BEGIN + NEW_BODY + '# END courier\n::1 localhost');
    writeFileSync(hosts, BEFORE + BEGIN + BODY + '# END courier');
    expect(await haveBlock()).toBe(blobOid(BODY));
    await putBlock(NEW_BODY);
    expect(readFileSync(hosts, 'utf8')).toBe(BEFORE + BEGIN + NEW_BODY + '# END courier');
  });

  it('creates a missing file holding just the block, mode 0644', async () => {
    const run = await putBlock(BODY);
    expect(haves(run)).toEqual([['/etc/hosts', 'block', '-']]);
    expect(readFileSync(hosts, 'utf8')).toBe(BEGIN + BODY + END);
    expect(statSync(hosts).mode & 0o7777).toBe(0o644);
  });

  it('handles an empty body: reported as the empty blob, distinct from an absent block', async () => {
    writeFileSync(hosts, BEFORE + BEGIN + END + AFTER);
    expect(await haveBlock()).toBe(blobOid(''));
    await putBlock(BODY);
    expect(readFileSync(hosts, 'utf8')).toBe(BEFORE + BEGIN + BODY + END + AFTER);
    const run = await putBlock('');
    expect(results(run)).toEqual([`ok /etc/hosts ${blobOid('')}`]);
    expect(readFileSync(hosts, 'utf8')).toBe(BEFORE + BEGIN + END + AFTER);
  });

  it('recognizes CRLF markers and keeps the CRLFs outside the block byte for byte', async () => {
    const crlfBody = '10.0.0.5 a.local\r\n';
    const before = '127.0.0.1 localhost\r\n\r\n';
    const after = '::1 ip6-localhost\r\n';
    writeFileSync(hosts, `${before}# BEGIN courier\r\n${crlfBody}# END courier\r\n${after}`);
    expect(await haveBlock()).toBe(blobOid(crlfBody));
    await putBlock(NEW_BODY);
    expect(readFileSync(hosts, 'utf8')).toBe(`${before}# BEGIN courier\r\n${NEW_BODY}# END courier\r\n${after}`);
    expect(await haveBlock()).toBe(blobOid(NEW_BODY));
  });

  it.each([
    ['duplicated markers', BEFORE + BEGIN + BODY + END + BEGIN + BODY + END],
    ['a BEGIN without END', BEFORE + BEGIN + BODY + AFTER],
    ['an END without BEGIN', BEFORE + BODY + END + AFTER],
    ['END before BEGIN', BEFORE + END + BODY + BEGIN + AFTER],
    ['two BEGIN markers and one END', BEGIN + BEGIN + BODY + END],
  ])('reports - for a file with %s, and refuses to put or del its block without touching it', async (_what, content) => {
    writeFileSync(hosts, content);
    expect(await haveBlock()).toBe('-');
    const run = await sync(frames([], [put('/etc/hosts', 'block', NEW_BODY), { del: '/etc/hosts', kind: 'block' }]));
    const [putResult, delResult] = results(run);
    expect(putResult).toMatch(/^fail \/etc\/hosts BLOCK_MARKERS \S/);
    expect(delResult).toMatch(/^fail \/etc\/hosts BLOCK_MARKERS \S/);
    expect(run.code).toBe(1);
    expect(readFileSync(hosts, 'utf8')).toBe(content);
    expect(listTree(root)).toEqual(['etc', 'etc/hosts']);
  });

  it('refuses a body without a final newline or with a marker line in it (BLOCK_BODY)', async () => {
    writeFileSync(hosts, BEFORE);
    const run = await sync(frames([], [put('/etc/hosts', 'block', '10.0.0.1 a'), put('/etc/hosts', 'block', `a\n${END}b\n`)]));
    expect(results(run)[0]).toMatch(/^fail \/etc\/hosts BLOCK_BODY /);
    expect(results(run)[1]).toMatch(/^fail \/etc\/hosts BLOCK_BODY /);
    expect(readFileSync(hosts, 'utf8')).toBe(BEFORE);
  });

  it.each([
    ['in the middle', BEFORE, AFTER],
    ['first', '', AFTER],
    ['last', BEFORE, ''],
  ])('deletes a block %s with its markers and keeps the rest', async (_where, before, after) => {
    writeFileSync(hosts, before + BEGIN + BODY + END + after);
    const run = await sync(frames([['/etc/hosts', 'block', '-']], [{ del: '/etc/hosts', kind: 'block' }]));
    expect(results(run)).toEqual(['ok /etc/hosts -']);
    expect(readFileSync(hosts, 'utf8')).toBe(before + after);
  });

  it('reports ok - when deleting a block that is absent, or from a file that is absent', async () => {
    writeFileSync(hosts, BEFORE);
    const run = await sync(frames([], [{ del: '/etc/hosts', kind: 'block' }, { del: '/etc/other', kind: 'block' }]));
    expect(results(run)).toEqual(['ok /etc/hosts -', 'ok /etc/other -']);
    expect(readFileSync(hosts, 'utf8')).toBe(BEFORE);
  });

  it('fails with WRITE_FAILED when the rebuilt hosts file does not fit on the disk, leaving the old one', async (ctx) => {
    const disk = join(root, 'disk');
    mkdirSync(disk);
    mountOrSkip(ctx, ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs'], disk);
    const old = BEFORE + '#'.repeat(40_000) + '\n' + BEGIN + BODY + END + AFTER;
    writeFileSync(join(disk, 'hosts'), old);
    const run = await sync(frames([], [put('/disk/hosts', 'block', NEW_BODY)]));
    expect(results(run)[0]).toMatch(/^fail \/disk\/hosts WRITE_FAILED \S/);
    expect(run.code).toBe(1);
    expect(readFileSync(join(disk, 'hosts'), 'utf8')).toBe(old);
    expect(listTree(disk)).toEqual(['hosts']);
  });

  describe('--remove-legacy', () => {
    const legacy = '\n# MyNodeOne Services - Auto-synced on Mon Jan  1 00:00:00 UTC 2024\n100.64.0.1\timmich.mycloud.local\n100.64.0.1\tmycloud.local\n\n';
    const withLegacy = BEFORE + legacy + '10.1.1.1 keep.me\n';

    it('removes MyNodeOne’s section exactly as its sed did, when writing the first block', async () => {
      writeFileSync(hosts, withLegacy);
      const bySed = join(root, 'by-sed');
      copyFileSync(hosts, bySed);
      execFileSync('sed', ['-i', '/# MyNodeOne Services/,/^$/d', bySed]);
      const expected = readFileSync(bySed, 'utf8');
      rmSync(bySed);
      expect(expected).not.toContain('MyNodeOne');
      const run = await putBlock(BODY, ['--remove-legacy']);
      expect(results(run)).toEqual([`ok /etc/hosts ${blobOid(BODY)}`]);
      expect(readFileSync(hosts, 'utf8')).toBe(expected + BEGIN + BODY + END);
    });

    it('removes a legacy section that runs to the end of a file without final newline', async () => {
      writeFileSync(hosts, '127.0.0.1 localhost\n# MyNodeOne Services - x\n100.64.0.1 a.local');
      await putBlock(BODY, ['--remove-legacy']);
      expect(readFileSync(hosts, 'utf8')).toBe('127.0.0.1 localhost\n' + BEGIN + BODY + END);
    });

    it('keeps the legacy section without the flag', async () => {
      writeFileSync(hosts, withLegacy);
      await putBlock(BODY);
      expect(readFileSync(hosts, 'utf8')).toBe(withLegacy + BEGIN + BODY + END);
    });

    it('leaves the file alone outside the block once a courier block exists', async () => {
      writeFileSync(hosts, withLegacy + BEGIN + BODY + END);
      await putBlock(NEW_BODY, ['--remove-legacy']);
      expect(readFileSync(hosts, 'utf8')).toBe(withLegacy + BEGIN + NEW_BODY + END);
    });
  });

  it('keeps the bytes outside the block identical over 100 consecutive block writes', { timeout: 120_000 }, async () => {
    const before = '127.0.0.1 localhost\r\n# ünïcode comment ✓\n\t\n';
    const after = '\n::1 ip6-localhost\n# no newline at the end';
    writeFileSync(hosts, before + BEGIN + END + after);
    for (let i = 0; i < 100; i++) {
      const body = Array.from({ length: i % 7 }, (_, j) => `10.0.${i}.${j}\tsvc${j}.mycloud.local\n`).join('');
      const run = await putBlock(body);
      expect(run.code).toBe(0);
      expect(readFileSync(hosts, 'utf8')).toBe(before + BEGIN + body + END + after);
    }
    expect(listTree(root)).toEqual(['etc', 'etc/hosts']);
  });
});
