import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';
import { readStatePaths } from './read-state-paths.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'courier-state-paths-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('readStatePaths', () => {
  it.each([
    ['empty', ''],
    ['no state key', 'source: { type: files, path: reg }\n'],
    ['relative dir', 'state:\n  dir: var/courier\n'],
    ['absolute dir', 'state: { dir: /srv/courier-state }\n'],
    ['home dir', 'state: { dir: ~/courier-state }\n'],
    ['empty state', 'state: {}\n'],
  ])('gives the paths the full loader gives (%s)', async (name, text) => {
    const file = config(`${name.replace(/ /g, '-')}.yaml`, text);
    expect(await readStatePaths(file)).toEqual((await loadConfig(file)).state);
  });

  it.each([
    ['a YAML error', 'state: [\n'],
    ['an unknown key under state', 'state: { dir: x, dri: y }\n'],
    ['a dir that is not a string', 'state: { dir: 3 }\n'],
    ['a top level that is a list', '- a\n'],
  ])('fails with the full loader’s CONFIG_INVALID message on %s', async (name, text) => {
    const file = config(`bad-${name.replace(/\W+/g, '-')}.yaml`, text);
    const expected = await loadConfig(file).catch((err: Error) => err);
    expect(expected).toBeInstanceOf(Error);
    await expect(readStatePaths(file)).rejects.toThrow((expected as Error).message);
  });

  it('reads only state: a mistake elsewhere does not stop the history commands', async () => {
    const file = config('typo.yaml', 'state: { dir: s }\nreconcile: { intervall: 1h }\n');
    await expect(loadConfig(file)).rejects.toThrow(/intervall: unknown key/);
    expect((await readStatePaths(file)).store).toBe(path.join(dir, 's', 'store'));
  });

  it('is CONFIG_NOT_FOUND for a missing file, as everywhere', async () => {
    await expect(readStatePaths(path.join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'CONFIG_NOT_FOUND' });
  });
});
