/**
 * Where a site keeps its state, read from courier.yaml without validating the rest of it: the
 * history commands (`log`, `show`, `diff`) read only the store, and `courier log` must start
 * fast. Only `state.dir` is looked at; anything this reader cannot take for certain (a YAML error,
 * a `state` that is not a mapping, a `dir` that is not a string) goes to the full loader, so a
 * broken config fails with exactly the message every other command gives.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';

/** The state directory's files, from its path (already resolved). */
export interface StatePaths {
  dir: string;
  store: string;
  statusFile: string;
  lockFile: string;
}

/** The files under state directory `dir`. */
export function statePaths(dir: string): StatePaths {
  return { dir, store: path.join(dir, 'store'), statusFile: path.join(dir, 'status.json'), lockFile: path.join(dir, 'lock') };
}

/** `p` as courier.yaml means it: `~/` is the home directory, relative is against the config's directory. */
export function resolveConfigPath(file: string, p: string): string {
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : path.resolve(path.dirname(path.resolve(file)), p);
}

/** The state paths of config `file`; falls back to the full, validating loader when in doubt. */
export async function readStatePaths(file: string): Promise<StatePaths> {
  const dir = await quickStateDir(file);
  if (dir !== undefined) return statePaths(resolveConfigPath(file, dir));
  const { loadConfig } = await import('./load-config.js');
  return (await loadConfig(file)).state;
}

async function quickStateDir(file: string): Promise<string | undefined> {
  let doc: unknown;
  try {
    doc = load(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (doc === null || doc === undefined) return '.courier';
  if (typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const state = (doc as Record<string, unknown>).state;
  if (state === undefined || state === null) return '.courier';
  if (typeof state !== 'object' || Array.isArray(state)) return undefined;
  const keys = Object.keys(state);
  if (keys.some((k) => k !== 'dir')) return undefined;
  const dir = (state as Record<string, unknown>).dir;
  if (dir === undefined) return '.courier';
  return typeof dir === 'string' ? dir : undefined;
}
