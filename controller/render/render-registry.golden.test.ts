import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRealisticRegistry, REALISTIC_SETTINGS } from '../../test/golden/realistic-registry.js';
import { loadTemplates } from './load-templates.js';
import type { RenderResult } from './model.js';
import { renderDnsRecords } from './render-dns-records.js';
import { renderRegistry } from './render-registry.js';

/** Set UPDATE_GOLDEN=1 to rewrite the golden files; then read the diff before committing it. */
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const GOLDEN_DIR = path.resolve(import.meta.dirname, '../../test/golden');
const DNS_GOLDEN = 'dns-records.json';

let result: RenderResult;
beforeAll(async () => {
  result = renderRegistry(buildRealisticRegistry(), REALISTIC_SETTINGS, await loadTemplates());
});

/** Compare `actual` with the golden file (or write it when updating). */
async function expectGolden(relative: string, actual: string): Promise<void> {
  const file = path.join(GOLDEN_DIR, relative);
  if (UPDATE) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, actual);
  }
  expect(actual).toBe(await readFile(file, 'utf8'));
}

describe('renderRegistry golden files (test/golden/<node>/<artifact>)', () => {
  it('has a golden directory for exactly the rendered nodes', async () => {
    const entries = await readdir(GOLDEN_DIR, { withFileTypes: true });
    const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(dirs).toEqual(result.nodes.map((n) => n.node.name));
  });

  it('renders every artifact of the realistic registry byte for byte as committed', async () => {
    for (const { node, artifacts } of result.nodes) {
      expect(artifacts.length).toBeGreaterThan(0);
      for (const artifact of artifacts) await expectGolden(path.join(node.name, artifact.name), artifact.content);
    }
  });

  it('renders the DNS records of the realistic registry as committed', async () => {
    const records = renderDnsRecords(buildRealisticRegistry(), REALISTIC_SETTINGS);
    await expectGolden(DNS_GOLDEN, `${JSON.stringify(records, null, 2)}\n`);
  });
});
