// The values.schema.json generator (scripts/chart-values-schema.ts): how comments and
// markers in values.yaml become JSON Schema, and that the committed schema is current.
// No helm needed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import {
  buildValuesSchema,
  injectTable,
  parseKeyDoc,
  README_FILE,
  renderValuesSchema,
  SCHEMA_FILE,
  valuesTable,
  VALUES_FILE,
} from '../../scripts/chart-values-schema.ts';
import { FULL_VALUES } from './helm.ts';

void describe('values.schema.json generator', () => {
  void it('the committed values.schema.json matches values.yaml (run `npm run chart:schema` when this fails)', async () => {
    const [values, schema] = await Promise.all([readFile(VALUES_FILE, 'utf8'), readFile(SCHEMA_FILE, 'utf8')]);
    assert.equal(schema, renderValuesSchema(values));
  });

  void it('the values table in the chart README matches values.yaml (run `npm run chart:schema` when this fails)', async () => {
    const [values, readme] = await Promise.all([readFile(VALUES_FILE, 'utf8'), readFile(README_FILE, 'utf8')]);
    assert.equal(readme, injectTable(readme, valuesTable(buildValuesSchema(values))));
  });

  void it('writes one table row per value, escaping pipes in descriptions', () => {
    const table = valuesTable(buildValuesSchema('# -- A | B.\na: 1\n# -- Obj.\no:\n  # -- Inner.\n  i: x\n'));
    assert.deepEqual(table.split('\n').slice(2), ['| `a` | integer | `1` | A \\| B. |', '| `o.i` | string | `"x"` | Inner. |']);
  });

  const cases: { name: string; yaml: string; expected: Record<string, unknown> }[] = [
    {
      name: 'a string default becomes a string with the comment as description',
      yaml: '# -- Log level.\nlogLevel: info\n',
      expected: { logLevel: { description: 'Log level.', type: 'string', default: 'info' } },
    },
    {
      name: 'continuation lines join the description and markers add constraints',
      yaml: '# -- Replicas of\n# the operator.\n# +schema:minimum=0\nreplicas: 2\n',
      expected: { replicas: { description: 'Replicas of the operator.', type: 'integer', minimum: 0, default: 2 } },
    },
    {
      name: 'an enum marker lists the allowed values',
      yaml: '# -- Policy.\n# +schema:enum=Always,Never\npolicy: Always\n',
      expected: { policy: { description: 'Policy.', type: 'string', enum: ['Always', 'Never'], default: 'Always' } },
    },
    {
      name: 'a type marker allows a number or a string',
      yaml: '# -- Minimum available.\n# +schema:type=integer,string\nminAvailable: 1\n',
      expected: { minAvailable: { description: 'Minimum available.', type: ['integer', 'string'], default: 1 } },
    },
    {
      name: 'a map marker allows free keys with typed values',
      yaml: '# -- Labels.\n# +schema:map=string\nlabels: {}\n',
      expected: { labels: { description: 'Labels.', type: 'object', additionalProperties: { type: 'string' }, default: {} } },
    },
    {
      name: 'a passthrough object is left open for the API server to validate',
      yaml: '# -- Affinity.\n# +schema:passthrough\naffinity: {}\n',
      expected: { affinity: { description: 'Affinity.', type: 'object', default: {} } },
    },
    {
      name: 'an empty list takes its item type from the items marker',
      yaml: '# -- Namespaces.\n# +schema:items=string\nnamespaces: []\n',
      expected: { namespaces: { description: 'Namespaces.', type: 'array', items: { type: 'string' }, default: [] } },
    },
    {
      name: 'a list of numbers takes its item type from the first item',
      yaml: '# -- Ports.\nports: [443, 6443]\n',
      expected: { ports: { description: 'Ports.', type: 'array', items: { type: 'integer' }, default: [443, 6443] } },
    },
    {
      name: 'a nested object is closed, and its first key is documented by the comment inside it',
      yaml: '# -- Image.\nimage:\n  # -- Tag.\n  tag: ""\n  # -- Pull.\n  pull: true\n',
      expected: {
        image: {
          description: 'Image.',
          type: 'object',
          additionalProperties: false,
          properties: { tag: { description: 'Tag.', type: 'string', default: '' }, pull: { description: 'Pull.', type: 'boolean', default: true } },
        },
      },
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const schema = buildValuesSchema(c.yaml);
      const { global: _global, ...properties } = schema.properties as Record<string, unknown>;
      assert.deepEqual(properties, c.expected);
      assert.equal(schema.additionalProperties, false);
    });
  }

  const failures: { name: string; yaml: string; message: RegExp }[] = [
    { name: 'a key without a `# --` comment is refused', yaml: 'a: 1\n', message: /a: missing `# -- <description>` comment/ },
    { name: 'a plain comment is not a description', yaml: '# just a note\na: 1\n', message: /a: missing/ },
    { name: 'an empty list without an item type is refused', yaml: '# -- List.\nl: []\n', message: /l: cannot tell the type of the list items/ },
    { name: 'a null default without a type marker is refused', yaml: '# -- Nothing.\nn: null\n', message: /n: cannot tell the type of a null default/ },
    { name: 'an unknown type in a marker is refused', yaml: '# -- X.\n# +schema:type=int\nx: 1\n', message: /x: unknown type int/ },
    { name: 'every problem is listed, with its path', yaml: '# -- O.\no:\n  a: 1\n  b: 2\n', message: /o\.a: missing[\s\S]*o\.b: missing/ },
  ];
  for (const c of failures) {
    void it(c.name, () => {
      assert.throws(() => buildValuesSchema(c.yaml), c.message);
    });
  }

  void it('keeps only the last `# --` block of a comment, so a file header is not a description', () => {
    assert.deepEqual(parseKeyDoc(' Header text\n\n -- The value.\n +schema:minimum=1'), { description: 'The value.', markers: new Map([['minimum', '1']]) });
  });

  void it('lets a parent chart pass `global` although every other unknown key is refused', () => {
    const schema = buildValuesSchema('# -- A.\na: 1\n');
    assert.equal((schema.properties as Record<string, { type: string }>).global?.type, 'object');
  });

  void it('values-full.yaml sets every value of values.yaml, so the full snapshot covers each one', async () => {
    const [values, full] = await Promise.all([readFile(VALUES_FILE, 'utf8'), readFile(FULL_VALUES, 'utf8')]);
    const schema = buildValuesSchema(values);
    const missing = leafPaths(schema).filter((path) => !hasPath(parse(full), path));
    assert.deepEqual(missing, [], `values-full.yaml lacks: ${missing.join(', ')}`);
  });
});

/** Dotted paths of the values that are not closed objects (leaves, maps, lists, passthroughs). */
function leafPaths(schema: Record<string, unknown>, prefix = ''): string[] {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties || schema.additionalProperties !== false) return [prefix];
  return Object.entries(properties)
    .filter(([key]) => !(prefix === '' && key === 'global'))
    .flatMap(([key, child]) => leafPaths(child, prefix ? `${prefix}.${key}` : key));
}

function hasPath(value: unknown, path: string): boolean {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !(key in current)) return false;
    current = (current as Record<string, unknown>)[key];
  }
  return true;
}
