import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCrd, buildOpenApiSchema, toStructural, type JsonSchema } from './crd.ts';
import { OUTPUTS, renderCrd } from './generate.ts';
import { apiAuthRule, blobAuthRule, replicaRangeRule, serviceBusAuthRule } from './ocrpipeline.ts';
import { walkSchema } from './testing/openapi-validate.ts';

const schema = buildOpenApiSchema();
const at = (path: string): JsonSchema =>
  path.split('.').reduce<JsonSchema>((node, k) => (node.properties as Record<string, JsonSchema>)[k] as JsonSchema, schema);

void test('the committed CRD files match the zod schema (npm run generate is up to date)', () => {
  const expected = renderCrd();
  for (const file of OUTPUTS) assert.equal(readFileSync(file, 'utf8'), expected, `${file} is stale: run npm run generate`);
});

void test('the schema is structural: no node has both properties and additionalProperties, no $ref, no oneOf/allOf', () => {
  walkSchema(schema, (node, path) => {
    assert.ok(!(node.properties && node.additionalProperties), `${path} has both properties and additionalProperties`);
    assert.equal(node.$ref, undefined, `${path} has $ref`);
    assert.equal(node.oneOf, undefined, `${path} has oneOf`);
    assert.equal(node.allOf, undefined, `${path} has allOf`);
    assert.equal(node.propertyNames, undefined, `${path} has propertyNames`);
    if (node.anyOf) assert.equal(node['x-kubernetes-int-or-string'], true, `${path} has anyOf outside an int-or-string`);
    if (!node['x-kubernetes-int-or-string']) assert.ok(typeof node.type === 'string', `${path} has no single type`);
  });
});

void test('every field of the spec and status has a description', () => {
  for (const root of ['spec', 'status']) {
    walkSchema(at(root), (node, path) => {
      const props = (node.properties ?? {}) as Record<string, JsonSchema>;
      for (const [k, v] of Object.entries(props))
        assert.ok(typeof v.description === 'string' && v.description.length > 0, `${root}${path}.${k} has no description`);
    });
  }
});

void test('defaults are carried into the CRD', () => {
  assert.equal(at('spec.imagePullPolicy').default, 'IfNotPresent');
  assert.deepEqual(at('spec.languages').default, ['eng']);
  assert.equal(at('spec.worker.scaling.provider').default, 'prometheus-adapter');
  assert.equal(at('spec.worker.scaling.countInFlight').default, true);
  assert.equal(at('spec.api.probes.liveness.timeoutSeconds').default, 10);
  assert.deepEqual(at('spec.worker').default, {});
  assert.equal(at('spec.api.auth').default, 'apiKeys');
});

const rulesAt = (path: string) => (at(path)['x-kubernetes-validations'] ?? []) as { rule: string; message: string }[];

const celCases: [string, string, { rule: string; message: string }][] = [
  ['API replicas', 'spec.api.replicas', replicaRangeRule],
  ['worker replicas', 'spec.worker.replicas', replicaRangeRule],
  ['Service Bus authentication', 'spec.queue.serviceBus', serviceBusAuthRule],
  ['Blob Storage authentication', 'spec.storage.blob', blobAuthRule],
  ['API authentication', 'spec.api', apiAuthRule],
];
for (const [name, path, rule] of celCases) {
  void test(`the CRD carries the ${name} CEL rule with its message at ${path}`, () => {
    assert.deepEqual(rulesAt(path), [{ rule: rule.rule, message: rule.message }]);
  });
}

void test('the CRD is namespaced, short-named ocrp, with a status subresource and the printer columns', () => {
  const crd = buildCrd() as {
    spec: { scope: string; names: { shortNames: string[] }; versions: { subresources: unknown; additionalPrinterColumns: { name: string }[] }[] };
  };
  assert.equal(crd.spec.scope, 'Namespaced');
  assert.deepEqual(crd.spec.names.shortNames, ['ocrp']);
  const v = crd.spec.versions[0];
  assert.deepEqual(v?.subresources, { status: {} });
  assert.deepEqual(
    v?.additionalPrinterColumns.map((c) => c.name),
    ['Ready', 'Backlog', 'Workers', 'Engine', 'Age'],
  );
});

const conversions: [string, JsonSchema, JsonSchema][] = [
  [
    'a nullable anyOf becomes nullable: true',
    { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'd' },
    { type: 'string', description: 'd', nullable: true },
  ],
  [
    'strict objects lose additionalProperties: false',
    { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
    { type: 'object', properties: { a: { type: 'string' } } },
  ],
  [
    'records lose propertyNames',
    { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'string' } },
    { type: 'object', additionalProperties: { type: 'string' } },
  ],
  ['safe-integer bounds are dropped', { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 }, { type: 'integer' }],
  ['numeric exclusiveMinimum becomes the boolean form', { type: 'number', exclusiveMinimum: 0 }, { type: 'number', minimum: 0, exclusiveMinimum: true }],
];
for (const [name, input, output] of conversions) {
  void test(`toStructural: ${name}`, () => assert.deepEqual(toStructural(input), output));
}

void test('toStructural refuses a union it cannot express, naming the field', () => {
  assert.throws(() => toStructural({ anyOf: [{ type: 'string' }, { type: 'integer' }], description: 'the field' }), /the field/);
});
