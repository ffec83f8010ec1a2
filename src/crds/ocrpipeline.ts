// The OcrPipeline resource (ocrplatform.io/v1alpha1) as one zod schema. It is the single
// source of the TypeScript types, of runtime validation in the operator, and of the CRD's
// openAPIV3Schema (src/crds/crd.ts converts it). Every field carries a description because
// `kubectl explain` shows them to users, and defaults live here so the API server and the
// operator agree on them.
import { z } from 'zod';
import { JOB_DEFAULTS, RETRY_DEFAULTS, STAGE_TIMEOUT_DEFAULTS } from '../contract/container.ts';
import { IMAGE_LANGUAGES, OCR_ENGINES, PADDLE_LANGUAGES, type OcrEngineName } from '../contract/image.ts';

export const GROUP = 'ocrplatform.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'OcrPipeline';
export const PLURAL = 'ocrpipelines';
export const SINGULAR = 'ocrpipeline';
export const SHORT_NAMES = ['ocrp'];

// ---------------------------------------------------------------------------------------
// Cross-field rules. Each rule is written once, as a CEL expression for the API server and
// as a TypeScript check for zod, side by side, so the two cannot drift apart. The CEL
// side lands in the CRD as `x-kubernetes-validations` on the object the rule is attached
// to; the zod side runs as a refinement on the same object.
// ---------------------------------------------------------------------------------------

export interface CrossFieldRule<T> {
  /** CEL expression evaluated by the API server with `self` bound to the object. */
  rule: string;
  /** What a user reads when the rule fails: says what to change. */
  message: string;
  /** The same rule in TypeScript, evaluated on zod's output (defaults applied, like CEL). */
  check: (self: T) => boolean;
}

/** Attaches rules to an object schema: zod refinements plus the CRD's CEL twins. */
function withRules<S extends z.ZodType>(schema: S, rules: CrossFieldRule<z.output<S>>[]) {
  return schema
    .superRefine((value, ctx) => {
      for (const r of rules) {
        if (!r.check(value)) ctx.addIssue({ code: 'custom', message: r.message, input: value });
      }
    })
    .meta({ 'x-kubernetes-validations': rules.map(({ rule, message }) => ({ rule, message })) });
}

export const replicaRangeRule: CrossFieldRule<{ min: number; max: number }> = {
  rule: 'self.min <= self.max',
  message: 'replicas.min must be less than or equal to replicas.max',
  check: (self) => self.min <= self.max,
};

export const serviceBusAuthRule: CrossFieldRule<{ namespace?: string | undefined; connectionStringSecretRef?: unknown }> = {
  rule: 'has(self.namespace) != has(self.connectionStringSecretRef)',
  message: 'set exactly one of queue.serviceBus.namespace (workload identity) or queue.serviceBus.connectionStringSecretRef',
  check: (self) => (self.namespace !== undefined) !== (self.connectionStringSecretRef !== undefined),
};

export const apiAuthRule: CrossFieldRule<{ auth?: string | undefined; apiKeysSecretRef?: unknown }> = {
  // has(self.auth): the API server checks the schema's default ({}) against this rule before defaults fill in auth.
  rule: "!(has(self.auth) && self.auth == 'disabled' && has(self.apiKeysSecretRef))",
  message: 'api.auth disabled runs the API without keys: remove api.apiKeysSecretRef, or set api.auth to apiKeys',
  check: (self) => !(self.auth === 'disabled' && self.apiKeysSecretRef !== undefined),
};

export const blobAuthRule: CrossFieldRule<{ accountUrl?: string | undefined; connectionStringSecretRef?: unknown; api?: unknown; worker?: unknown }> = {
  // Neither is allowed only when both components have a connection string of their own: then no pod uses the shared one.
  rule: 'has(self.accountUrl) ? !has(self.connectionStringSecretRef) : (has(self.connectionStringSecretRef) || (has(self.api) && has(self.worker)))',
  message:
    'set exactly one of storage.blob.accountUrl (workload identity) or storage.blob.connectionStringSecretRef ' +
    '(neither only when storage.blob.api and storage.blob.worker both set a connectionStringSecretRef)',
  check: (self) =>
    self.accountUrl !== undefined
      ? self.connectionStringSecretRef === undefined
      : self.connectionStringSecretRef !== undefined || (self.api !== undefined && self.worker !== undefined),
};

// ---------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------

const int32 = () => z.number().int().max(2147483647);

const dnsLabel = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase DNS name (a-z, 0-9, "-", ".")');

export const secretKeyRefSchema = z
  .object({
    name: dnsLabel.describe("Name of a Secret in the pipeline's namespace."),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/, 'must be a valid Secret data key')
      .describe("Key inside the Secret's data."),
  })
  .strict();
export type SecretKeyRef = z.output<typeof secretKeyRefSchema>;

/** storage.blob.api / .worker and queue.serviceBus.api / .worker: one component's own connection string. */
const componentConnectionSchema = (service: string, component: 'api' | 'worker', rights: string) =>
  z
    .object({
      connectionStringSecretRef: secretKeyRefSchema.describe(
        `Secret key holding the ${component === 'api' ? 'API' : "workers'"} own ${service} connection string (${rights}). ` +
          `Only the ${component === 'api' ? 'API' : 'worker'} pods get it; the other component keeps the shared reference.`,
      ),
    })
    .strict()
    .optional();

// Regexes here must also compile as Go RE2 (the API server checks CRD patterns): no lookarounds.
export const QUANTITY_PATTERN = /^[+-]?[0-9.]+([eE][+-]?[0-9]+|[a-zA-Z]*)$/;

/** Kubernetes quantity: a string like "500m" or "1Gi", or a plain number. */
const quantity = z
  .union([z.string().regex(QUANTITY_PATTERN, 'must be a Kubernetes quantity such as 500m or 1Gi'), z.number().int()])
  .meta({ 'x-kubernetes-int-or-string': true })
  .describe('A Kubernetes quantity, for example 500m or 1Gi.');

const resourcesSchema = (defaults: { requests: Record<string, string>; limits: Record<string, string> }) =>
  z
    .object({
      requests: z.record(z.string(), quantity).optional().describe('Minimum compute resources the scheduler reserves (cpu, memory, ...).'),
      limits: z.record(z.string(), quantity).optional().describe('Maximum compute resources the container may use.'),
    })
    .strict()
    .default(defaults)
    .describe('Compute resources of each container, as in a Pod spec.');

