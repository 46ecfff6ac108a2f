/**
 * Opt-in: reads MyNodeOne's registry ConfigMaps from a real cluster with the kubernetes source.
 * Runs only when KUBECONFIG is set (namespace from COURIER_TEST_NAMESPACE, default kube-system);
 * otherwise a single test states that it was not run and why, so the skip is never silent.
 */
import { describe, expect, it } from 'vitest';
import { DOCUMENT_CONFIGMAPS, DOCUMENT_NAMES } from '../controller/registry/model.js';
import { createKubernetesSource } from '../controller/sources/kubernetes-source.js';

const kubeconfig = process.env.KUBECONFIG ?? '';
const namespace = process.env.COURIER_TEST_NAMESPACE ?? 'kube-system';

describe.runIf(kubeconfig !== '')(`real cluster (opt-in, running because KUBECONFIG=${kubeconfig})`, () => {
  it(`reads the five registry documents from ConfigMaps in ${namespace}`, async () => {
    const source = createKubernetesSource({ namespace, watchdogMs: 300_000 });
    try {
      const snapshot = await source.read();
      expect(snapshot.trigger).toMatch(new RegExp(`^configmaps in ${namespace} at resourceVersion \\S+$`));
      for (const name of DOCUMENT_NAMES) {
        const doc = snapshot.documents[name];
        if (doc === undefined) continue;
        const { configMap, key } = DOCUMENT_CONFIGMAPS[name];
        expect(doc.origin).toBe(`configmap/${configMap}/${key}`);
        expect(typeof doc.text).toBe('string');
        if (doc.format === 'json') expect(() => JSON.parse(doc.text) as unknown, `${doc.origin} is not JSON`).not.toThrow();
      }
    } finally {
      await source.close();
    }
  });
});

describe.runIf(kubeconfig === '')('real cluster (opt-in: set KUBECONFIG to run it against a cluster)', () => {
  it('is not run against a real cluster because KUBECONFIG is not set', () => {
    expect(kubeconfig, 'the real-cluster test runs only with KUBECONFIG=<kubeconfig file> (and optionally COURIER_TEST_NAMESPACE)').toBe('');
  });
});
