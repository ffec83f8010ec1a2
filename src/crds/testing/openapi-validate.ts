// Test-only (src/**/testing/** is excluded from the image build, tsconfig.build.json).
// A small validator for the structural OpenAPI v3 subset the generated CRD uses, so tests
// can show the CRD schema and the zod schema accept and reject the same specs without an
// API server. It mirrors the API server's checks for: type, properties/required,
// unknown fields (kubectl's default strict field validation), additionalProperties, items,
// enum, pattern, min/max, minLength/maxLength, minItems/maxItems, int-or-string,
// preserve-unknown-fields and nullable. CEL rules are not evaluated here.
import type { JsonSchema } from '../crd.ts';

export function validateOpenApi(schema: JsonSchema, value: unknown, path = 'spec'): string[] {
  if (value === null && schema.nullable === true) return [];
  if (schema['x-kubernetes-int-or-string'] === true) {
    if (Number.isInteger(value)) return [];
    if (typeof value !== 'string') return [`${path}: must be an integer or a string`];
    return typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value) ? [`${path}: must match ${schema.pattern}`] : [];
  }
  const errors: string[] = [];
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: must be an object`];
      if (schema['x-kubernetes-preserve-unknown-fields'] === true && !schema.properties) return [];
      const obj = value as Record<string, unknown>;
      const props = schema.properties as Record<string, JsonSchema> | undefined;
      for (const req of (schema.required as string[] | undefined) ?? []) if (!(req in obj)) errors.push(`${path}.${req}: required`);
      for (const [k, v] of Object.entries(obj)) {
        const sub = props?.[k] ?? (schema.additionalProperties as JsonSchema | undefined);
        if (!sub) errors.push(`${path}.${k}: unknown field`);
        else errors.push(...validateOpenApi(sub, v, `${path}.${k}`));
      }
      return errors;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${path}: must be an array`];
      if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(`${path}: at least ${schema.minItems} items`);
      if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errors.push(`${path}: at most ${schema.maxItems} items`);
      value.forEach((v, i) => errors.push(...validateOpenApi(schema.items as JsonSchema, v, `${path}[${i}]`)));
      return errors;
    }
    case 'string':
      if (typeof value !== 'string') return [`${path}: must be a string`];
      if (typeof schema.minLength === 'number' && value.length < schema.minLength) errors.push(`${path}: too short`);
      if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) errors.push(`${path}: too long`);
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) errors.push(`${path}: must match ${schema.pattern}`);
      if (schema.format === 'uri' && !URL.canParse(value)) errors.push(`${path}: must be a URI`);
      break;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (schema.type === 'integer' && !Number.isInteger(value)))
        return [`${path}: must be ${schema.type === 'integer' ? 'an integer' : 'a number'}`];
      if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${path}: must be >= ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${path}: must be <= ${schema.maximum}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return [`${path}: must be a boolean`];
      break;
    default:
      return [`${path}: schema node without a type`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${path}: must be one of ${schema.enum.join(', ')}`);
  return errors;
}

/** Calls fn on every schema node with its path. */
export function walkSchema(schema: JsonSchema, fn: (node: JsonSchema, path: string) => void, path = ''): void {
  fn(schema, path);
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) walkSchema(v, fn, `${path}.${k}`);
  if (schema.items && typeof schema.items === 'object') walkSchema(schema.items as JsonSchema, fn, `${path}[]`);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') walkSchema(schema.additionalProperties as JsonSchema, fn, `${path}{}`);
}