const replicasSchema = (min: number, max: number, floor: number) =>
  withRules(
    z
      .object({
        min: int32().min(floor).default(min).describe(`Fewest replicas the autoscaler may run (default ${min}).`),
        max: int32().min(1).default(max).describe(`Most replicas the autoscaler may run (default ${max}).`),
      })
      .strict(),
    [replicaRangeRule],
  )
    // A full default, not {}: the API server checks defaults against the CEL rule without
    // filling in nested defaults first, and `self.min` on {} would fail.
    .prefault({ min, max })
    .describe('Replica bounds. With min == max the Deployment has a fixed size and no HorizontalPodAutoscaler.');

const scalingPolicySchema = z
  .object({
    type: z.enum(['Pods', 'Percent']).describe('Pods: change by a number of pods; Percent: by a percentage of the current replicas.'),
    value: int32().min(1).describe('Amount of change allowed per period (pods or percent).'),
    periodSeconds: int32().min(1).max(1800).describe('Window in seconds over which the policy holds (1-1800).'),
  })
  .strict();

const scalingRulesSchema = z
  .object({
    stabilizationWindowSeconds: int32().min(0).max(3600).optional().describe('Seconds of past recommendations considered before scaling (0-3600).'),
    selectPolicy: z.enum(['Max', 'Min', 'Disabled']).optional().describe('Which policy wins when several apply; Disabled turns this direction off.'),
    policies: z.array(scalingPolicySchema).optional().describe('Rate limits for scaling in this direction.'),
  })
  .strict();

/** Scale up at once (the larger of doubling or +4 pods per 15 s), scale down slowly. */
export const DEFAULT_BEHAVIOR = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max' as const,
    policies: [
      { type: 'Percent' as const, value: 100, periodSeconds: 15 },
      { type: 'Pods' as const, value: 4, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: 'Max' as const,
    policies: [{ type: 'Percent' as const, value: 50, periodSeconds: 60 }],
  },
};

const behaviorSchema = z
  .object({
    scaleUp: scalingRulesSchema.optional().describe('How fast replicas are added.'),
    scaleDown: scalingRulesSchema.optional().describe('How fast replicas are removed.'),
  })
  .strict()
  .default(DEFAULT_BEHAVIOR)
  .describe(
    'HorizontalPodAutoscaler (autoscaling/v2) behavior. Default: scale up at once (stabilization 0 s, the larger of 100% and 4 pods per 15 s), scale down slowly (300 s window, at most 50% per 60 s).',
  );

const probeSchema = (what: string, d: { initialDelaySeconds: number; periodSeconds: number; timeoutSeconds: number; failureThreshold: number }) =>
  z
    .object({
      initialDelaySeconds: int32().min(0).default(d.initialDelaySeconds).describe(`Seconds before the first probe (default ${d.initialDelaySeconds}).`),
      periodSeconds: int32().min(1).default(d.periodSeconds).describe(`Seconds between probes (default ${d.periodSeconds}).`),
      timeoutSeconds: int32().min(1).default(d.timeoutSeconds).describe(`Seconds before a probe times out (default ${d.timeoutSeconds}).`),
      failureThreshold: int32().min(1).default(d.failureThreshold).describe(`Consecutive failures before the probe fails (default ${d.failureThreshold}).`),
    })
    .strict()
    .prefault({})
    .describe(what);

// Liveness is tolerant because OCR saturates the CPU and a slow /live must not kill a busy
// pod; startup allows minutes of model loading; readiness is strict so traffic moves fast.
export const PROBE_DEFAULTS = {
  liveness: { initialDelaySeconds: 0, periodSeconds: 60, timeoutSeconds: 10, failureThreshold: 3 },
  readiness: { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 2 },
  startup: { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 30 },
};

const probesSchema = z
  .object({
    liveness: probeSchema(
      'Liveness probe on /live: restarts a container that stopped answering. Tolerant by default (timeout 10 s, period 60 s, 3 failures).',
      PROBE_DEFAULTS.liveness,
    ),
    readiness: probeSchema(
      'Readiness probe on /ready: takes a pod out of rotation. Strict by default (timeout 5 s, period 10 s, 2 failures).',
      PROBE_DEFAULTS.readiness,
    ),
    startup: probeSchema(
      'Startup probe on /live: holds the other probes back while the process starts. Default allows 5 minutes (30 x 10 s).',
      PROBE_DEFAULTS.startup,
    ),
  })
  .strict()
  .prefault({})
  .describe('Probe timings. Paths and ports are fixed by the container contract.');

const toleranceSchema = z
  .object({
    key: z.string().optional().describe('Taint key the toleration applies to; empty matches all keys.'),
    operator: z.enum(['Exists', 'Equal']).optional().describe('Exists or Equal (default Equal).'),
    value: z.string().optional().describe('Taint value to match with operator Equal.'),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional().describe('Taint effect to match; empty matches all effects.'),
    tolerationSeconds: z.number().int().optional().describe('For NoExecute: seconds the pod stays bound after the taint appears.'),
  })
  .strict();

const labelMap = z.record(z.string(), z.string());

/** api.maxUploadBytes bounds: the API's own reader refuses below 1 KiB; 64 MiB keeps concurrent uploads inside the default 512 Mi pod limit. */
export const MAX_UPLOAD_BYTES_RANGE = { min: 1024, max: 64 * 1024 * 1024 } as const;

/** api.serviceAccountName / worker.serviceAccountName: a component's own workload identity. */
const componentServiceAccount = (component: 'API' | 'worker') =>
  dnsLabel
    .optional()
    .describe(
      `ServiceAccount the ${component} pods run as, overriding pod.serviceAccountName: federate it with an identity holding only the ` +
        `${component}'s roles (docs/security.md).`,
    );

/**
 * api.webhooks defaults and bounds: the API's own (src/api/config.ts, WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOWED_HOSTS,
 * WEBHOOK_MAX_CONCURRENT). The operator sets those variables only when a value differs from these, so the API
 * Deployment of a pipeline that leaves webhooks alone stays as it was.
 */
