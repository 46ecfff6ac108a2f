/**
 * vitest global setup: compile the controller once (`tsc -p tsconfig.build.json` and the
 * precompiled schema validator and the bundled CLI, what `npm ci`'s prepare step runs), so CLI tests
 * exercise the built binary as users run it.
 * Type errors don't stop the tests here: `npm run typecheck` reports them.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function build(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    // tsc still emits JavaScript on type errors; the typecheck step (npm run typecheck) is what fails on them
    const out = String((err as { stdout?: Buffer }).stdout ?? '');
    console.error(`[global-build] tsc reported type errors (dist/ was still written):\n${out.split('\n').slice(0, 10).join('\n')}`);
  }
  // the precompiled Traefik schema validator, as `npm run build` makes it
  execFileSync(process.execPath, [path.join(root, 'dist', 'controller', 'render', 'build-traefik-validator.js')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  // and the bundled command line that bin.courier names (dist/courier/main.js)
  execFileSync(process.execPath, [path.join(root, 'dist', 'controller', 'cli', 'build-bundle.js')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
}
