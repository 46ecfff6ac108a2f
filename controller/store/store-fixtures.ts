/**
 * Test helpers for the store: a fresh store in a temp dir, hand-built NodeRender inputs, and the
 * stock git binary pointed at the store (the tests check that plain `git` reads what courier wrote).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeRole } from '../registry/model.js';
import { blobOid } from '../render/blob-oid.js';
import type { Artifact, NodeRender } from '../render/model.js';
import type { Store } from './model.js';
import { openStore } from './open-store.js';

/** A store in a new temp dir, and a function that removes the dir. */
export async function makeTempStore(): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  const parent = await mkdtemp(path.join(os.tmpdir(), 'courier-store-'));
  const store = await openStore(path.join(parent, 'store'));
  return { store, cleanup: () => rm(parent, { recursive: true, force: true }) };
}

/** A registry node with test defaults. */
export function makeNode(name: string, role: NodeRole = 'worker', index = 2): Node {
  return { name, role, ip: `127.0.0.${index}`, sshUser: 'courier', sshPort: 22, sudo: false, transport: 'ssh' };
}

/** One artifact as render would produce it (oid computed with blobOid). */
export function makeArtifact(name: string, content: string): Artifact {
  const file = name === 'hosts';
  return { name, path: file ? '/etc/hosts' : `/etc/traefik/dynamic/${name}`, kind: file ? 'block' : 'file', mode: '0644', content, oid: blobOid(content) };
}

/** A node's render: `artifacts` maps artifact name to content. */
export function makeNodeRender(name: string, artifacts: Record<string, string>, role: NodeRole = 'worker'): NodeRender {
  return { node: makeNode(name, role), artifacts: Object.entries(artifacts).map(([artifact, content]) => makeArtifact(artifact, content)) };
}

/** Runs stock git on the store (`git --git-dir=<store> ...args`) and returns stdout. */
export function runGit(store: Store, ...args: string[]): string {
  return execFileSync('git', [`--git-dir=${store.dir}`, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir(), LC_ALL: 'C' },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** The blob id stock git computes for `content` (`git hash-object --stdin`). */
export function gitHashObject(content: string): string {
  return execFileSync('git', ['hash-object', '--stdin'], { input: content, encoding: 'utf8' }).trim();
}
