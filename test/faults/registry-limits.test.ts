/**
 * An oversized registry reaching a running daemon: a 50 MB services.json, then one with 100,000
 * services. Both are refused with the size or entry limit naming the document (REGISTRY_INVALID,
 * courier_registry_valid 0), the last good revision stays in force, the daemon's memory stays
 * within the shipped memory limit (256 MiB), and a fixed registry is applied again. `courier
 * render` says the same on the command line (exit 2).
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRegistry, syntheticNodes, writeRegistry, PUBLIC_DOMAIN, type GenRegistry } from '../../bench/registry-gen.js';
import { runCourier, CLI_TEST_TIMEOUT } from '../integration/run-courier.js';
import { startDaemonProcess, type DaemonProcess } from '../daemon/daemon-site.js';

const POLL = { timeout: 60_000, interval: 200 };
/** The Deployment's memory limit (manifests/kubernetes/deployment.yaml). */
const MEMORY_LIMIT = 256 * 1024 * 1024;

describe('an oversized registry document', { timeout: CLI_TEST_TIMEOUT }, () => {
  let dir: string;
  let registryDir: string;
  let configFile: string;
  let registry: GenRegistry;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'courier-limits-'));
    registryDir = path.join(dir, 'registry');
    await mkdir(registryDir);
    const nodes = syntheticNodes({ vps: 1, laptops: 1, workers: 1 }).map((n) => ({ ...n, transport: 'local', root: path.join(dir, 'nodes', n.name) }));
    registry = generateRegistry(nodes, 20);
    writeRegistry(registryDir, registry);
    configFile = path.join(dir, 'courier.yaml');
    await writeFile(
      configFile,
      `source:\n  type: files\n  path: registry\nstate:\n  dir: state\ntraefik:\n  path: /srv/traefik/routes.yml\n  publicDomain: ${PUBLIC_DOMAIN}\n` +
        `reconcile:\n  debounce: 100ms\nhttp:\n  listen: 127.0.0.1:0\nlog:\n  level: info\n`,
    );
    daemon = await startDaemonProcess(configFile);
  });

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
  });

  const metric = async (name: string): Promise<number> => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await daemon.metrics())?.[1]);

  it('is refused naming the document, keeps the last good revision and the daemon within its memory limit', async () => {
    await expect.poll(async () => (await daemon.status()).nodes.filter((n) => n.status === 'active').length, POLL).toBe(3);
    const good = (await daemon.status()).revision;

    // 50 MB: one service with a huge unknown field (unknown fields are kept, so only the size stops it)
    const huge = { ...registry.services, padded: { subdomain: 'padded', ip: '100.100.0.250', port: 80, public: false, note: 'x'.repeat(50 * 1024 * 1024) } };
    await writeFile(path.join(registryDir, 'services.json'), JSON.stringify(huge));
    await expect.poll(() => metric('courier_registry_valid'), POLL).toBe(0);
    let status = await daemon.status();
    expect(status.registryError).toMatch(/registry\/services\.json: \$: is 524\d{5} bytes, more than the 4 MiB a registry document may hold/);
    expect(status.revision).toBe(good);
    expect(await metric('process_resident_memory_bytes')).toBeLessThan(MEMORY_LIMIT);

    // 100,000 services with all their fields pass 4 MiB (the size limit stops them); written
    // compactly they stay under it and meet the entry limit
    const bare = JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`s${i}`, {}])));
    expect(Buffer.byteLength(bare)).toBeLessThan(4 * 1024 * 1024);
    await writeFile(path.join(registryDir, 'services.json'), bare);
    await expect.poll(async () => (await daemon.status()).registryError ?? '', POLL).toContain('holds 100000 entries, more than the 10000');
    status = await daemon.status();
    expect(status.registryError).toMatch(/registry\/services\.json: \$: holds 100000 entries/);
    expect(status.revision).toBe(good);
    expect(await metric('process_resident_memory_bytes')).toBeLessThan(MEMORY_LIMIT);

    // the command line says the same (dns reads the registry without the daemon's lock), exit 2
    const dns = await runCourier(configFile, ['dns', '--json']);
    expect(dns.code).toBe(2);
    expect(dns.json).toMatchObject({ error: { code: 'REGISTRY_INVALID', message: expect.stringContaining('services.json: $: holds 100000 entries') } });
    // fixed: applied again
    writeRegistry(registryDir, registry, ['services.json']);
    await expect.poll(() => metric('courier_registry_valid'), POLL).toBe(1);
  });
});
