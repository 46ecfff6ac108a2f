import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { packagePath } from '../package-root.js';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Node } from '../registry/model.js';
import { runChannel } from '../../test/support/run-channel.js';
import { buildAgentCommand, inlineScript, openAgentChannel, shellQuote } from './open-agent-channel.js';

const run = promisify(execFile);

// A script that prints its $0, then each argument between brackets, then a fixed text full of
// shell metacharacters, and exits 7.
const NASTY_SCRIPT = [
  '#!/bin/sh',
  "# it's a 'quoted' comment with $HOME and `date` and \\ and \"double\" quotes",
  'printf "%s\\n" "$0"',
  'for a in "$@"; do printf "[%s]\\n" "$a"; done',
  "printf '%s\\n' 'single '\"'\"'quote'\"'\"' $NOT_EXPANDED `not run`'",
  'cat <<\'EOF\'',
  "heredoc with 'quotes', $dollars, `backticks`",
  '',
  'and a blank line above',
  'EOF',
  'exit 7',
  '',
].join('\n');

const EXPECTED_TAIL = "single 'quote' $NOT_EXPANDED `not run`\nheredoc with 'quotes', $dollars, `backticks`\n\nand a blank line above\n";

const ARGS = ['sync', '--root', '/tmp/a b', "it's", '$HOME', '`id`', 'two\nlines', '', '*', ';', '-'];

describe('buildAgentCommand', () => {
  it('passes a script with quotes, $, backticks and newlines and every argument through sh -c intact', async () => {
    const command = buildAgentCommand(NASTY_SCRIPT, ARGS, { sudo: false });
    // comment lines do not travel
    expect(command.startsWith("sh -c 'printf \"%s\\n\" \"$0\"\n")).toBe(true);
    const result = await run('sh', ['-c', command]).catch((e: { code: number; stdout: string }) => e);
    expect((result as { code?: number }).code).toBe(7);
    expect(result.stdout).toBe(`courier-agent\n${ARGS.map((a) => `[${a}]\n`).join('')}${EXPECTED_TAIL}`);
  });

  it.each(['dash', 'busybox sh', 'bash'])('builds a command that %s runs the same way', async (shell) => {
    const [file, ...pre] = shell.split(' ');
    const command = buildAgentCommand(NASTY_SCRIPT, ARGS, { sudo: false });
    const result = await run(file!, [...pre, '-c', command]).catch((e: { code: number; stdout: string }) => e);
    expect(result.stdout).toBe(`courier-agent\n${ARGS.map((a) => `[${a}]\n`).join('')}${EXPECTED_TAIL}`);
  });

  it('prefixes sudo -n when the node runs the agent with sudo', () => {
    expect(buildAgentCommand('exit 0', ['verify'], { sudo: true })).toBe("sudo -n sh -c 'exit 0' courier-agent verify");
    expect(buildAgentCommand('exit 0', ['verify'], { sudo: false })).toBe("sh -c 'exit 0' courier-agent verify");
  });

  it('leaves plain words unquoted and quotes everything else', () => {
    expect(['verify', '--root', '/srv/node-1', 'a=b', ''].map(shellQuote)).toEqual(['verify', '--root', '/srv/node-1', 'a=b', "''"]);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe('openAgentChannel', () => {
  it('runs the agent through sh on this machine for a node with the local transport', async () => {
    const node: Node = { name: 'control-plane', role: 'laptop', ip: '127.0.0.1', sshUser: 'nobody', sshPort: 22, sudo: false, transport: 'local' };
    const channel = await openAgentChannel(node, 'cat; exit 4', ['verify'], { knownHostsFile: '/nonexistent', connectTimeout: 1000 });
    const { stdout, exit } = await runChannel(channel, 'hello\n');
    expect(stdout.toString()).toBe('hello\n');
    expect(exit).toEqual({ code: 4 });
  });
});

describe('inlineScript', () => {
  const agent = readFileSync(packagePath('node-agent', 'courier-agent'), 'utf8');
  const unquote = (q: string) => q.slice(1, -1).replace(/'\\''/g, "'");

  it('sends the agent without comment lines, blank lines or indentation, keeping the here-document', () => {
    const inline = unquote(inlineScript(agent));
    expect(inline.length).toBeLessThan(agent.length * 0.7);
    // outside the here-document no line is a comment, blank or indented
    const outside = inline.replace(/<<EOF\n[\s\S]*?\nEOF\n/, '<<EOF\n');
    expect(outside.split('\n').filter((l) => l.startsWith('#') || /^\s/.test(l) || l === '')).toEqual([]);
    expect(inline).toContain('usage: courier-agent --version\n       courier-agent sync');
  });

  it('is still a script dash parses, and the same agent (version, commands)', () => {
    const inline = unquote(inlineScript(agent));
    expect(spawnSync('dash', ['-n'], { input: inline }).status).toBe(0);
    const version = spawnSync('dash', ['-c', inline, 'courier-agent', '--version'], { encoding: 'utf8' });
    expect(version.stdout).toBe(spawnSync('dash', ['-c', agent, 'courier-agent', '--version'], { encoding: 'utf8' }).stdout);
  });
});
