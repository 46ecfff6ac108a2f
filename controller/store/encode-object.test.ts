import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobOid } from '../render/blob-oid.js';
import { encodeBlob, encodeTree } from './encode-object.js';

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

describe('encodeTree', () => {
  it('gives the oid git mktree computes, with trees sorted as if their names ended in a slash', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'courier-encode-'));
    try {
      execFileSync('git', ['init', '-q', '--bare', dir]);
      const blob = blobOid('x\n');
      execFileSync('git', [`--git-dir=${dir}`, 'hash-object', '-w', '--stdin'], { input: 'x\n' });
      const sub = encodeTree([{ name: 'hosts', type: 'blob', oid: blob }]);
      const input = `100644 blob ${blob}\thosts\n`;
      expect(execFileSync('git', [`--git-dir=${dir}`, 'mktree'], { input, encoding: 'utf8' }).trim()).toBe(sub.oid);
      const entries = [
        { name: 'a-b', type: 'blob' as const, oid: blob },
        { name: 'a', type: 'tree' as const, oid: sub.oid },
        { name: 'a.b', type: 'blob' as const, oid: blob },
        { name: 'a0', type: 'blob' as const, oid: blob },
      ];
      const listing = entries.map((e) => `${e.type === 'tree' ? '040000 tree' : '100644 blob'} ${e.oid}\t${e.name}\n`).join('');
      expect(execFileSync('git', [`--git-dir=${dir}`, 'mktree', '--missing'], { input: listing, encoding: 'utf8' }).trim()).toBe(encodeTree(entries).oid);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('encodes no entries as the empty tree', () => {
    expect(encodeTree([]).oid).toBe(EMPTY_TREE);
  });
});

describe('encodeBlob', () => {
  it('agrees with blobOid for text with multi-byte characters', () => {
    for (const text of ['', 'a\n', 'ünïcödé ✓\n']) expect(encodeBlob(text).oid).toBe(blobOid(text));
  });
});
