// Generates charts/ocr-platform/values.schema.json from values.yaml, so the values file
// stays the one place a value is documented (the way cert-manager's helm-tool does it).
//   node scripts/chart-values-schema.ts          write the schema   (npm run chart:schema)
//   node scripts/chart-values-schema.ts --check  exit 1 when stale  (npm run chart:schema:check)
//
// Rules, so that a mistyped key fails `helm install` instead of being silently ignored:
// - every object gets `additionalProperties: false`, except values marked as a map
//   (`+schema:map=T`: free keys, typed values) or a passthrough (`+schema:passthrough`:
//   a Kubernetes object copied into a manifest unchanged, which the API server validates);
// - a type comes from the default value, or from `+schema:type=` when the default cannot
//   say (null, or a value that may be a number or a string);
// - a description comes from the helm-docs style `# --` comment above the key; a key
//   without one is an error, so nothing undocumented can be added.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node, Pair, YAMLMap } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const VALUES_FILE = join(root, 'charts', 'ocr-platform', 'values.yaml');
export const SCHEMA_FILE = join(root, 'charts', 'ocr-platform', 'values.schema.json');

const JSON_TYPES = new Set(['string', 'integer', 'number', 'boolean', 'object', 'array', 'null']);

export type JsonSchema = { [key: string]: unknown };

/** What the `# --` comment block above a key says. */
export interface KeyDoc {
  description: string;
  markers: Map<string, string>;
}

/**
 * Reads the last `# --` block of a comment (the yaml package hands over the comment text
 * without the `#`). Lines after the `--` line continue the description, except marker
 * lines (`+schema:name=value`). Text before the block (a file header, a section note)
 * is not part of the description.
 */
export function parseKeyDoc(comment: string | null | undefined): KeyDoc | undefined {
  if (!comment) return undefined;
  const lines = comment.split('\n').map((l) => l.trim());
  const start = lines.findLastIndex((l) => l === '--' || l.startsWith('-- '));
  if (start === -1) return undefined;
  const text: string[] = [lines[start]!.slice(2).trim()];
  const markers = new Map<string, string>();
  for (const line of lines.slice(start + 1)) {
    if (line === '') break;
    const marker = /^\+schema:([a-z]+)(?:=(.*))?$/.exec(line);
    if (marker) markers.set(marker[1]!, marker[2] ?? '');
    else text.push(line);
  }
  return { description: text.join(' ').trim(), markers };
}

/** Errors are collected with the value's path, so one run lists every problem. */
class SchemaErrors {
  readonly messages: string[] = [];
  add(path: string, message: string): void {
    this.messages.push(`${path}: ${message}`);
  }
}

function scalarType(value: unknown): string | undefined {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return undefined;
}

function typesFrom(marker: string, path: string, errors: SchemaErrors): string | string[] | undefined {
  const types = marker.split(',').map((t) => t.trim());
  const unknown = types.filter((t) => !JSON_TYPES.has(t));
  if (unknown.length > 0) {
    errors.add(path, `unknown type ${unknown.join(', ')} in +schema:type (use ${[...JSON_TYPES].join(', ')})`);
    return undefined;
  }
  return types.length === 1 ? types[0] : types;
}

