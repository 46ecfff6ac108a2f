import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../../test/support/git-http-server.js';
import { CourierError, isCourierError } from '../errors.js';
import { createGitSource, type GitSourceOptions } from './git-source.js';
import type { SourceWatcher } from './source-watcher.js';

const run = promisify(execFile);
const EVENTUALLY = { timeout: 20_000, interval: 50 };
const POLL_MS = 100;

/** Stock git with a fixed identity and no user config. */
async function runGit(cwd: string, ...args: string[]): Promise<string> {
  const env = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
  };
  const { stdout } = await run('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env });
  return stdout.trim();
}

/** A served bare repository and a work tree that pushes to it. */
interface TestRepo {
  name: string;
  work: string;
  /** Write files (relative to the work tree; null deletes), commit, push; returns the commit id. */
  commit(files: Record<string, string | null>, message?: string): Promise<string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const SERVICES = '{"immich": {"subdomain": "photos", "ip": "100.64.0.10", "port": 2283, "public": false}}\n';

describe('createGitSource', () => {
  let base: string;
  let reposRoot: string;
  let server: GitHttpServer;
  let repoCount = 0;
  const sources: SourceWatcher[] = [];

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'courier-git-source-'));
    reposRoot = path.join(base, 'repos');
    await mkdir(reposRoot);
    server = await startGitHttpServer(reposRoot);
  });

  afterEach(async () => {
    await Promise.all(sources.splice(0).map((source) => source.close()));
  });

  afterAll(async () => {
    await server.stop();
    await rm(base, { recursive: true, force: true });
  });

  /** A new served repository with one commit of `files`. */
  async function createRepo(files: Record<string, string>): Promise<TestRepo> {
    const name = `registry-${++repoCount}.git`;
    const bare = path.join(reposRoot, name);
    const work = path.join(base, `work-${repoCount}`);
    await runGit(base, 'init', '--bare', bare);
    await runGit(base, 'init', work);
    const repo: TestRepo = {
      name,
      work,
      async commit(changes, message = 'update registry') {
        for (const [file, text] of Object.entries(changes)) {
          const target = path.join(work, file);
          if (text === null) {
            await unlink(target);
            continue;
          }
          await mkdir(path.dirname(target), { recursive: true });
          await writeFile(target, text);
        }
        await runGit(work, 'add', '-A');
        await runGit(work, 'commit', '-q', '-m', message);
        await runGit(work, 'push', '-q', bare, 'HEAD:refs/heads/main');
        return runGit(work, 'rev-parse', 'HEAD');
      },
    };
    await repo.commit(files, 'initial registry');
    return repo;
  }

  /** A git source over `repo` with its own cache directory, closed after the test. */
  function openSource(repo: TestRepo, overrides: Partial<GitSourceOptions> = {}): SourceWatcher {
    const source = createGitSource({
      url: `${server.url}/${repo.name}`,
      ref: 'main',
      path: 'config/registry',
      cacheDir: path.join(base, `cache-${repo.name}-${sources.length}`),
      intervalMs: POLL_MS,
      ...overrides,
    });
    sources.push(source);
    return source;
  }

  /** The rejection of `promise` as a CourierError. */
  async function rejectionOf(promise: Promise<unknown>): Promise<CourierError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isCourierError(err)) throw new Error(`expected a CourierError, got ${String(err)}`);
    return err;
  }

  it('reads the documents at the sub-path of the ref commit, naming the commit in origins and trigger', async () => {
    const repo = await createRepo({
      'config/registry/services.json': SERVICES,
      'config/registry/cluster-domain': 'mycloud\n',
      'config/registry/notes.txt': 'not a registry document\n',
      'README.md': '# registry\n',
    });
    const commit = await runGit(repo.work, 'rev-parse', 'HEAD');
    const short = commit.slice(0, 12);
    const snapshot = await openSource(repo).read();
    expect(snapshot.trigger).toBe(`git commit ${short} of ${server.url}/${repo.name}`);
    expect(snapshot.documents).toEqual({
      'services.json': { name: 'services.json', origin: `${short}:config/registry/services.json`, format: 'json', text: SERVICES, version: snapshot.trigger },
      'cluster-domain': { name: 'cluster-domain', origin: `${short}:config/registry/cluster-domain`, format: 'text', text: 'mycloud\n', version: snapshot.trigger },
    });
  });

  it('reads documents at the repository root when the path is .', async () => {
    const repo = await createRepo({ 'routing.json': '{}\n' });
    const short = (await runGit(repo.work, 'rev-parse', 'HEAD')).slice(0, 12);
    const snapshot = await openSource(repo, { path: '.' }).read();
    expect(snapshot.documents['routing.json']?.origin).toBe(`${short}:routing.json`);
  });

  it('reads a YAML twin as yaml', async () => {
    const repo = await createRepo({ 'config/registry/services.yaml': 'immich:\n  subdomain: photos\n', 'config/registry/domains.yml': 'domains: {}\n' });
    const short = (await runGit(repo.work, 'rev-parse', 'HEAD')).slice(0, 12);
    const { documents } = await openSource(repo).read();
    expect(documents['services.json']).toEqual({
      name: 'services.json',
      origin: `${short}:config/registry/services.yaml`,
      format: 'yaml',
      text: 'immich:\n  subdomain: photos\n',
      version: `git commit ${short} of ${server.url}/${repo.name}`,
    });
    expect(documents['domains.json']?.origin).toBe(`${short}:config/registry/domains.yml`);
  });

  it('rejects a document committed both as JSON and as a YAML twin, naming both files', async () => {
    const repo = await createRepo({ 'config/registry/services.json': SERVICES, 'config/registry/services.yaml': 'immich: {}\n' });
    const short = (await runGit(repo.work, 'rev-parse', 'HEAD')).slice(0, 12);
    const err = await rejectionOf(openSource(repo).read());
    expect(err.code).toBe('REGISTRY_INVALID');
    const problems = err.data.problems as { document: string; origin: string; message: string }[];
    expect(problems).toHaveLength(1);
    expect(problems[0]?.document).toBe('services.json');
    expect(problems[0]?.origin).toBe(`${short}:config/registry/services.json`);
    expect(problems[0]?.message).toContain(`${short}:config/registry/services.yaml`);
  });

  it('reads the commit an annotated tag names', async () => {
    const repo = await createRepo({ 'config/registry/services.json': SERVICES });
    const tagged = await runGit(repo.work, 'rev-parse', 'HEAD');
    await runGit(repo.work, 'tag', '-a', '-m', 'release', 'v1');
    await runGit(repo.work, 'push', '-q', path.join(reposRoot, repo.name), 'refs/tags/v1');
    await repo.commit({ 'config/registry/services.json': '{}\n' });
    const snapshot = await openSource(repo, { ref: 'v1' }).read();
    expect(snapshot.trigger).toBe(`git commit ${tagged.slice(0, 12)} of ${server.url}/${repo.name}`);
    expect(snapshot.documents['services.json']?.text).toBe(SERVICES);
  });

  it('reports a sub-path missing from the commit as SOURCE_UNAVAILABLE', async () => {
    const repo = await createRepo({ 'elsewhere/services.json': SERVICES });
    const err = await rejectionOf(openSource(repo).read());
    expect(err.code).toBe('SOURCE_UNAVAILABLE');
  });

  it('reports an unknown ref as SOURCE_UNAVAILABLE', async () => {
    const repo = await createRepo({ 'config/registry/services.json': SERVICES });
    const err = await rejectionOf(openSource(repo, { ref: 'no-such-branch' }).read());
    expect(err.code).toBe('SOURCE_UNAVAILABLE');
    expect(err.retryable).toBe(true);
  });

  it('refuses a URL that is not http(s) as CONFIG_INVALID', () => {
    expect(() => createGitSource({ url: 'git@example.com:registry.git', ref: 'main', path: '.', cacheDir: base, intervalMs: POLL_MS })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('never shows credentials from the URL', async () => {
    const repo = await createRepo({ 'config/registry/services.json': SERVICES });
    const url = `${server.url.replace('http://', 'http://alice:s3cret@')}/${repo.name}`;
    const snapshot = await openSource(repo, { url }).read();
    expect(snapshot.trigger).not.toContain('s3cret');
    const err = await rejectionOf(openSource(repo, { url, ref: 'missing' }).read());
    expect(err.message).not.toContain('s3cret');
  });

  it('notifies once when a new commit is pushed, and read() then sees it', async () => {
    const repo = await createRepo({ 'config/registry/services.json': SERVICES });
    const source = openSource(repo);
    await source.read();
    const triggers: string[] = [];
    await source.start(
      (trigger) => triggers.push(trigger),
      (err) => triggers.push(`error ${err.code}: ${err.message}`),
    );
    // Several polls of an unchanged ref notify nothing.
    await sleep(POLL_MS * 5);
    expect(triggers).toEqual([]);
    const next = await repo.commit({ 'config/registry/services.json': '{}\n' });
    const expected = `git commit ${next.slice(0, 12)} of ${server.url}/${repo.name}`;
    await expect.poll(() => triggers, EVENTUALLY).toEqual([expected]);
    await sleep(POLL_MS * 5);
    expect(triggers).toEqual([expected]);
    const snapshot = await source.read();
    expect(snapshot.trigger).toBe(expected);
    expect(snapshot.documents['services.json']?.text).toBe('{}\n');
  });

  it('stops polling at close', async () => {
    const repo = await createRepo({ 'config/registry/services.json': SERVICES });
    const source = openSource(repo);
    const triggers: string[] = [];
    await source.start((trigger) => triggers.push(trigger));
    await source.close();
    await repo.commit({ 'config/registry/services.json': '{}\n' });
    await sleep(POLL_MS * 10);
    expect(triggers).toEqual([]);
  });

  it('reuses the cache repository for the same URL and starts it afresh for another', async () => {
    const first = await createRepo({ 'config/registry/services.json': SERVICES });
    const second = await createRepo({ 'config/registry/services.json': '{}\n' });
    const cacheDir = path.join(base, 'shared-cache');
    const packs = async () => (await readdir(path.join(cacheDir, 'objects', 'pack'))).filter((name) => name.endsWith('.pack')).sort();
    await openSource(first, { cacheDir }).read();
    const firstPacks = await packs();
    expect(firstPacks).toHaveLength(1);
    await openSource(first, { cacheDir }).read();
    expect(await packs()).toEqual(firstPacks);
    const snapshot = await openSource(second, { cacheDir }).read();
    expect(snapshot.documents['services.json']?.text).toBe('{}\n');
    const secondPacks = await packs();
    expect(secondPacks).toHaveLength(1);
    expect(secondPacks).not.toEqual(firstPacks);
  });

  it('leaves a cache directory alone that is not a git repository', async () => {
    const repo = await createRepo({ 'config/registry/services.json': SERVICES });
    const cacheDir = path.join(base, 'not-a-cache');
    await mkdir(cacheDir);
    await writeFile(path.join(cacheDir, 'precious.txt'), 'keep me\n');
    const err = await rejectionOf(openSource(repo, { cacheDir }).read());
    expect(err.code).toBe('SOURCE_UNAVAILABLE');
    await expect(run('cat', [path.join(cacheDir, 'precious.txt')])).resolves.toMatchObject({ stdout: 'keep me\n' });
  });

  it('reports an unreachable server as SOURCE_UNAVAILABLE while polling, and notifies when it is back with a new commit', async () => {
    const own = await startGitHttpServer(reposRoot);
    const port = own.port;
    let restarted: GitHttpServer | undefined;
    let ownStopped = false;
    try {
      const repo = await createRepo({ 'config/registry/services.json': SERVICES });
      const source = openSource(repo, { url: `${own.url}/${repo.name}` });
      const triggers: string[] = [];
      const errors: CourierError[] = [];
      await source.start(
        (trigger) => triggers.push(trigger),
        (err) => errors.push(err),
      );
      await own.stop();
      ownStopped = true;
      await expect.poll(() => errors.length, EVENTUALLY).toBeGreaterThan(0);
      expect(errors[0]?.code).toBe('SOURCE_UNAVAILABLE');
      expect(errors[0]?.retryable).toBe(true);
      const next = await repo.commit({ 'config/registry/services.json': '{}\n' });
      restarted = await startGitHttpServer(reposRoot, { port });
      await expect.poll(() => triggers, EVENTUALLY).toEqual([`git commit ${next.slice(0, 12)} of ${own.url}/${repo.name}`]);
    } finally {
      if (!ownStopped) await own.stop();
      await restarted?.stop();
    }
  });
});
