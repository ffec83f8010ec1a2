// What a request must pass before the API makes a job: languages this pipeline
// serves, webhooks only when they are configured and only to targets the egress policy
// allows (src/jobs/egress.ts; checked again after DNS at delivery), the size limit, and an
// image the API can recognise by its bytes. Each failed check is a catalogue error.
import { unreadableLanguages } from '../../contract/image.ts';
import { EgressPolicy, type EgressSettings, type OcrEngineName, type OcrOptions } from '../../jobs/index.ts';
import { ApiError } from '../errors.ts';
import { inspectImage, type Inspection } from '../sniff.ts';

export interface JobRequest {
  fileName?: string | undefined;
  /** Declared media type of the upload (POST /v1/jobs JSON); submit checks the bytes against it. */
  contentType?: string | undefined;
  sizeBytes?: number | undefined;
  languages?: string[] | undefined;
  options?: Partial<OcrOptions> | undefined;
  webhookUrl?: string | undefined;
}

/** A request after its checks, with the pipeline's defaults filled in. */
export interface SettledRequest {
  languages: string[];
  options: OcrOptions;
  webhookUrl: string | undefined;
}

/** What the checks need to know about the pipeline. */
export interface PipelineLimits {
  /** Languages the pipeline's workers have loaded; a job that names none is read with all of them. */
  languages: readonly string[];
  /**
   * The engines a job may ask for (OCR_REQUEST_ENGINES, the pipeline engine first; it reads jobs that name none and
   * is part of their dedupe key). Undefined (the variable unset): any engine.
   */
  engines?: readonly OcrEngineName[] | undefined;
  /** Largest image accepted, in bytes. */
  maxUploadBytes: number;
  /** False when WEBHOOK_SECRET is unset: a webhookUrl is then refused. */
  webhooks: boolean;
  /** Where webhooks may go; default https to public addresses only. */
  webhookEgress?: EgressSettings | undefined;
}

const STRICT = new EgressPolicy();
const policies = new WeakMap<EgressSettings, EgressPolicy>();

/** The parsed policy of some settings, parsed once per settings object (they come from the config, which lives as long as the app). */
function policyOf(settings: EgressSettings | undefined): EgressPolicy {
  if (!settings) return STRICT;
  let policy = policies.get(settings);
  if (!policy) {
    policy = new EgressPolicy(settings);
    policies.set(settings, policy);
  }
  return policy;
}

/** Refuses a webhook URL the egress policy refuses, before any job exists. Names are judged without DNS here; delivery resolves and judges again. */
export function checkWebhookUrl(limits: PipelineLimits, url: string): void {
  const verdict = policyOf(limits.webhookEgress).judge(url);
  if (!verdict.allowed) {
    throw new ApiError('WEBHOOK_URL_REFUSED', verdict.message, { reason: verdict.reason, ...(verdict.address ? { address: verdict.address } : {}) });
  }
}

/** Checks languages, engine and webhook against the pipeline and fills in defaults (every pipeline language; pageSegmentation auto). */
export function settleRequest(limits: PipelineLimits, request: JobRequest): SettledRequest {
  // Every pipeline language, not its first alone: tesseract reads with only the languages a job carries, so an eng, deu
  // pipeline would read a German page with eng alone and lose its umlauts (Bäckerei -> Backerei, Straße -> StraRe).
  const languages = request.languages ?? (limits.languages.length > 0 ? [...limits.languages] : ['eng']);
  const refused = languages.filter((l) => !limits.languages.includes(l));
  if (refused.length > 0) {
    throw new ApiError('LANGUAGE_NOT_ALLOWED', `This pipeline does not serve ${refused.join(', ')}.`, { refused, allowed: limits.languages });
  }
  if (request.webhookUrl && !limits.webhooks) throw new ApiError('WEBHOOKS_DISABLED');
  if (request.webhookUrl) checkWebhookUrl(limits, request.webhookUrl);
  const engine = settleEngine(limits, request.options?.engine, languages);
  const options: OcrOptions = { pageSegmentation: request.options?.pageSegmentation ?? 'auto', ...(engine ? { engine } : {}) };
  return { languages: [...new Set(languages)], options, webhookUrl: request.webhookUrl };
}

/**
 * The engine a job asks for, checked: one the pipeline allows that reads every language of the job. It is recorded in the
 * job's options (and so in its token, message and dedupe key). A job naming none is left without one, so its record and
 * message are what workers and API replicas of before engines read; the pipeline engine reads it, and its dedupe key
 * names that engine (JobCommands passes it to dedupeKey).
 */
export function settleEngine(
  limits: Pick<PipelineLimits, 'engines'>,
  asked: OcrEngineName | undefined,
  languages: readonly string[],
): OcrEngineName | undefined {
  const allowed = limits.engines;
  if (asked === undefined) return undefined;
  if (allowed && !allowed.includes(asked)) {
    throw new ApiError('ENGINE_NOT_ALLOWED', `This pipeline does not let jobs ask for ${asked}; it allows ${allowed.join(', ')}.`, { engine: asked, allowed });
  }
  const unsupported = unreadableLanguages(asked, languages);
  if (unsupported.length > 0) {
    throw new ApiError('ENGINE_LANGUAGE_UNSUPPORTED', `${asked} cannot read ${unsupported.join(', ')}.`, { engine: asked, unsupported });
  }
  return asked;
}

export function checkSize(limits: PipelineLimits, bytes: number): void {
  if (bytes > limits.maxUploadBytes) {
    throw new ApiError('IMAGE_TOO_LARGE', `The image is ${bytes} bytes; the limit is ${limits.maxUploadBytes}.`, {
      limitBytes: limits.maxUploadBytes,
      sizeBytes: bytes,
    });
  }
}

/** The catalogue error for an image the inspection refused. */
export function imageProblem(inspection: Extract<Inspection, { ok: false }>): ApiError {
  switch (inspection.problem) {
    case 'empty':
      return new ApiError('IMAGE_EMPTY');
    case 'unsupported':
      return new ApiError('IMAGE_TYPE_UNSUPPORTED');
    case 'truncated':
      return new ApiError('IMAGE_TRUNCATED', `The ${inspection.format ?? 'image'} file ends before its format says it should.`);
  }
}

export type AcceptableImage = Extract<Inspection, { ok: true }>;

/** Inspects the bytes once: the image's format and media type, or the catalogue error that refuses it. */
export function checkImage(bytes: Uint8Array): AcceptableImage {
  const inspection = inspectImage(bytes);
  if (!inspection.ok) throw imageProblem(inspection);
  return inspection;
}