export const WEBHOOK_DEFAULTS = {
  allowHttp: false,
  allowedHosts: [] as readonly string[],
  maxConcurrent: 16,
  // The outbox's retry schedule (src/api/webhooks/dispatcher.ts): WEBHOOK_ATTEMPTS, WEBHOOK_BASE_DELAY_MS, WEBHOOK_MAX_DELAY_MS.
  attempts: 10,
  retryBaseDelaySeconds: 10,
  maxRetryDelaySeconds: 1200,
} as const;
export const WEBHOOK_MAX_CONCURRENT_RANGE = { min: 1, max: 1000 } as const;

const IPV4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const HOST_NAME = String.raw`(\*\.)?[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?`;
const IPV4_CIDR = String.raw`${IPV4_OCTET}(\.${IPV4_OCTET}){3}/([0-9]|[12][0-9]|3[0-2])`;
const IPV6 = '[0-9a-fA-F.]*:[0-9a-fA-F:.]*(/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))?';
/**
 * One api.webhooks.allowedHosts entry, as src/jobs/egress.ts reads it: a host name (a bare IPv4 address is one too), `*.domain`,
 * an IPv4 CIDR, or an IPv6 address or CIDR. RE2-compatible. An IPv6 text this accepts but the API cannot parse stops the API
 * at start-up with a message naming the entry, which the pipeline's Degraded condition shows.
 */
export const WEBHOOK_HOST_PATTERN = new RegExp(`^(${HOST_NAME}|${IPV4_CIDR}|${IPV6})$`);

const webhooksSchema = z
  .object({
    allowHttp: z
      .boolean()
      .default(WEBHOOK_DEFAULTS.allowHttp)
      .describe('Accept http:// webhook URLs as well as https:// (WEBHOOK_ALLOW_HTTP; default false: https only).'),
    allowedHosts: z
      .array(
        z
          .string()
          .min(1)
          .max(253)
          .regex(WEBHOOK_HOST_PATTERN, 'must be a host name, *.domain, IP address or CIDR such as hooks.internal, *.svc.cluster.local or 10.20.0.0/16'),
      )
      .max(64)
      .default([...WEBHOOK_DEFAULTS.allowedHosts])
      .describe(
        'Internal webhook receivers the API may call although they are loopback, private, link-local or cluster-internal ' +
          '(WEBHOOK_ALLOWED_HOSTS; default none): host names (exact, case-insensitive), *.domain (any name under it), IP addresses ' +
          'and CIDRs (10.20.0.0/16, fd12::/16). A listed name skips the name and address checks; an address inside a listed range ' +
          'passes. The https rule (see allowHttp) still holds. With networkPolicy.enabled, open the receiver in networkPolicy.egress too.',
      ),
    maxConcurrent: int32()
      .min(WEBHOOK_MAX_CONCURRENT_RANGE.min)
      .max(WEBHOOK_MAX_CONCURRENT_RANGE.max)
      .default(WEBHOOK_DEFAULTS.maxConcurrent)
      .describe(
        'Webhook requests on the wire at once per API replica (WEBHOOK_MAX_CONCURRENT; default 16, 1 to 1000); more wait in a ' +
          'bounded queue, and retry waits hold no slot.',
      ),
    attempts: int32()
      .min(1)
      .max(50)
      .default(WEBHOOK_DEFAULTS.attempts)
      .describe(
        'Attempts per webhook before the job shows webhookDelivery.state failed (WEBHOOK_ATTEMPTS; default 10, 1 to 50). Every ' +
          'attempt is recorded in the webhook outbox, so retries survive API restarts and any replica makes the next one.',
      ),
    retryBaseDelaySeconds: int32()
      .min(1)
      .max(600)
      .default(WEBHOOK_DEFAULTS.retryBaseDelaySeconds)
      .describe(
        'Delay before the first webhook retry, in seconds (WEBHOOK_BASE_DELAY_MS; default 10, 1 to 600); doubled per attempt up to ' +
          'maxRetryDelaySeconds, each delay drawn between half and all of it. The defaults spread 10 attempts over 30 to 60 minutes.',
      ),
    maxRetryDelaySeconds: int32()
      .min(1)
      .max(86_400)
      .default(WEBHOOK_DEFAULTS.maxRetryDelaySeconds)
      .describe('Longest delay between two webhook attempts, in seconds (WEBHOOK_MAX_DELAY_MS; default 1200, 1 to 86400).'),
  })
  .strict()
  .prefault({})
  .describe('Where the API may deliver webhooks (they need spec.webhookSecretRef); by default https to public addresses only.');

// ---------------------------------------------------------------------------------------
// Spec
// ---------------------------------------------------------------------------------------

