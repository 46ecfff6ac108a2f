/**
 * editRegistry against a real concurrent writer: someone writes the document between the edit's
 * read and its write. On Kubernetes that is a genuine 409 (stale resourceVersion), on files a
 * changed file; either way the edit starts over from a fresh read and both changes survive.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { addDomain } from '../../controller/registry-edit/edit-domains.js';
import { editRegistry, type RegistryDocumentStore } from '../../controller/registry-edit/edit-registry.js';
import { createFilesDocumentStore } from '../../controller/registry-edit/files-document-store.js';
import { createKubernetesDocumentStore } from '../../controller/registry-edit/kubernetes-document-store.js';
import type { RegistryEdit } from '../../controller/registry-edit/model.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';
import { createSite } from './run-courier.js';

const NOW = new Date('2026-03-04T05:06:07Z');
const EDIT: RegistryEdit = { document: 'domains.json', plan: (current, origin) => addDomain(current, 'example.org', 'Lab', { now: NOW, actor: 'test@host', origin }) };
const DOMAINS = { domains: { 'example.com': { description: 'main' } }, vps_nodes: [] };
const THEIRS = { domains: { 'example.com': { description: 'main' }, 'theirs.net': { description: 'written meanwhile' } }, vps_nodes: [] };

/** The store, with `meddle` run once just before its first write. */
function withInterference(store: RegistryDocumentStore, meddle: () => Promise<void>): RegistryDocumentStore & { writes: number } {
  const wrapped = {
    writes: 0,
    read: store.read.bind(store),
    async write(text: string, read: Parameters<RegistryDocumentStore['write']>[1]) {
      wrapped.writes += 1;
      if (wrapped.writes === 1) await meddle();
      return store.write(text, read);
    },
  };
  return wrapped;
}

let server: KubeApiServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('concurrent edits', () => {
  it('a ConfigMap written between read and replace gets a real 409; the retry keeps both changes', async () => {
    server = await startKubeApiServer();
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig());
    server.setConfigMap('kube-system', 'domain-registry', { 'domains.json': JSON.stringify(DOMAINS, null, 2), 'routing.json': '{}' });
    const store = withInterference(createKubernetesDocumentStore(kc, 'kube-system'), async () => {
      server!.setConfigMap('kube-system', 'domain-registry', { 'domains.json': JSON.stringify(THEIRS, null, 2), 'routing.json': '{}' });
    });
    const change = await editRegistry(store, EDIT);
    expect(change.action).toBe('added');
    expect(store.writes).toBe(2);
    const stored = JSON.parse(String((server.getConfigMap('kube-system', 'domain-registry')!.data as Record<string, string>)['domains.json'])) as { domains: object };
    expect(Object.keys(stored.domains)).toEqual(['example.com', 'theirs.net', 'example.org']);
  });

  it('a file changed between read and write is read again; the retry keeps both changes', async () => {
    const site = await createSite('source:\n  type: files\n');
    const file = path.join(site.dir, 'registry', 'domains.json');
    await mkdir(path.dirname(file));
    await writeFile(file, JSON.stringify(DOMAINS, null, 2) + '\n');
    const store = withInterference(createFilesDocumentStore(path.dirname(file), { displayBase: site.dir }), () => writeFile(file, JSON.stringify(THEIRS, null, 2) + '\n'));
    await editRegistry(store, EDIT);
    expect(store.writes).toBe(2);
    expect(Object.keys((JSON.parse(await readFile(file, 'utf8')) as { domains: object }).domains)).toEqual(['example.com', 'theirs.net', 'example.org']);
  });
});
