import { mkdtemp, readFile, rename, rm, unlink, writeFile, appendFile, mkdir, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RawDocument, RegistrySnapshot } from '../registry/model.js';
import { REGISTRY_FILES, type SourceWatcher } from './source-watcher.js';
import { createFilesWatcher } from './watch-files-source.js';

// Bounds are generous for a loaded 2-core machine; nothing asserts how fast a trigger arrives.
const DEBOUNCE_MS = 300;
const EVENTUALLY = { timeout: 15_000, interval: 50 };
// How long "nothing more happens" is waited for: several debounce periods plus chokidar's 100 ms
// atomic-unlink delay.
const QUIET_MS = DEBOUNCE_MS * 4 + 500;

/** A stand-in for the files source reader: the raw files, unparsed. */
async function readRawFiles(dir: string): Promise<RegistrySnapshot> {
  const documents: RegistrySnapshot['documents'] = {};
  for (const entry of REGISTRY_FILES) {
    const file = path.join(dir, entry.file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const document: RawDocument = { name: entry.document, origin: file, format: entry.format, text };
    documents[entry.document] = document;
  }
  return { documents, trigger: `read of ${dir}` };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createFilesWatcher', () => {
  let base: string;
  let dir: string;
  let watcher: SourceWatcher | undefined;
  let triggers: string[];

  beforeEach(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'courier-watch-files-'));
    dir = path.join(base, 'registry');
    await mkdir(dir);
    await writeFile(path.join(dir, 'services.json'), '{"a": {"subdomain": "a", "public": false}}\n');
    await writeFile(path.join(dir, 'routing.json'), '{}\n');
    await writeFile(path.join(dir, 'cluster-domain'), 'mycloud\n');
    triggers = [];
  });

  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    await rm(base, { recursive: true, force: true });
  });

  /** Start a watcher on `dir` that records its triggers. */
  async function startWatcher(debounceMs = DEBOUNCE_MS): Promise<SourceWatcher> {
    watcher = createFilesWatcher(dir, { debounceMs, readFiles: readRawFiles });
    await watcher.start(
      (trigger) => triggers.push(trigger),
      (err) => triggers.push(`error ${err.code}`),
    );
    return watcher;
  }

  it('reports an edit once, naming the file', async () => {
    await startWatcher();
    await writeFile(path.join(dir, 'services.json'), '{"b": {"subdomain": "b", "public": true}}\n');
    await expect.poll(() => triggers, EVENTUALLY).toEqual(['file change: services.json']);
    await sleep(QUIET_MS);
    expect(triggers).toEqual(['file change: services.json']);
  });

  it('reports a burst of edits within the debounce as one change listing the files sorted', async () => {
    await startWatcher(1_000);
    await writeFile(path.join(dir, 'services.json'), '{}\n');
    await writeFile(path.join(dir, 'routing.json'), '{"x": {}}\n');
    await writeFile(path.join(dir, 'domains.yaml'), 'domains: {}\n');
    await writeFile(path.join(dir, 'services.json'), '{"c": {}}\n');
    await expect.poll(() => triggers, EVENTUALLY).toEqual(['file change: domains.yaml, routing.json, services.json']);
    await sleep(QUIET_MS);
    expect(triggers).toHaveLength(1);
  });

  it('sees a save by rename over the file and reads the new complete content', async () => {
    const source = await startWatcher();
    const content = '{"renamed": {"subdomain": "r", "public": false}}\n';
    const temp = path.join(dir, '.services.json.tmp-4711');
    await writeFile(temp, content);
    await rename(temp, path.join(dir, 'services.json'));
    await expect.poll(() => triggers, EVENTUALLY).toEqual(['file change: services.json']);
    const snapshot = await source.read();
    expect(snapshot.documents['services.json']?.text).toBe(content);
  });

  it('sees a vim-style save that moves the file to a backup and writes a new one', async () => {
    const source = await startWatcher();
    const file = path.join(dir, 'routing.json');
    const content = '{"vim": {"domains": ["example.com"], "vps_nodes": [], "strategy": "round-robin"}}\n';
    await rename(file, `${file}~`);
    await writeFile(file, content);
    await unlink(`${file}~`);
    await expect.poll(() => triggers, EVENTUALLY).toEqual(['file change: routing.json']);
    expect((await source.read()).documents['routing.json']?.text).toBe(content);
  });

  it('waits for a file written in pieces and reads it whole', async () => {
    const source = await startWatcher(1_000);
    const file = path.join(dir, 'services.json');
    await writeFile(file, '{"pieces": ');
    await sleep(50);
    await appendFile(file, '{"subdomain": "p", "public": false}}\n');
    await expect.poll(() => triggers, EVENTUALLY).toEqual(['file change: services.json']);
    expect((await source.read()).documents['services.json']?.text).toBe('{"pieces": {"subdomain": "p", "public": false}}\n');
  });

  it('ignores files that are not registry documents', async () => {
    await startWatcher();
    await writeFile(path.join(dir, 'notes.txt'), 'remember the milk\n');
    await writeFile(path.join(dir, 'services.json.bak'), '{}\n');
    await mkdir(path.join(dir, 'sub'));
    await writeFile(path.join(dir, 'sub', 'services.json'), '{}\n');
    // The parent directory is watched for the registry directory's own entry only.
    await writeFile(path.join(base, 'services.json'), '{}\n');
    // A registry edit afterwards: if the other files counted they would be in this trigger or an earlier one.
    await sleep(QUIET_MS);
    await writeFile(path.join(dir, 'cluster-domain'), 'othercloud\n');
    await expect.poll(() => triggers, EVENTUALLY).toEqual(['file change: cluster-domain']);
  });

  it('reports a deleted file and its re-creation', async () => {
    const source = await startWatcher();
    const file = path.join(dir, 'services.json');
    await unlink(file);
    await expect.poll(() => triggers, EVENTUALLY).toEqual(['file change: services.json']);
    expect((await source.read()).documents['services.json']).toBeUndefined();
    await writeFile(file, '{"again": {}}\n');
    await expect.poll(() => triggers, EVENTUALLY).toEqual(['file change: services.json', 'file change: services.json']);
    expect((await source.read()).documents['services.json']?.text).toBe('{"again": {}}\n');
  });

  it('reports a ConfigMap volume update that swaps the ..data symlink', async () => {
    // The layout kubelet writes: services.json -> ..data/services.json, ..data -> ..<timestamp>/.
    const k8s = path.join(dir, 'k8s');
    await mkdir(path.join(k8s, '..v1'), { recursive: true });
    await writeFile(path.join(k8s, '..v1', 'services.json'), '{"v": 1}\n');
    await symlink('..v1', path.join(k8s, '..data'));
    await symlink('..data/services.json', path.join(k8s, 'services.json'));
    dir = k8s;
    const source = await startWatcher();
    await mkdir(path.join(k8s, '..v2'));
    await writeFile(path.join(k8s, '..v2', 'services.json'), '{"v": 2}\n');
    await symlink('..v2', path.join(k8s, '..data_tmp'));
    await rename(path.join(k8s, '..data_tmp'), path.join(k8s, '..data'));
    await expect.poll(() => triggers.length, EVENTUALLY).toBeGreaterThan(0);
    expect(triggers.every((trigger) => trigger.startsWith('file change: '))).toBe(true);
    expect((await source.read()).documents['services.json']?.text).toBe('{"v": 2}\n');
  });

  it('sees a registry directory that is created after start', async () => {
    dir = path.join(base, 'later');
    const source = await startWatcher();
    await mkdir(dir);
    await writeFile(path.join(dir, 'services.json'), '{"late": {}}\n');
    // The trigger names the directory (`later/`), the file, or both, depending on how fast the
    // watcher follows the new directory; what matters is that the read it leads to sees the file.
    await expect.poll(() => triggers.length, EVENTUALLY).toBeGreaterThan(0);
    await sleep(QUIET_MS);
    expect((await source.read()).documents['services.json']?.text).toBe('{"late": {}}\n');
    // Later edits in the new directory are seen as well.
    const before = triggers.length;
    await writeFile(path.join(dir, 'routing.json'), '{"later": {}}\n');
    await expect.poll(() => triggers.slice(before), EVENTUALLY).toEqual(['file change: routing.json']);
  });

  it('follows a registry directory replaced by renaming another directory over it', async () => {
    const source = await startWatcher();
    const next = path.join(base, 'next');
    await mkdir(next);
    await writeFile(path.join(next, 'services.json'), '{"next": {}}\n');
    await rename(dir, path.join(base, 'old'));
    await rename(next, dir);
    await expect.poll(() => triggers.length, EVENTUALLY).toBeGreaterThan(0);
    expect((await source.read()).documents['services.json']?.text).toBe('{"next": {}}\n');
    await sleep(QUIET_MS);
    const before = triggers.length;
    await writeFile(path.join(dir, 'services.json'), '{"edited": {}}\n');
    await expect.poll(() => triggers.slice(before), EVENTUALLY).toEqual(['file change: services.json']);
  });

  it('stops reporting after close, including a change still inside the debounce', async () => {
    const source = await startWatcher();
    await writeFile(path.join(dir, 'services.json'), '{"first": {}}\n');
    await expect.poll(() => triggers, EVENTUALLY).toEqual(['file change: services.json']);
    await sleep(QUIET_MS);
    await writeFile(path.join(dir, 'routing.json'), '{"pending": {}}\n');
    await source.close();
    await writeFile(path.join(dir, 'services.json'), '{"after": {}}\n');
    await sleep(QUIET_MS);
    expect(triggers).toEqual(['file change: services.json']);
  });
});