const apiSchema = withRules(
  z
    .object({
      replicas: replicasSchema(2, 10, 1),
      resources: resourcesSchema({ requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } }),
      autoscaling: z
        .object({
          targetCPUUtilizationPercentage: int32()
            .min(1)
            .max(100)
            .default(70)
            .describe('Average CPU utilization (percent of requests) the HPA aims for (default 70).'),
          behavior: behaviorSchema,
        })
        .strict()
        .prefault({})
        .describe('CPU-based HorizontalPodAutoscaler for the API, used when replicas.min < replicas.max.'),
      probes: probesSchema,
      service: z
        .object({
          type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP').describe('Service type (default ClusterIP).'),
          port: int32().min(1).max(65535).default(80).describe('Port the Service exposes; it forwards to the API container port 8080 (default 80).'),
        })
        .strict()
        .prefault({})
        .describe('The Service in front of the API pods.'),
      maxUploadBytes: int32()
        .min(MAX_UPLOAD_BYTES_RANGE.min)
        .max(MAX_UPLOAD_BYTES_RANGE.max)
        .default(20 * 1024 * 1024)
        .describe(
          'Largest image accepted on a direct upload, in bytes (default 20 MiB; 1 KiB to 64 MiB). The API buffers an upload in memory and ' +
            'its pods have a 512 Mi limit by default, so larger values would let a few concurrent uploads exhaust a pod; the API refuses below 1 KiB.',
        ),
      rateLimitPerMinute: int32().min(1).default(600).describe('Requests per minute allowed per API key (default 600).'),
      maxBacklog: int32()
        .min(1)
        .optional()
        .describe(
          'Largest queue backlog (messages waiting) at which the API still accepts new jobs; at or above it new jobs get 503 ' +
            'QUEUE_BACKLOG_FULL with Retry-After, while cache hits and reads still answer. Unset (default): no limit. The API replicas ' +
            "read the backlog the operator polls for scaling every 5 s (the operator's --backlog-url, which the chart sets) and admit " +
            'new jobs when it cannot be read for 30 s. Size it from the longest wait a job may have: backlog = workers x jobs per second x seconds. ' +
            "With networkPolicy.enabled the API pods' policy lets them reach the operator's namespace on the operator's metrics port.",
        ),
      auth: z
        .enum(['apiKeys', 'disabled'])
        .default('apiKeys')
        .describe(
          'How callers authenticate: apiKeys (default) requires a key from apiKeysSecretRef, or from the Secret <pipeline>-api-keys the operator ' +
            'generates without it; disabled accepts unauthenticated requests and is the only way to run the API open.',
        ),
      jobTokenSecretRef: secretKeyRefSchema
        .optional()
        .describe(
          'Secret key holding the keys that sign the job tokens of upload URLs (JOB_TOKEN_SECRET): one or more secrets separated by commas; ' +
            'the first signs, every one verifies, so rotate by writing "new,old", waiting one upload-URL lifetime (900 s), then "new". ' +
            'Unset (default): the key is derived from webhookSecretRef when set, else from the API keys file, so changing those ' +
            'invalidates upload URLs issued before (submit answers 403 JOB_TOKEN_INVALID; the client creates a new job). With auth ' +
            'disabled and no webhook secret, set it: each API replica would otherwise sign with a key of its own. docs/api.md "Job tokens".',
        ),
      apiKeysSecretRef: secretKeyRefSchema
        .optional()
        .describe(
          'Secret key holding the API keys file, mounted read-only at /etc/ocr/api-keys: one key per line as name:key, where a name is 1 to 63 ' +
            'letters, digits, ".", "_" or "-" starting with a letter or digit and owns the jobs its key creates; a name ending in .admin marks ' +
            'an admin key, which sees every job. A line whose text before its first ":" is not such a name is one key as written (named ' +
            'key-<line number>); blank lines and lines starting with # are skipped. Without it (and with ' +
            'auth apiKeys) the operator generates the Secret <pipeline>-api-keys, owned by the pipeline, holding one random key under "keys"; ' +
            'status.api.keysSecret names it. The operator never overwrites that Secret, so you may rotate the key in it.',
        ),
      serviceAccountName: componentServiceAccount('API'),
      webhooks: webhooksSchema,
    })
    .strict(),
  [apiAuthRule],
)
  .prefault({})
  .describe('The HTTP API: accepts jobs and serves results.');

const workerSchema = z
  .object({
    replicas: replicasSchema(1, 10, 0),
    concurrency: int32().min(1).max(64).default(1).describe('Messages one worker pod processes at once (default 1; OCR is CPU-bound, so about one per CPU).'),
    resources: resourcesSchema({ requests: { cpu: '1', memory: '512Mi' }, limits: { memory: '1Gi' } }),
    scaling: z
      .object({
        provider: z
          .enum(['prometheus-adapter', 'keda'])
          .default('prometheus-adapter')
          .describe(
            'External metrics provider serving ocr_queue_backlog: prometheus-adapter (the operator creates an HPA) or keda (a KEDA ScaledObject owns scaling).',
          ),
        messagesPerReplica: int32().min(1).default(5).describe('Backlog one worker should carry: the HPA target AverageValue (default 5).'),
        activationMessages: int32().min(0).default(0).describe('Backlog above which workers scale from zero (only with replicas.min 0; default 0).'),
        countInFlight: z
          .boolean()
          .default(true)
          .describe('Count messages locked and being processed as backlog, so workers are not scaled in while busy (default true).'),
        behavior: behaviorSchema,
      })
      .strict()
      .prefault({})
      .describe('Queue-driven autoscaling of the workers, used when replicas.min < replicas.max.'),
    probes: probesSchema,
    maxJobSeconds: int32()
      .min(1)
      .max(3600)
      .default(120)
      .describe('Longest time one job may take, in seconds; the pod termination grace period is this plus 30 s so a draining worker can finish (default 120).'),
    serviceAccountName: componentServiceAccount('worker'),
  })
  .strict()
  .prefault({})
  .describe('The OCR workers: consume the queue and write results.');

const serviceBusSchema = withRules(
  z
    .object({
      namespace: z
        .string()
        .regex(/^[a-zA-Z0-9][-a-zA-Z0-9.]*\.[a-zA-Z]{2,}$/, 'must be a fully qualified namespace such as contoso.servicebus.windows.net')
        .optional()
        .describe(
          'Fully qualified Service Bus namespace (for example contoso.servicebus.windows.net), authenticated with workload identity. ' +
            'The operator contacts only names under .servicebus.windows.net, .servicebus.usgovcloudapi.net, .servicebus.chinacloudapi.cn ' +
            'and its --servicebus-suffixes; any other gets QueueReachable=False (NamespaceNotAllowed).',
        ),
      connectionStringSecretRef: secretKeyRefSchema
        .optional()
        .describe(
          'Secret key holding a Service Bus connection string, instead of namespace. Its Endpoint host must pass the same suffix check; ' +
            'UseDevelopmentEmulator=true strings work only with the operator flag --allow-development-emulator.',
        ),
      queueName: z.string().min(1).max(260).describe('Queue the API sends jobs to and the workers receive from.'),
      maxDeliveryCount: int32()
        .min(1)
        .max(2000)
        .default(10)
        .describe(
          'Deliveries before the broker dead-letters a message (default 10). The operator sets it on the queue when its credential has Manage, ' +
            'else reports QueueConfigured=False (QueueSettingsDiffer) with both values.',
        ),
      lockDurationSeconds: int32()
        .min(5)
        .max(300)
        .default(60)
        .describe(
          'Peek-lock duration in seconds (default 60); applied to the queue like maxDeliveryCount. Workers renew the lock while they work, ' +
            'by the lock time the broker returns.',
        ),
      api: componentConnectionSchema('Service Bus', 'api', 'Send and Listen on the queue: Listen for the readiness peek and the dead-letter subqueue').describe(
        "The API's own connection string (SAS policy with Send and Listen), instead of the shared one.",
      ),
      worker: componentConnectionSchema('Service Bus', 'worker', 'Send and Listen on the queue: Send schedules retries').describe(
        "The workers' own connection string (SAS policy with Send and Listen); the operator then passes maxDeliveryCount to them, which needs Manage to read.",
      ),
    })
    .strict(),
  [serviceBusAuthRule],
).describe(
  'Azure Service Bus queue. Set exactly one of namespace or connectionStringSecretRef: the operator reads queue runtime properties with it ' +
    '(Manage), and the API and the workers use it unless api or worker name a connection string of their own.',
);

