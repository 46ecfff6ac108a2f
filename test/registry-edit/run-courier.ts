/**
 * Test helpers for the registry-edit CLI tests: run courier as a user does (the built dist binary
 * that the global setup compiles, else the TypeScript entry through tsx) without blocking the test
 * process, so an in-process test API server keeps answering; and build a temporary site.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packagePath } from '../../controller/package-root.js';

const DIST = packagePath('dist', 'courier', 'main.js');
const REALISTIC = packagePath('test', 'fixtures', 'registry-realistic');

/** What a courier run returned. */
export interface CourierRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `courier --config <config> ...args`. */
export function runCourier(config: string, ...args: string[]): Promise<CourierRun> {
  const entry = existsSync(DIST) ? [DIST] : ['--import', 'tsx', packagePath('controller', 'cli', 'main.ts')];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...entry, ...args, '--config', config],
      { cwd: path.dirname(config), encoding: 'utf8', env: { ...process.env, COURIER_LOG_LEVEL: 'warn', NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A temporary site whose courier.yaml has `configYaml`; with `registry`, MyNodeOne's realistic registry is copied to ./registry. */
export async function createSite(configYaml: string, options: { registry?: boolean } = {}): Promise<{ dir: string; config: string; registry: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'courier-edit-'));
  const registry = path.join(dir, 'registry');
  if (options.registry) await cp(REALISTIC, registry, { recursive: true });
  const config = path.join(dir, 'courier.yaml');
  await writeFile(config, configYaml);
  return { dir, config, registry };
}

/** The realistic registry's documents as text, by document name. */
export async function realisticText(name: string): Promise<string> {
  return readFile(path.join(REALISTIC, name), 'utf8');
}