/** The schema of one value: its node in values.yaml plus what its comment says. */
function valueSchema(node: unknown, doc: KeyDoc, path: string, errors: SchemaErrors): JsonSchema {
  const m = doc.markers;
  const schema: JsonSchema = { description: doc.description };
  const value = isScalar(node) ? node.value : (node as Node | null)?.toJSON();

  if (m.has('passthrough')) {
    if (isMap(node)) schema.type = 'object';
    else if (isSeq(node)) Object.assign(schema, { type: 'array', items: { type: 'object' } });
    else errors.add(path, '+schema:passthrough needs an object or a list as the default');
  } else if (m.has('map')) {
    if (!isMap(node)) errors.add(path, '+schema:map needs an object as the default');
    const itemType = typesFrom(m.get('map') ?? '', path, errors);
    Object.assign(schema, { type: 'object', additionalProperties: { type: itemType } });
  } else if (m.has('type')) {
    schema.type = typesFrom(m.get('type') ?? '', path, errors);
  } else if (isMap(node)) {
    Object.assign(schema, objectSchema(node, path, errors));
    schema.description = doc.description;
  } else if (isSeq(node)) {
    const first = node.items[0];
    const itemType = m.get('items') ?? (isScalar(first) ? scalarType(first.value) : undefined);
    if (itemType === undefined) errors.add(path, 'cannot tell the type of the list items: add +schema:items=<type> or +schema:passthrough');
    else schema.items = { type: typesFrom(itemType, path, errors) };
    schema.type = 'array';
  } else {
    const type = scalarType(value);
    if (type === undefined) errors.add(path, 'cannot tell the type of a null default: add +schema:type=<type>');
    else schema.type = type;
  }

  if (m.has('enum')) schema.enum = (m.get('enum') ?? '').split(',').map((v) => v.trim());
  if (m.has('pattern')) schema.pattern = m.get('pattern');
  if (m.has('minimum')) {
    const minimum = Number(m.get('minimum'));
    if (Number.isNaN(minimum)) errors.add(path, `+schema:minimum=${m.get('minimum')} is not a number`);
    else schema.minimum = minimum;
  }
  // Nested objects list their defaults per property; repeating them whole adds only noise.
  if (value !== null && value !== undefined && schema.properties === undefined) schema.default = value;
  return schema;
}

/**
 * The comment above a key: on the key itself, except for the first key of a nested map,
 * whose comment the yaml package attaches to the map.
 */
function commentOf(pair: Pair, index: number, map: YAMLMap): string | null | undefined {
  const own = (pair.key as Node | null)?.commentBefore;
  return own ?? (index === 0 ? map.commentBefore : undefined);
}

function objectSchema(map: YAMLMap, path: string, errors: SchemaErrors): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  map.items.forEach((pair, index) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const keyPath = path ? `${path}.${key}` : key;
    const doc = parseKeyDoc(commentOf(pair, index, map));
    if (!doc || doc.description === '') {
      errors.add(keyPath, 'missing `# -- <description>` comment above the key');
    }
    properties[key] = valueSchema(pair.value, doc ?? { description: '', markers: new Map() }, keyPath, errors);
  });
  return { type: 'object', additionalProperties: false, properties };
}

/** Builds the schema from the text of values.yaml; throws listing every problem found. */
export function buildValuesSchema(valuesYaml: string): JsonSchema {
  const doc = parseDocument(valuesYaml);
  if (doc.errors.length > 0) throw new Error(`values.yaml does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
  if (!isMap(doc.contents)) throw new Error('values.yaml must be a map at the top level');
  const errors = new SchemaErrors();
  const schema = objectSchema(doc.contents, '', errors);
  if (errors.messages.length > 0) throw new Error(`values.yaml cannot be turned into a schema:\n  ${errors.messages.join('\n  ')}`);
  const properties = schema.properties as Record<string, JsonSchema>;
  // Helm hands `global` to every chart, this one included when it is a dependency of
  // another; refusing it would make the chart impossible to use as a subchart.
  properties.global ??= { type: 'object', description: 'Values shared with every chart of a release (set by a parent chart).' };
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'ocr-platform chart values', ...schema };
}

export function renderValuesSchema(valuesYaml: string): string {
  return `${JSON.stringify(buildValuesSchema(valuesYaml), null, 2)}\n`;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const content = renderValuesSchema(await readFile(VALUES_FILE, 'utf8'));
  const current = await readFile(SCHEMA_FILE, 'utf8').catch(() => undefined);
  const name = relative(root, SCHEMA_FILE);
  if (current === content) {
    console.log(`${name} is up to date`);
  } else if (check) {
    console.error(`${name} is ${current === undefined ? 'missing' : 'stale'}: run \`npm run chart:schema\` and commit the result`);
    process.exit(1);
  } else {
    await writeFile(SCHEMA_FILE, content);
    console.log(`wrote ${name}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
