import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from './git-http-server.js';

const run = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };

/** Stock git with a fixed identity and no user config. */
async function runGit(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-c', 'init.defaultBranch=main', '-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', ...args], { cwd, env: GIT_ENV });
  return stdout.trim();
}

/** One pkt-line: four hex digits of length (including themselves), then the payload. */
const pktLine = (payload: string) => `${(payload.length + 4).toString(16).padStart(4, '0')}${payload}`;

describe('startGitHttpServer', () => {
  let base: string;
  let server: GitHttpServer;
  let commit: string;

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'courier-git-http-'));
    await mkdir(path.join(base, 'repos'));
    await runGit(base, 'init', '-q', '--bare', 'repos/site.git');
    await runGit(base, 'init', '-q', 'work');
    await writeFile(path.join(base, 'work', 'services.json'), '{}\n');
    await runGit(path.join(base, 'work'), 'add', '-A');
    await runGit(path.join(base, 'work'), 'commit', '-q', '-m', 'initial');
    await runGit(path.join(base, 'work'), 'push', '-q', '../repos/site.git', 'HEAD:refs/heads/main');
    commit = await runGit(path.join(base, 'work'), 'rev-parse', 'HEAD');
    server = await startGitHttpServer(path.join(base, 'repos'));
  });

  afterAll(async () => {
    await server.stop();
    await rm(base, { recursive: true, force: true });
  });

  it('serves clones to stock git over protocol v2 and v0', async () => {
    for (const version of ['2', '0']) {
      const target = path.join(base, `clone-v${version}`);
      await runGit(base, '-c', `protocol.version=${version}`, 'clone', '-q', `${server.url}/site.git`, target);
      expect(await runGit(target, 'rev-parse', 'HEAD')).toBe(commit);
      expect(await readFile(path.join(target, 'services.json'), 'utf8')).toBe('{}\n');
    }
  });

  it('answers a gzip-encoded upload-pack request with a pack', async () => {
    const body = gzipSync(Buffer.from(`${pktLine(`want ${commit}\n`)}0000${pktLine('done\n')}`));
    const res = await fetch(`${server.url}/site.git/git-upload-pack`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-git-upload-pack-request', 'content-encoding': 'gzip' },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
    const answer = Buffer.from(await res.arrayBuffer());
    expect(answer.subarray(0, 8).toString()).toBe('0008NAK\n');
    expect(answer.includes('PACK')).toBe(true);
  });

  it('answers 404 for a repository that does not exist', async () => {
    const res = await fetch(`${server.url}/missing.git/info/refs?service=git-upload-pack`);
    expect(res.status).toBe(404);
  });
});
