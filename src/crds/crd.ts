// Builds the OcrPipeline CustomResourceDefinition from the zod schema. zod's own
// toJSONSchema gives JSON Schema 2020-12; the API server wants a *structural* OpenAPI v3
// schema, so toStructural rewrites the few constructs that differ (see its comments).
import { z } from 'zod';
import { API_VERSION, GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION, ocrPipelineSpecSchema, ocrPipelineStatusSchema } from './ocrpipeline.ts';

export type JsonSchema = { [key: string]: unknown };

const isObject = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Rewrites one JSON Schema node (and its children) into a structural OpenAPI v3 node:
 * - `anyOf: [X, {type: null}]` (zod's nullable) becomes X with `nullable: true`;
 * - records lose `propertyNames` (OpenAPI v3.0 has no such keyword);
 * - `additionalProperties: false` (zod's strict objects) is dropped: a structural schema
 *   prunes, and with kubectl's default strict field validation rejects, unknown fields;
 * - `x-kubernetes-preserve-unknown-fields` nodes keep only their type, no sub-schema;
 * - int-or-string nodes use the one anyOf shape the API server allows, without a type,
 *   and keep a string pattern on the node itself;
 * - integer bounds that only restate JavaScript's safe-integer range are dropped;
 * - numeric exclusiveMinimum/Maximum (2020-12) become the boolean form (OpenAPI v3.0).
 */
export function toStructural(node: JsonSchema): JsonSchema {
  let n: JsonSchema = { ...node };
  delete n.$schema;

  if (Array.isArray(n.anyOf)) {
    const branches = n.anyOf as JsonSchema[];
    const nonNull = branches.filter((b) => b.type !== 'null');
    if (nonNull.length === 1 && branches.length === 2) {
      const { anyOf: _drop, ...rest } = n;
      n = { ...nonNull[0], ...rest, nullable: true };
    }
  }

  if (n['x-kubernetes-int-or-string'] === true) {
    const stringBranch = (Array.isArray(n.anyOf) ? (n.anyOf as JsonSchema[]) : []).find((b) => b.type === 'string');
    const out: JsonSchema = { 'x-kubernetes-int-or-string': true };
    if (n.description !== undefined) out.description = n.description;
    if (n.default !== undefined) out.default = n.default;
    // Exactly this anyOf is allowed beside int-or-string; a pattern goes on the node itself
    // (it applies to string values only), as controller-gen does for resource quantities.
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    if (stringBranch?.pattern !== undefined) out.pattern = stringBranch.pattern;
    return out;
  }

  if (n.anyOf !== undefined || n.oneOf !== undefined || n.allOf !== undefined || n.$ref !== undefined) {
    throw new Error(`cannot express ${JSON.stringify(Object.keys(n))} structurally; restructure the zod schema (description: ${String(n.description)})`);
  }

  if (n['x-kubernetes-preserve-unknown-fields'] === true) {
    delete n.additionalProperties;
    delete n.propertyNames;
    delete n.properties;
  }

  delete n.propertyNames;
  if (n.additionalProperties === false) delete n.additionalProperties;
  if (n.additionalProperties !== undefined && n.properties !== undefined) {
    throw new Error(`a node may not have both properties and additionalProperties (description: ${String(n.description)})`);
  }

  if (n.type === 'integer') {
    if (typeof n.minimum === 'number' && n.minimum <= Number.MIN_SAFE_INTEGER) delete n.minimum;
    if (typeof n.maximum === 'number' && n.maximum >= Number.MAX_SAFE_INTEGER) delete n.maximum;
  }
  for (const [key, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof n[key] === 'number') {
      n[bound] = n[key];
      n[key] = true;
    }
  }

  if (isObject(n.properties)) {
    n.properties = Object.fromEntries(Object.entries(n.properties).map(([k, v]) => [k, toStructural(v as JsonSchema)]));
  }
  if (isObject(n.additionalProperties)) n.additionalProperties = toStructural(n.additionalProperties);
  if (isObject(n.items)) n.items = toStructural(n.items);
  return n;
}

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  // io: 'input' so fields with defaults are optional, as a user writes them.
  return toStructural(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }));
}

export const CRD_NAME = `${PLURAL}.${GROUP}`;

export function buildOpenApiSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'An OcrPipeline runs OCR at scale: an HTTP API, queue-driven autoscaled workers and their metrics, from one image.',
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      // The API server forbids anything but type here (metadata is implicitly specified).
      metadata: { type: 'object' },
      spec: { ...jsonSchemaOf(ocrPipelineSpecSchema), description: 'Desired state of the pipeline.' },
      status: { ...jsonSchemaOf(ocrPipelineStatusSchema), description: 'Observed state of the pipeline, written by the operator.' },
    },
    required: ['spec'],
  };
}

export function buildCrd(): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: {
      group: GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES, categories: ['ocr'] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            {
              name: 'Ready',
              type: 'string',
              jsonPath: '.status.conditions[?(@.type=="Ready")].status',
              description: 'Whether the API and workers are available.',
            },
            {
              name: 'Backlog',
              type: 'integer',
              jsonPath: '.status.scaling.backlog',
              description: 'Messages the workers scale on (waiting, plus in flight when countInFlight is set).',
            },
            { name: 'Workers', type: 'integer', jsonPath: '.status.worker.readyReplicas', description: 'Ready worker pods.' },
            { name: 'Engine', type: 'string', jsonPath: '.status.ocr.engine', description: 'The OCR engine the workers run (spec.ocr.engine, auto resolved).' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: { openAPIV3Schema: buildOpenApiSchema() },
        },
      ],
    },
  };
}

export { API_VERSION };
