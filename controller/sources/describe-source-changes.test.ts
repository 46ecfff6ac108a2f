import { describe, expect, it } from 'vitest';
import { describeSourceChanges } from './describe-source-changes.js';
import type { RegistrySnapshot } from '../registry/model.js';

const snapshot: RegistrySnapshot = {
  trigger: 'configmaps in kube-system at resourceVersion 120',
  documents: {
    'services.json': { name: 'services.json', origin: 'configmap/service-registry/services.json', format: 'json', text: '{}', version: 'configmap service-registry resourceVersion 107' },
    'domains.json': { name: 'domains.json', origin: 'configmap/domain-registry/domains.json', format: 'json', text: '{}', version: 'configmap domain-registry resourceVersion 99' },
    'routing.json': { name: 'routing.json', origin: 'configmap/domain-registry/routing.json', format: 'json', text: '{}', version: 'configmap domain-registry resourceVersion 99' },
    'registry.json': { name: 'registry.json', origin: 'registry/registry.json', format: 'json', text: '{}' },
  },
};

describe('describeSourceChanges', () => {
  it('names the source version of each changed document once, and only changed documents', () => {
    expect(describeSourceChanges(snapshot, [{ document: 'services.json' }])).toEqual(['configmap service-registry resourceVersion 107']);
    expect(describeSourceChanges(snapshot, [{ document: 'domains.json' }, { document: 'routing.json' }, { document: 'services.json' }])).toEqual([
      'configmap domain-registry resourceVersion 99',
      'configmap service-registry resourceVersion 107',
    ]);
    expect(describeSourceChanges(snapshot, [{ document: 'registry.json' }, { document: 'cluster-domain' }])).toEqual(['file registry/registry.json', 'cluster-domain removed from the source']);
    const files: RegistrySnapshot = {
      trigger: 'files: registry',
      documents: {
        'services.json': { name: 'services.json', origin: 'registry/services.json', format: 'json', text: '{}' },
        'routing.json': { name: 'routing.json', origin: 'registry/routing.yaml', format: 'yaml', text: '{}' },
      },
    };
    expect(describeSourceChanges(files, [{ document: 'routing.json' }, { document: 'services.json' }])).toEqual(['files registry/routing.yaml, registry/services.json']);
    expect(describeSourceChanges(snapshot, [])).toEqual([]);
  });
});
