// The records partition of a pipeline: the namespace keeps pipelines of the same name apart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pipelinePartition } from './records.ts';

void describe('the records partition of a pipeline', () => {
  const cases: { name: string; pipeline: string; namespace: string | undefined; partition: string }[] = [
    { name: 'is <namespace>.<pipeline> in a namespace', pipeline: 'receipts', namespace: 'finance', partition: 'finance.receipts' },
    { name: 'differs for the same pipeline name in another namespace', pipeline: 'receipts', namespace: 'marketing', partition: 'marketing.receipts' },
    {
      name: 'is the pipeline name alone without a namespace (data from before stays readable)',
      pipeline: 'receipts',
      namespace: undefined,
      partition: 'receipts',
    },
    { name: 'treats an empty namespace as none', pipeline: 'receipts', namespace: '', partition: 'receipts' },
    { name: 'keeps a dotted pipeline name whole after the first dot', pipeline: 'a.b', namespace: 'team-1', partition: 'team-1.a.b' },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.equal(pipelinePartition(c.pipeline, c.namespace), c.partition));
  }

  // A namespace is a DNS label; anything else could hold a `.` (ambiguous) or a character Table keys refuse.
  for (const namespace of ['a.b', 'a/b', 'a#b', 'a?b', 'a\\b', 'Finance', '-x', 'x-', 'n'.repeat(64)]) {
    void it(`refuses the namespace ${JSON.stringify(namespace)}`, () => assert.throws(() => pipelinePartition('p', namespace), /not a Kubernetes namespace/));
  }
});
