/**
 * The node agent's side of the sync protocol: greeting, haves, framing, protocol errors, read-only
 * mode and exit statuses, under every supported shell.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHELLS, blobOid, frames, haves, listTree, makeRoot, put, results, runAgent, startAgent } from './run-agent.js';

const HOSTS = '127.0.0.1 localhost\n# BEGIN courier\n10.0.0.5 immich.mycloud.local\n# END courier\n::1 ip6-localhost\n';
const BODY = '10.0.0.5 immich.mycloud.local\n';

describe.each(SHELLS)('courier-agent protocol under $name', (shell) => {
  let root: string;
  beforeEach(() => {
    root = makeRoot();
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const sync = (input: Buffer | string, extra: string[] = []) => runAgent(shell, ['sync', '--root', root, ...extra], input);

  it('prints its version and exits 0', async () => {
    const run = await runAgent(shell, ['--version'], '');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('courier-agent 1.1.1\n');
  });

  it('greets with protocol 1, its version and the hostname, and ends an empty exchange with done 0 0', async () => {
    const run = await sync(frames([]));
    expect(run.lines).toEqual([`courier 1 1.1.1 - ${hostname()}`, '?', 'done 0 0']);
    expect(run.code).toBe(0);
  });

  it('answers the greeting before the wants arrive, and the haves once ? arrives', async () => {
    const agent = startAgent(shell, ['sync', '--root', root]);
    agent.child.stdin.write('courier 1 5eed\n');
    await waitFor(() => agent.stdout().includes('\n'));
    expect(agent.stdout()).toBe(`courier 1 1.1.1 5eed ${hostname()}\n`);
    agent.child.stdin.write('want /etc/hosts block -\n');
    agent.child.stdin.write('?\n');
    await waitFor(() => agent.stdout().endsWith('?\n'));
    expect(agent.stdout().split('\n')[1]).toBe('have /etc/hosts block -');
    agent.child.stdin.end('end\n');
    const run = await agent.done;
    expect(run.code).toBe(0);
  });

  it('echoes the nonce of the greeting, and refuses one that is not alphanumeric', async () => {
    const run = await sync('courier 1 0123abcdef\n?\nend\n');
    expect(run.lines[0]).toBe(`courier 1 1.1.1 0123abcdef ${hostname()}`);
    const bad = await sync('courier 1 a/b\n?\nend\n');
    expect(bad.lines).toEqual(['error AGENT_PROTOCOL the greeting\'s nonce is not alphanumeric']);
    expect(bad.code).toBe(2);
  });

  it('refuses another protocol version with an error line and exit 2', async () => {
    const run = await sync('courier 2\nwant /etc/hosts file -\n?\nend\n');
    expect(run.lines).toEqual(['error AGENT_PROTOCOL unsupported protocol version 2; this agent speaks 1']);
    expect(run.stderr).toContain('unsupported protocol version 2');
    expect(run.code).toBe(2);
  });

  it('refuses a stream that does not start with the greeting', async () => {
    const run = await sync('hello\n');
    expect(run.lines[0]).toMatch(/^error AGENT_PROTOCOL /);
    expect(run.code).toBe(2);
  });

  it('reports - for an absent file and an absent block, in the order of the wants', async () => {
    writeFileSync(join(root, 'plain'), '127.0.0.1 localhost\n');
    const run = await sync(frames([['/missing', 'file', '-'], ['/etc/hosts', 'block', '-'], ['/plain', 'block', '-']]));
    expect(haves(run)).toEqual([['/missing', 'file', '-'], ['/etc/hosts', 'block', '-'], ['/plain', 'block', '-']]);
  });

  it('reports the blob oid of a present file and of a present block body', async () => {
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/hosts'), HOSTS);
    writeFileSync(join(root, 'etc/route.yml'), 'http: {}\n');
    const run = await sync(frames([['/etc/route.yml', 'file', '-'], ['/etc/hosts', 'block', '-'], ['/etc/hosts', 'file', '-']]));
    expect(haves(run)).toEqual([
      ['/etc/route.yml', 'file', blobOid('http: {}\n')],
      ['/etc/hosts', 'block', blobOid(BODY)],
      ['/etc/hosts', 'file', blobOid(HOSTS)],
    ]);
    expect(run.code).toBe(0);
  });

  it('receives no bytes and writes nothing when the controller sends only end', async () => {
    writeFileSync(join(root, 'a'), 'same\n');
    const run = await sync(frames([['/a', 'file', blobOid('same\n')]]));
    expect(run.lines.slice(1)).toEqual([`have /a file ${blobOid('same\n')}`, '?', 'done 0 0']);
    expect(listTree(root)).toEqual(['a']);
  });

  it('answers every put and del in order and exits 0 when all succeed', async () => {
    writeFileSync(join(root, 'old'), 'x\n');
    const run = await sync(frames([], [put('/one', 'file', '1\n'), { del: '/old', kind: 'file' }, put('/two', 'file', '2\n')]));
    expect(results(run)).toEqual([`ok /one ${blobOid('1\n')}`, 'ok /old -', `ok /two ${blobOid('2\n')}`]);
    expect(run.lines.at(-1)).toBe('done 3 0');
    expect(run.code).toBe(0);
  });

  it('exits 1 when some artifact failed and still applies the others', async () => {
    const run = await sync(frames([], [put('/good', 'file', 'ok\n'), put('/bad', 'file', 'bytes\n', blobOid('other\n'))]));
    expect(results(run)[0]).toBe(`ok /good ${blobOid('ok\n')}`);
    expect(results(run)[1]).toMatch(/^fail \/bad OID_MISMATCH /);
    expect(run.lines.at(-1)).toBe('done 1 1');
    expect(run.code).toBe(1);
    expect(readFileSync(join(root, 'good'), 'utf8')).toBe('ok\n');
  });

  describe('protocol errors exit 2 and write nothing', () => {
    const garbled: Array<[string, string]> = [
      ['an unknown verb', 'frob /a file\n'],
      ['a non-numeric size', `put /a file ${blobOid('x')} 1x\nx`],
      ['a size with a leading zero (octal to sh)', `put /a file ${blobOid('xxxxxxxx')} 010\nxxxxxxxx`],
      ['a missing field', `put /a file ${blobOid('x')}\nx`],
      ['a bad oid', 'put /a file 1234 1\nx'],
      ['an unknown kind', `put /a dir ${blobOid('x')} 1\nx`],
      ['a path with ..', `put /etc/../a file ${blobOid('x')} 1\nx`],
      ['a relative path', `put etc/a file ${blobOid('x')} 1\nx`],
      ['a path with a space', `put /etc/a\\ b file ${blobOid('x')} 1\nx`],
      ['a path with a tab', `put /etc/a\tb file ${blobOid('x')} 1\nx`],
      ['a path with a control character', `put /etc/a\u0001b file ${blobOid('x')} 1\nx`],
    ];
    it.each(garbled)('after a valid put, %s aborts the exchange', async (_what, frame) => {
      writeFileSync(join(root, 'keep'), 'old\n');
      const input = Buffer.concat([frames([], [put('/keep', 'file', 'new\n'), put('/new/dir/f', 'file', 'n\n')], false), Buffer.from(frame), Buffer.from('end\n')]);
      const run = await sync(input);
      expect(run.code).toBe(2);
      expect(run.lines.at(-1)).toMatch(/^error AGENT_PROTOCOL /);
      expect(results(run)).toEqual([]);
      expect(readFileSync(join(root, 'keep'), 'utf8')).toBe('old\n');
      expect(listTree(root)).toEqual(['keep']);
    });

    it('a path with a space inside a put line (an extra field) aborts the exchange', async () => {
      const run = await sync(Buffer.concat([frames([], [], false), Buffer.from(`put /etc/a b file ${blobOid('x')} 1\nx`), Buffer.from('end\n')]));
      expect(run.code).toBe(2);
      expect(listTree(root)).toEqual([]);
    });

    it.each([
      ['a relative path', 'want etc/hosts file -\n'],
      ['a path with ..', 'want /etc/../../x file -\n'],
      ['a missing oid', 'want /etc/hosts file\n'],
    ])('a want with %s is refused before any have', async (_what, line) => {
      const run = await sync(`courier 1\n${line}?\nend\n`);
      expect(run.code).toBe(2);
      expect(run.lines.some((l) => l.startsWith('have '))).toBe(false);
      expect(run.lines.at(-1)).toMatch(/^error AGENT_PROTOCOL /);
    });

    it('a stream that ends before end leaves every target untouched', async () => {
      writeFileSync(join(root, 'keep'), 'old\n');
      const run = await sync(frames([], [put('/keep', 'file', 'new\n')], false));
      expect(run.code).toBe(2);
      expect(readFileSync(join(root, 'keep'), 'utf8')).toBe('old\n');
      expect(listTree(root)).toEqual(['keep']);
    });

    it('a put whose content is cut short (EOF mid-content) leaves the target and no temp file', async () => {
      mkdirSync(join(root, 'etc'));
      writeFileSync(join(root, 'etc/hosts'), HOSTS);
      const content = Buffer.alloc(200_000, 'a');
      const whole = frames([], [put('/etc/hosts', 'file', content)], false);
      const run = await sync(whole.subarray(0, whole.length - 50_000));
      expect(run.code).toBe(2);
      expect(run.lines.at(-1)).toMatch(/^error AGENT_PROTOCOL .*ended inside a put/);
      expect(readFileSync(join(root, 'etc/hosts'), 'utf8')).toBe(HOSTS);
      expect(listTree(root)).toEqual(['etc', 'etc/hosts']);
    });

    it('a stream that ends before ? gets no haves', async () => {
      const run = await sync('courier 1\nwant /a file -\n');
      expect(run.code).toBe(2);
      expect(run.lines.some((l) => l.startsWith('have '))).toBe(false);
    });
  });

  describe('read-only mode', () => {
    it.each([['sync --read-only', ['sync', '--read-only']], ['verify', ['verify']]])('%s reports haves and refuses a put', async (_name, args) => {
      writeFileSync(join(root, 'a'), 'old\n');
      const ok = await runAgent(shell, [...args, '--root', root], frames([['/a', 'file', blobOid('new\n')]]));
      expect(ok.code).toBe(0);
      expect(haves(ok)).toEqual([['/a', 'file', blobOid('old\n')]]);
      const refused = await runAgent(shell, [...args, '--root', root], frames([['/a', 'file', blobOid('new\n')]], [put('/a', 'file', 'new\n')]));
      expect(refused.code).toBe(2);
      expect(refused.lines.at(-1)).toMatch(/^error AGENT_PROTOCOL .*read-only/);
      expect(readFileSync(join(root, 'a'), 'utf8')).toBe('old\n');
      expect(listTree(root)).toEqual(['a']);
    });

    it('verify refuses a del too', async () => {
      writeFileSync(join(root, 'a'), 'old\n');
      const run = await runAgent(shell, ['verify', '--root', root], frames([], [{ del: '/a', kind: 'file' }]));
      expect(run.code).toBe(2);
      expect(readFileSync(join(root, 'a'), 'utf8')).toBe('old\n');
    });
  });

  it('rejects an unknown command or option with exit 2', async () => {
    expect((await runAgent(shell, ['push'], '')).code).toBe(2);
    expect((await runAgent(shell, ['sync', '--force'], '')).code).toBe(2);
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}
