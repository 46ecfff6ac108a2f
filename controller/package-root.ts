/** Locating files shipped with courier (templates, the node agent, schemas) from source or from dist/. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The directory holding courier's package.json, found by walking up from this module. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('courier: cannot find the package root (package.json)');
    dir = parent;
  }
  cached = dir;
  return dir;
}

/** A path inside the package. */
export function packagePath(...parts: string[]): string {
  return path.join(packageRoot(), ...parts);
}
