/** Run a program to completion: `input` on its stdin, its stdout and stderr collected as text. */
import { spawn } from 'node:child_process';

/** How a process ended and what it printed. */
export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `command` with `args`, feeding `input`; rejects only when it cannot start (ENOENT and the like). */
export function runProcess(command: string, args: readonly string[], input: Buffer | string = ''): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    // a program that exits without reading all its input must not fail the run
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
