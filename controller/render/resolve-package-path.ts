/** Locating courier's own files (templates, schemas) from the running module, source or compiled. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let packageRoot: string | undefined;

/**
 * The absolute path of `segments` inside courier's package root: the nearest directory above this
 * module holding a package.json. Works from `controller/render/*.ts` (tsx, vitest) and from
 * `dist/controller/render/*.js` alike, because `dist/` has no package.json of its own.
 */
export function resolvePackagePath(...segments: string[]): string {
  packageRoot ??= findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
  return path.join(packageRoot, ...segments);
}

/** Walk up from `start` to the first directory containing package.json. */
function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}: courier's installation is incomplete`);
  }
}
