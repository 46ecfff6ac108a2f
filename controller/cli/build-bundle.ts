/**
 * Bundles the command line at build time (esbuild): `dist/courier/main.js` and the chunks its
 * lazily loaded commands import, so a `courier` process reads a handful of files instead of the
 * ~600 modules of dist/ and node_modules (start-up was a third of a cold `courier push`'s CPU).
 * ssh2 (an optional native binding), pino (its transports run from files in worker threads) and
 * @kubernetes/client-node (only the Kubernetes paths load it) stay ordinary imports.
 *
 *   node dist/controller/cli/build-bundle.js      (run by `npm run build` / prepare, after tsc;
 *                                                   test/global-build.ts runs it too)
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { packagePath } from '../package-root.js';

/** The bundled command line, relative to the package root: what `bin.courier` names. */
export const BUNDLED_CLI = ['dist', 'courier', 'main.js'] as const;

/** Packages the bundle imports at run time instead of carrying them. */
export const UNBUNDLED = ['ssh2', 'pino', 'pino-pretty', '@kubernetes/client-node'];

/** Bundle `entry` (the tsc output of controller/cli/main.ts) into `outDir`. */
export async function bundleCli(entry: string, outDir: string): Promise<void> {
  // chunk names carry content hashes: start empty so no stale chunk is left beside the new ones
  rmSync(outDir, { recursive: true, force: true });
  await build({
    entryPoints: { main: entry },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: UNBUNDLED,
    logLevel: 'error',
    // CommonJS dependencies (isomorphic-git, handlebars, prom-client) call require
    banner: { js: "import { createRequire as __courierRequire } from 'node:module'; const require = __courierRequire(import.meta.url);" },
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = packagePath(...BUNDLED_CLI);
  await bundleCli(packagePath('dist', 'controller', 'cli', 'main.js'), path.dirname(out));
}
