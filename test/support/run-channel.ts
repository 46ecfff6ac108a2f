/**
 * Test helpers for agent channels: the stand-in agent script, and a driver that writes input,
 * collects stdout/stderr and awaits the exit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { AgentChannel, AgentExit } from '../../controller/transport/agent-channel.js';

/** Path of the stand-in agent (stdin → stdout, args on stderr, exit status = first argument). */
export const ECHO_AGENT_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'echo-agent.sh');

/** The stand-in agent's text, to send inline like the real agent. */
export const ECHO_AGENT = readFileSync(ECHO_AGENT_PATH, 'utf8');

/** Collect a stream to one Buffer. */
export function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Write `input` (then EOF) and return everything the agent printed and how it exited. */
export async function runChannel(channel: AgentChannel, input: Buffer | string): Promise<{ stdout: Buffer; stderr: string; exit: AgentExit }> {
  const stdout = collect(channel.stdout);
  const stderr = collect(channel.stderr);
  channel.stdin.end(input);
  const [out, err, exit] = await Promise.all([stdout, stderr, channel.exit]);
  return { stdout: out, stderr: err.toString('utf8'), exit };
}

/** Resolve with the first chunk of `stream` that makes the collected text include `text`. */
export function waitForOutput(stream: Readable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(text)) {
        stream.off('data', onData);
        resolve();
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended before "${text}" (saw ${JSON.stringify(seen.slice(-200))})`)));
  });
}