const blobSchema = withRules(
  z
    .object({
      accountUrl: z
        .url({ protocol: /^https?$/ })
        .optional()
        .describe('Blob service URL (for example https://contoso.blob.core.windows.net), authenticated with workload identity.'),
      connectionStringSecretRef: secretKeyRefSchema.optional().describe('Secret key holding a Storage connection string, instead of accountUrl.'),
      container: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a valid container name: 3-63 lowercase letters, digits and hyphens')
        .describe('Blob container for uploads and results.'),
      api: componentConnectionSchema('Storage', 'api', 'with AccountKey: the API signs upload URLs with it').describe(
        "The API's own Storage connection string, instead of the shared one. It must carry an AccountKey (the API signs upload URLs).",
      ),
      worker: componentConnectionSchema('Storage', 'worker', 'an account SAS with Blob and Table read, write and create is enough').describe(
        "The workers' own Storage connection string, instead of the shared one: an account SAS scoped to Blob and Table keeps the key off the workers.",
      ),
    })
    .strict(),
  [blobAuthRule],
).describe(
  'Azure Blob Storage (and the jobs Table of the same account). Set exactly one of accountUrl or connectionStringSecretRef; ' +
    'neither only when api and worker both name a connection string of their own. The operator itself never reads Storage.',
);

export const LANGUAGE_PATTERN = /^[a-z]{3}(_[a-z]+)?$/;

/** An IPv4 or IPv6 CIDR such as 10.20.0.0/16 or fd00::/8 (the API server checks the address itself when the policy is applied). */
export const CIDR_PATTERN = /^(([0-9]{1,3}\.){3}[0-9]{1,3}\/[0-9]{1,2}|[0-9a-fA-F:]*:[0-9a-fA-F:]*\/[0-9]{1,3})$/;
const cidr = z.string().regex(CIDR_PATTERN, 'must be a CIDR such as 10.20.0.0/16 or fd00::/8');

const networkPolicySchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Create one NetworkPolicy per component that limits the pods to: egress DNS (kube-system, port 53), TCP 443 and 5671 to public addresses ' +
          '(Azure services, webhooks) and the egress list; ingress to the API port from anywhere and to the metrics ports only from ' +
          'metricsNamespaceLabels (default false). Needs a network plugin that enforces NetworkPolicy.',
      ),
    metricsNamespaceLabels: labelMap
      .optional()
      .describe(
        'Labels of the namespaces allowed to reach the metrics ports (the API admin port 9090 and the worker port 9090), for example ' +
          '{kubernetes.io/metadata.name: monitoring} for Prometheus. Absent: no namespace may.',
      ),
    egress: z
      .array(
        z
          .object({
            cidr: cidr.describe('Destination addresses, for example 10.20.0.0/16 (an internal webhook receiver or an emulator).'),
            except: z.array(cidr).max(16).optional().describe('Addresses inside cidr that stay closed.'),
            ports: z
              .array(
                z
                  .object({
                    port: int32().min(1).max(65535).describe('Destination port.'),
                    protocol: z.enum(['TCP', 'UDP']).default('TCP').describe('TCP (default) or UDP.'),
                  })
                  .strict(),
              )
              .min(1)
              .max(16)
              .optional()
              .describe('Destination ports; absent: every port.'),
          })
          .strict(),
      )
      .max(32)
      .optional()
      .describe('More egress the pods may use, beyond DNS and public 443 and 5671: internal receivers, a private endpoint, an emulator.'),
  })
  .strict()
  .prefault({})
  .describe('An egress (and ingress) NetworkPolicy for the pipeline pods, off by default.');

/**
 * Deadlines, recovery and retention of a pipeline's jobs (docs/job-states.md). The API pods run the recovery loop;
 * defaults are JOB_DEFAULTS (src/contract/container.ts), and the operator sets a variable only when the spec differs.
 */
export const JOBS_DEFAULTS = JOB_DEFAULTS;

const stageSeconds = (stage: string, variable: string, dflt: number, what: string) =>
  int32()
    .min(1)
    .max(3600)
    .default(dflt)
    .describe(`Longest ${what}, in seconds (${variable}; default ${dflt}, 1 to 3600); over it the ${stage} is stopped and the job retried (STAGE_TIMEOUT).`);

const stageTimeoutsSchema = z
  .object({
    downloadSeconds: stageSeconds('download', 'WORKER_DOWNLOAD_TIMEOUT_SECONDS', STAGE_TIMEOUT_DEFAULTS.downloadSeconds, 'read of one image from Blob Storage'),
    preprocessSeconds: stageSeconds(
      'decode',
      'WORKER_PREPROCESS_TIMEOUT_SECONDS',
      STAGE_TIMEOUT_DEFAULTS.preprocessSeconds,
      'decode, rotation and scaling of one image (it counts as an OCR timeout, see retries.maxTimeouts)',
    ),
    storeSeconds: stageSeconds('write', 'WORKER_STORE_TIMEOUT_SECONDS', STAGE_TIMEOUT_DEFAULTS.storeSeconds, 'write of one result to Blob Storage'),
  })
  .strict()
  .prefault({})
  .describe(
    "Time limits of a worker's stages per job; recognition has what is left of worker.maxJobSeconds. The worker reads them (WORKER_*_TIMEOUT_SECONDS).",
  );

