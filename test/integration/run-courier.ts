/**
 * Runs the real `courier` command line as a child process (the bundled `dist/courier/main.js` that `bin.courier` names,
 * which the global test setup compiles), the way an operator or a script would, and
 * returns its exit status, output and parsed `--json` output. stdin is /dev/null (never a TTY).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: every CLI run starts there. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Bound on one CLI run: a hung push must fail the test, not the whole suite's timeout.
const RUN_TIMEOUT = 180_000;

/** What one CLI run produced. */
export interface CourierRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  json: unknown;
}

/** Run `courier --config <configFile> <args...>` and wait for it to exit. */
export function runCourier(configFile: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<CourierRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/courier/main.js', '--config', configFile, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // No ssh-agent: the site's ssh.identity is the only key.
      env: { ...process.env, SSH_AUTH_SOCK: '', COURIER_CONFIG: '', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? RUN_TIMEOUT);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) {
        reject(new Error(`courier ${args.join(' ')} was killed (${signal}); stderr: ${stderr.slice(-2000)}`));
        return;
      }
      resolve({ code, stdout, stderr, json: parseJson(stdout) });
    });
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Timeout for a test that runs the CLI several times: each run is a Node start-up plus real SSH sessions, slow on a loaded 2-core machine. */
export const CLI_TEST_TIMEOUT = 300_000;
