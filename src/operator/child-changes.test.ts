import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ChildChanges, PipelineChanges } from './child-changes.ts';

const pipeline = (generation: number, rv: string, status: unknown = {}, deleting = false): KubernetesObject =>
  ({
    metadata: { namespace: 'ns', name: 'p', generation, resourceVersion: rv, ...(deleting ? { deletionTimestamp: new Date(0) } : {}) },
    status,
  }) as KubernetesObject;

void test('pipeline events wake a reconcile on add, a new generation, a deletion mark and delete, never on a status-only update', () => {
  const c = new PipelineChanges();
  const steps: [string, 'add' | 'update' | 'delete', KubernetesObject, string | undefined][] = [
    ['added', 'add', pipeline(1, '1'), 'ns/p'],
    ['our status write', 'update', pipeline(1, '2', { observedGeneration: 1 }), undefined],
    ['another status write', 'update', pipeline(1, '3', { observedGeneration: 1, x: 1 }), undefined],
    ['a spec change', 'update', pipeline(2, '4'), 'ns/p'],
    ['marked for deletion', 'update', pipeline(2, '5', {}, true), 'ns/p'],
    ['deleted', 'delete', pipeline(2, '6', {}, true), 'ns/p'],
  ];
  for (const [what, verb, o, expected] of steps) assert.equal(c.changed(verb, o), expected, what);
});

const deployment = (over: { rv: string; replicas?: number; ready?: number; time?: number; labels?: Record<string, string> }): KubernetesObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      namespace: 'ns',
      name: 'p-api',
      resourceVersion: over.rv,
      labels: over.labels ?? { 'ocrplatform.io/pipeline': 'p' },
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', time: new Date(over.time ?? 0) }],
    },
    spec: { replicas: over.replicas ?? 2 },
    status: { readyReplicas: over.ready ?? 0 },
  }) as KubernetesObject;

void test('child events wake the owning pipeline only when what the reconcile reads changed', () => {
  const c = new ChildChanges();
  const steps: [string, 'add' | 'update' | 'delete', KubernetesObject, string | undefined][] = [
    ['a child appears', 'add', deployment({ rv: '1' }), 'ns/p'],
    ['only resourceVersion and managedFields times moved', 'update', deployment({ rv: '2', time: 5 }), undefined],
    ['a replica became ready', 'update', deployment({ rv: '3', ready: 1 }), 'ns/p'],
    ['spec.replicas changed (the HPA)', 'update', deployment({ rv: '4', ready: 1, replicas: 3 }), 'ns/p'],
    ['the same again (a relist)', 'update', deployment({ rv: '5', ready: 1, replicas: 3 }), undefined],
    ['the child is deleted', 'delete', deployment({ rv: '6', ready: 1, replicas: 3 }), 'ns/p'],
    ['an object without the pipeline label wakes nothing', 'add', deployment({ rv: '7', labels: {} }), undefined],
  ];
  for (const [what, verb, o, expected] of steps) assert.equal(c.changed(verb, 'Deployment', o), expected, what);
});
