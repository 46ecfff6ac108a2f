import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CourierError } from '../errors.js';
import { ECHO_AGENT, runChannel, waitForOutput } from '../../test/support/run-channel.js';
import { openLocalChannel } from './local-transport.js';
import { buildAgentCommand } from './open-agent-channel.js';

const echo = (args: string[]) => buildAgentCommand(ECHO_AGENT, args, { sudo: false });

describe('openLocalChannel', () => {
  it('carries bytes to the agent and back unchanged and reports its exit status', async () => {
    const channel = openLocalChannel(echo(['5', 'verify', "it's"]));
    const input = Buffer.concat([Buffer.from('courier 1\n'), randomBytes(200_000)]);
    const { stdout, stderr, exit } = await runChannel(channel, input);
    expect(stdout.equals(input)).toBe(true);
    expect(stderr).toBe("argc 3\narg 5\narg verify\narg it's\n");
    expect(exit).toEqual({ code: 5 });
    expect(channel.bytesWritten()).toBe(input.length);
    expect(channel.bytesRead()).toBe(input.length);
  });

  it('drops writes after the agent exited instead of throwing EPIPE', async () => {
    const channel = openLocalChannel('exit 2');
    channel.stdout.resume();
    channel.stderr.resume();
    expect(await channel.exit).toEqual({ code: 2 });
    channel.stdin.write(randomBytes(1_000_000));
    channel.stdin.end('more');
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it('reports the signal that killed the agent', async () => {
    const { exit } = await runChannel(openLocalChannel('kill -TERM $$'), '');
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('rejects exit with CONNECTION_LOST when closed before the agent exits', async () => {
    const channel = openLocalChannel(echo(['0']));
    channel.stderr.resume();
    const started = waitForOutput(channel.stdout, 'ping');
    channel.stdin.write('ping\n');
    await started;
    channel.close();
    const err = await channel.exit.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CourierError);
    expect((err as CourierError).code).toBe('CONNECTION_LOST');
  });

  it('kills an agent that outlives sessionTimeout and rejects exit with SSH_TIMEOUT', async () => {
    const channel = openLocalChannel(echo(['0']), { sessionTimeout: 200 });
    channel.stdout.resume();
    channel.stderr.resume();
    const err = await channel.exit.catch((e: unknown) => e);
    expect((err as CourierError).code).toBe('SSH_TIMEOUT');
    expect((err as CourierError).data.phase).toBe('session');
  });
});