const jobsSchema = z
  .object({
    uploadDeadlineSeconds: int32()
      .min(900)
      .max(30 * 86400)
      .default(JOBS_DEFAULTS.uploadDeadlineSeconds)
      .describe(
        'A job still awaiting_upload this long after its last change becomes expired and its upload is deleted (JOB_UPLOAD_DEADLINE_SECONDS; ' +
          'default 3600, 900 to 2592000; at least the 900 s upload URL lifetime).',
      ),
    queuedDeadlineSeconds: int32()
      .min(60)
      .max(7 * 86400)
      .default(JOBS_DEFAULTS.queuedDeadlineSeconds)
      .describe(
        'A job queued unchanged this long gets its queue message sent again, in case the send was lost (JOB_QUEUED_DEADLINE_SECONDS; default 1800, ' +
          '60 to 604800). A duplicate is safe: the result is written once. Keep it above the longest backlog you expect.',
      ),
    processingDeadlineSeconds: int32()
      .min(60)
      .max(7 * 86400)
      .default(JOBS_DEFAULTS.processingDeadlineSeconds)
      .describe(
        'A job processing unchanged this long is sent again (JOB_PROCESSING_DEADLINE_SECONDS; default 900, 60 to 604800); keep it above ' +
          'worker.maxJobSeconds plus the queue lock duration (each delivery rewrites the record and restarts this clock).',
      ),
    maxRequeues: int32()
      .min(0)
      .max(100)
      .default(JOBS_DEFAULTS.maxRequeues)
      .describe(
        'Times recovery sends a stale queued or processing job again before it fails it with QUEUE_TIMEOUT or PROCESSING_TIMEOUT ' +
          '(JOB_MAX_REQUEUES; default 3, 0 to 100).',
      ),
    retentionHours: int32()
      .min(1)
      .max(24 * 3650)
      .default(JOBS_DEFAULTS.retentionHours)
      .describe(
        'Finished jobs (succeeded, failed, expired) older than this are deleted with their upload, input and result (JOB_RETENTION_HOURS; ' +
          'default 168 = 7 days). Pair it with a Blob lifecycle rule (docs/job-states.md).',
      ),
    resultCacheTtlHours: int32()
      .min(1)
      .max(24 * 3650)
      .default(JOBS_DEFAULTS.resultCacheTtlHours)
      .describe('A repeated image is answered from an earlier result for this long (RESULT_CACHE_TTL_HOURS; default 24).'),
    recoveryIntervalSeconds: int32()
      .min(5)
      .max(50)
      .default(JOBS_DEFAULTS.recoveryIntervalSeconds)
      .describe(
        'Seconds between recovery passes (RECOVERY_INTERVAL_SECONDS; default 30, 5 to 50). One API replica at a time runs them, holding a ' +
          '60 s Blob lease it renews each pass; another replica takes over within a minute when it dies.',
      ),
    stageTimeouts: stageTimeoutsSchema,
  })
  .strict()
  .prefault({})
  .describe(
    'Job deadlines, recovery and retention. The API pods read the dead-letter queue (the job fails with its reason and the webhook fires), ' +
      'send stale queued and processing jobs again, expire jobs whose upload never came, and delete finished jobs after retentionHours.',
  );

/** Retries with backoff of transient job failures (src/worker/retries.ts); defaults are RETRY_DEFAULTS (src/contract/container.ts). */
const retriesSchema = z
  .object({
    maxAttempts: int32()
      .min(1)
      .max(100)
      .default(RETRY_DEFAULTS.maxAttempts)
      .describe(
        'Attempts of a job in all, the first included (WORKER_RETRY_MAX_ATTEMPTS; default 5, 1 to 100). After a transient failure of the last ' +
          'one the job fails as DELIVERY_LIMIT_EXCEEDED and its message is dead-lettered.',
      ),
    baseDelaySeconds: int32()
      .min(1)
      .max(3600)
      .default(RETRY_DEFAULTS.baseDelaySeconds)
      .describe(
        'Shortest wait before a retry, in seconds (WORKER_RETRY_BASE_DELAY_SECONDS; default 5). The wait after attempt n is drawn at random ' +
          'between this and min(maxDelaySeconds, baseDelaySeconds * 2^(n-1)).',
      ),
    maxDelaySeconds: int32()
      .min(1)
      .max(86400)
      .default(RETRY_DEFAULTS.maxDelaySeconds)
      .describe(
        'Longest wait before a retry, in seconds (WORKER_RETRY_MAX_DELAY_SECONDS; default 300). A job waiting for its retry is queued: keep ' +
          'jobs.queuedDeadlineSeconds above this, or recovery sends it again early (harmless, but it spends the wait).',
      ),
    maxTimeouts: int32()
      .min(1)
      .max(100)
      .default(RETRY_DEFAULTS.maxTimeouts)
      .describe(
        'OCR timeouts (worker.maxJobSeconds spent) of one job after which it fails as OCR_FAILED instead of being retried ' +
          '(WORKER_RETRY_MAX_TIMEOUTS; default 2): an image that timed out twice would most likely time out again.',
      ),
  })
  .strict()
  .prefault({})
  .describe(
    'Retries of transient failures (image not visible yet, storage or OCR engine errors, OCR timeouts): the worker schedules the next ' +
      'attempt as a new queue message after a growing, jittered delay, and the job is queued until then (it shows nextAttemptAt and ' +
      'lastErrorCode). Permanent failures (a corrupt or too large image) fail at once. The workers need Send on the queue as well as Listen.',
  );

/** Engines a worker image carries; `paddle` reads the languages in PADDLE_LANGUAGES only (src/contract/image.ts). */
export { OCR_ENGINES, PADDLE_LANGUAGES, type OcrEngineName };
export const OCR_DOCUMENT_DEFAULTS = { maxPages: 20, pdfDpi: 200, pdfTextLayer: true } as const;
/** spec.ocr.tesseractModel: auto lets the worker pick fast when Debian's files are there for every language, else best. */
export const TESSERACT_MODELS = ['auto', 'best', 'fast'] as const;

const ocrSchema = z
  .object({
    engine: z
      .enum(['auto', ...OCR_ENGINES])
      .default('auto')
      .describe(
        'OCR engine of the workers (default auto): auto = paddle when every language of spec.languages is one paddle reads (eng, chi_sim), ' +
          'else tesseract; the operator resolves it per pipeline and shows the result in status.ocr.engine. paddle (PaddleOCR PP-OCRv4 through ' +
          'onnxruntime, eng and chi_sim only) has about half the character errors of tesseract on scanned receipts (CER 0.098 against 0.187) ' +
          'at about the same CPU per receipt, which is why auto prefers it; tesseract (tesseract.js) reads every installed language. ' +
          'See bench/ocr/RESULTS.md.',
      ),
    requestEngines: z
      .array(z.enum(OCR_ENGINES))
      .min(1)
      .max(OCR_ENGINES.length)
      .refine((list) => new Set(list).size === list.length, 'must not name an engine twice')
      .meta({ 'x-kubernetes-list-type': 'set' })
      .optional()
      .describe(
        'Engines a job may ask for with its engine option (POST /v1/jobs options.engine, the engine field of POST /v1/ocr and /v1/ocr/receipt); ' +
          'a job without one is read by the pipeline engine (spec.ocr.engine as resolved), which a job may always name. Default: every engine ' +
          'of the image that reads at least one language of spec.languages (tesseract, and paddle when eng or chi_sim is among them). ' +
          'A job asking for another engine, or for paddle with a language paddle cannot read, is refused with 400 (ENGINE_NOT_ALLOWED, ' +
          'ENGINE_LANGUAGE_UNSUPPORTED). A worker loads the second engine on its first job that asks for it, once per process (its memory: ' +
          'src/worker/README.md).',
      ),
    tesseractModel: z
      .enum(TESSERACT_MODELS)
      .default('auto')
      .describe(
        "tesseract's models (engine tesseract only; default auto): best = the LSTM best_int models of the @tesseract.js-data npm packages; " +
          "fast = the smaller fast models of Debian's tesseract-ocr-<lang> packages in the image (/usr/share/tesseract-ocr/5/tessdata), " +
          'the ones native tesseract reads (on receipts about the same CER at about a quarter less CPU); auto = fast when that folder has every language ' +
          "of the pipeline, else best. The worker says which it uses in its start log, on /health and in each result's engine field; " +
          'fast with a language file missing refuses to start and names the package to install. Compare them with npm run bench:ocr.',
      ),
    imageLanguages: z
      .array(z.string().regex(LANGUAGE_PATTERN, 'must be a tesseract language code such as eng, deu or chi_sim'))
      .min(1)
      .max(64)
      .optional()
      .describe(
        'Languages the image in spec.image carries (default: the ones the ocr-platform image of this operator ships: ' +
          `${IMAGE_LANGUAGES.join(', ')}). The operator marks the pipeline Degraded (LanguageNotInImage) and leaves its pods as they are ` +
          'when spec.languages asks for one the image lacks, instead of rolling out workers that cannot start. Set it only for a custom ' +
          'image built with other languages.',
      ),
    maxPages: int32()
      .min(1)
      .max(500)
      .default(OCR_DOCUMENT_DEFAULTS.maxPages)
      .describe(
        `Pages of one PDF or multi-page TIFF the workers read at most (default ${OCR_DOCUMENT_DEFAULTS.maxPages}); a longer document fails as DOCUMENT_TOO_MANY_PAGES before any page is rendered.`,
      ),
    pdfDpi: int32()
      .min(72)
      .max(600)
      .default(OCR_DOCUMENT_DEFAULTS.pdfDpi)
      .describe(
        `Resolution PDF pages are rendered at for OCR, in dots per inch (default ${OCR_DOCUMENT_DEFAULTS.pdfDpi}); a page that would exceed the worker's pixel limit is rendered at the highest resolution that fits.`,
      ),
    pdfTextLayer: z
      .boolean()
      .default(OCR_DOCUMENT_DEFAULTS.pdfTextLayer)
      .describe(
        `Read a PDF page's embedded text instead of rendering and OCRing it when the page has real text (default ${OCR_DOCUMENT_DEFAULTS.pdfTextLayer}): ` +
          'at least 32 visible non-space glyphs and no image covering half the page or more, so scans with an invisible OCR layer or only a ' +
          "stamp are still OCRed. Such a page has source text-layer in the result's pages, confidence 100 and boxes in pixels at pdfDpi; " +
          'it costs a fraction of the CPU of OCR. false: every page is rendered and OCRed.',
      ),
  })
  .strict()
  .prefault({})
  .describe('How the workers recognise text.');

/**
 * Recovery sends a job that stays processing past jobs.processingDeadlineSeconds again: a deadline within one attempt's
 * budget (worker.maxJobSeconds) would send healthy jobs again while a worker still reads them.
 */
export const processingDeadlineRule: CrossFieldRule<{ jobs: { processingDeadlineSeconds: number }; worker: { maxJobSeconds: number } }> = {
  rule: '!has(self.jobs) || !has(self.jobs.processingDeadlineSeconds) || !has(self.worker) || !has(self.worker.maxJobSeconds) || self.jobs.processingDeadlineSeconds > self.worker.maxJobSeconds',
  message: 'jobs.processingDeadlineSeconds must be above worker.maxJobSeconds: recovery would send jobs again while a worker still reads them',
  check: (self) => self.jobs.processingDeadlineSeconds > self.worker.maxJobSeconds,
};

export const paddleLanguagesRule: CrossFieldRule<{ languages: string[]; ocr: { engine: string } }> = {
  rule: "!has(self.ocr) || !has(self.ocr.engine) || self.ocr.engine != 'paddle' || !has(self.languages) || self.languages.all(l, l in ['eng', 'chi_sim'])",
  message: 'ocr.engine paddle reads eng and chi_sim only: remove the other languages, or use ocr.engine auto (the default) or tesseract',
  check: (self) => self.ocr.engine !== 'paddle' || self.languages.every((l) => (PADDLE_LANGUAGES as readonly string[]).includes(l)),
};

export const ocrPipelineSpecSchema = withRules(
  z
    .object({
      image: z.string().min(1).describe('Container image for both the API and the workers, for example ghcr.io/org/ocr-platform:0.1.0.'),
      imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent').describe('Image pull policy (default IfNotPresent).'),
      imagePullSecrets: z
        .array(z.object({ name: dnsLabel.describe('Name of a docker-registry Secret.') }).strict())
        .optional()
        .describe('Secrets for pulling the image from a private registry.'),
      languages: z
        .array(z.string().regex(LANGUAGE_PATTERN, 'must be a tesseract language code such as eng, deu or chi_sim'))
        .min(1)
        .max(16)
        .default(['eng'])
        .describe('Tesseract languages to recognise, for example [eng, deu, chi_sim] (default [eng]).'),
      ocr: ocrSchema,
      api: apiSchema,
      worker: workerSchema,
      queue: z.object({ serviceBus: serviceBusSchema }).strict().describe('Where jobs are queued.'),
      storage: z.object({ blob: blobSchema }).strict().describe('Where images and results are stored.'),
      webhookSecretRef: secretKeyRefSchema.optional().describe('Secret key holding the HMAC key that signs webhook deliveries.'),
      pod: z
        .object({
          labels: labelMap.optional().describe('Extra labels on every pod.'),
          annotations: labelMap.optional().describe('Extra annotations on every pod.'),
          nodeSelector: labelMap.optional().describe('Node labels the pods must match.'),
          tolerations: z.array(toleranceSchema).optional().describe('Taints the pods tolerate.'),
          affinity: z
            .record(z.string(), z.unknown())
            .optional()
            .meta({ 'x-kubernetes-preserve-unknown-fields': true })
            .describe('Pod affinity and anti-affinity, as in a Pod spec (passed through unchanged).'),
          serviceAccountName: dnsLabel
            .optional()
            .describe('ServiceAccount the pods run as, for example one federated for workload identity (default: the namespace default).'),
        })
        .strict()
        .prefault({})
        .describe('Placement and metadata shared by the API and worker pods.'),
      networkPolicy: networkPolicySchema,
      jobs: jobsSchema,
      retries: retriesSchema,
    })
    .strict(),
  [paddleLanguagesRule, processingDeadlineRule],
);

// ---------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------

export const conditionSchema = z
  .object({
    type: z.string().describe('Condition type: Ready, Progressing or Degraded.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
    reason: z.string().describe('CamelCase reason, a stable constant.'),
    message: z.string().describe('What is going on and what to do, for a person.'),
    lastTransitionTime: z.string().describe('When status last changed (RFC 3339).'),
    observedGeneration: z.number().int().optional().describe('metadata.generation the condition was computed from.'),
  })
  .strict();
export type Condition = z.output<typeof conditionSchema>;

const deploymentStatusSchema = (what: string) =>
  z
    .object({
      desiredReplicas: z.number().int().describe('Replicas the Deployment wants.'),
      readyReplicas: z.number().int().describe('Replicas that pass readiness.'),
    })
    .strict()
    .optional()
    .describe(what);

/** What capped status.scaling.desiredWorkers (the values of limitedBy). */
export const LIMITED_BY = {
  none: 'none',
  maxReplicas: 'maxReplicas',
  minReplicas: 'minReplicas',
  scaleUpDisabled: 'scaleUpDisabled',
  metricUnavailable: 'metricUnavailable',
} as const;

export const scalingStatusSchema = z
  .object({
    activeMessages: z.number().int().optional().describe('Messages waiting in the queue.'),
    inFlight: z.number().int().optional().describe('Messages locked and being processed by workers.'),
    deadLettered: z.number().int().optional().describe('Messages in the dead-letter queue.'),
    scheduled: z.number().int().optional().describe('Messages scheduled for later delivery (not yet receivable).'),
    backlog: z.number().int().optional().describe('What the worker HPA scales on: waiting messages, plus in-flight ones when countInFlight is set.'),
    desiredWorkers: z.number().int().optional().describe('Workers the autoscaler wants.'),
    limitedBy: z.enum(LIMITED_BY).optional().describe('What capped desiredWorkers, for example maxReplicas.'),
    observedAt: z.string().optional().describe('When the queue was last read (RFC 3339).'),
  })
  .strict();

const apiStatusSchema = z
  .object({
    desiredReplicas: z.number().int().describe('Replicas the Deployment wants.'),
    readyReplicas: z.number().int().describe('Replicas that pass readiness.'),
    keysSecret: z
      .string()
      .optional()
      .describe('The Secret holding the API keys in use: spec.api.apiKeysSecretRef, or the generated <pipeline>-api-keys; absent with auth disabled.'),
  })
  .strict()
  .optional()
  .describe('Replica counts of the API Deployment, and the API keys Secret it mounts.');

export const ocrPipelineStatusSchema = z
  .object({
    observedGeneration: z.number().int().optional().describe('metadata.generation this status was computed from.'),
    conditions: z
      .array(conditionSchema)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
      .describe('Ready, Progressing and Degraded.'),
    api: apiStatusSchema,
    worker: deploymentStatusSchema('Replica counts of the worker Deployment.'),
    scaling: scalingStatusSchema.optional().describe('The scaling signal and decision, in plain integers.'),
    ocr: z
      .object({
        engine: z.enum(OCR_ENGINES).describe('The engine the workers run: spec.ocr.engine, or what auto resolved to for spec.languages.'),
        requestEngines: z
          .array(z.enum(OCR_ENGINES))
          .optional()
          .describe('The engines a job may ask for (spec.ocr.requestEngines as resolved), the pipeline engine first.'),
      })
      .strict()
      .optional()
      .describe('How the workers recognise text, as the operator resolved spec.ocr.'),
  })
  .strict();

export type OcrPipelineSpecInput = z.input<typeof ocrPipelineSpecSchema>;
export type OcrPipelineSpec = z.output<typeof ocrPipelineSpecSchema>;
export type OcrPipelineStatus = z.output<typeof ocrPipelineStatusSchema>;
/** status.scaling: the queue numbers and the worker scaling decision (src/operator/scaling/decide.ts writes it). */
export type ScalingStatus = z.output<typeof scalingStatusSchema>;
export type LimitedBy = (typeof LIMITED_BY)[keyof typeof LIMITED_BY];
export type HpaBehavior = OcrPipelineSpec['api']['autoscaling']['behavior'];

/** The resource as the operator sees it, after parsing. */
export interface OcrPipeline {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: OcrPipelineSpec;
  status?: OcrPipelineStatus;
}

/** Human-readable lines for a failed parse: `spec.worker.replicas: replicas.min must ...`. */
export function formatIssues(error: z.ZodError, prefix = 'spec'): string[] {
  return error.issues.map((i) => `${[prefix, ...i.path.map(String)].join('.')}: ${i.message}`);
}

/** Parses a spec, applying defaults; throws a readable error listing every problem. */
export function parseSpec(spec: unknown): OcrPipelineSpec {
  const result = ocrPipelineSpecSchema.safeParse(spec);
  if (!result.success) throw new Error(`invalid OcrPipeline spec:\n  ${formatIssues(result.error).join('\n  ')}`);
  return result.data;
}
