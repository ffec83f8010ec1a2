// The chaos run's client: submits jobs through the API replicas the way a careful client does.
// A request that meets a dead replica (connection refused or reset), a 5xx, a 429 or a 503 is
// tried again on the next replica after a short pause, for up to `retryForMs`. Creating a job is
// not idempotent: a create whose answer was lost may leave a job this client never learns of
// (it is not counted as submitted; recovery expires or finishes it). Submit is idempotent.
import type { ChaosImage } from './images.ts';

export type SubmitPath = 'multipart' | 'upload-url';

export interface SubmittedJob {
  id: string;
  index: number;
  image: ChaosImage;
  webhook: boolean;
  path: SubmitPath;
  /** The API slot that answered the create. */
  via: number;
  submittedAt: number;
}

export interface ClientOptions {
  apiUrl: (slot: number) => string;
  apis: number;
  apiKey: string;
  webhookUrl: string;
  /** How long one request is retried across replicas before the client gives up on it, in ms. */
  retryForMs: number;
}

interface Answer {
  status: number;
  json: { job?: { id?: string; status?: string }; upload?: { url: string; headers: Record<string, string> }; error?: { code?: string } };
  via: number;
}

class GaveUpError extends Error {
  override name = 'GaveUpError';
}

function retryable(status: number): boolean {
  return status >= 500 || status === 429;
}

export class ChaosClient {
  /** Requests tried again (dead replica, 5xx, 429). */
  retries = 0;
  /** Jobs the client gave up on before it had a submitted job id. */
  abandoned = 0;
  private next = 0;
  private readonly options: ClientOptions;

  constructor(options: ClientOptions) {
    this.options = options;
  }

  private async call(method: string, path: string, body: () => RequestInit['body'], headers: Record<string, string> = {}): Promise<Answer> {
    const giveUpAt = Date.now() + this.options.retryForMs;
    let last = '';
    while (Date.now() < giveUpAt) {
      const via = this.next++ % this.options.apis;
      try {
        const response = await fetch(this.options.apiUrl(via) + path, {
          method,
          headers: { 'x-api-key': this.options.apiKey, ...headers },
          body: body() ?? null,
          signal: AbortSignal.timeout(20_000),
        });
        const json = (await response.json().catch(() => ({}))) as Answer['json'];
        if (!retryable(response.status)) return { status: response.status, json, via };
        last = `${response.status} ${json.error?.code ?? ''}`;
      } catch (error) {
        last = (error as Error).message;
      }
      this.retries++;
      await new Promise((r) => setTimeout(r, 250 + Math.random() * 500));
    }
    throw new GaveUpError(`${method} ${path}: gave up after ${this.options.retryForMs} ms (last: ${last})`);
  }

  /** Submits one job; undefined when the client gave up without a job id it could count as submitted. */
  async submit(index: number, image: ChaosImage, webhook: boolean, path: SubmitPath): Promise<SubmittedJob | undefined> {
    const fields: Record<string, string> = webhook ? { webhookUrl: this.options.webhookUrl } : {};
    try {
      const { id, via } = path === 'multipart' ? await this.postMultipart(image, fields) : await this.uploadAndSubmit(image, fields);
      return { id, index, image, webhook, path, via, submittedAt: Date.now() };
    } catch (error) {
      if (!(error instanceof GaveUpError)) throw error;
      this.abandoned++;
      return undefined;
    }
  }

  private async postMultipart(image: ChaosImage, fields: Record<string, string>): Promise<{ id: string; via: number }> {
    const answer = await this.call('POST', '/v1/jobs', () => form(image.bytes, fields));
    if (answer.status !== 201 || !answer.json.job?.id) throw new Error(`POST /v1/jobs answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    return { id: answer.json.job.id, via: answer.via };
  }

  private async uploadAndSubmit(image: ChaosImage, fields: Record<string, string>): Promise<{ id: string; via: number }> {
    const body = JSON.stringify({ fileName: 'receipt.png', sizeBytes: image.bytes.length, ...fields });
    const created = await this.call('POST', '/v1/jobs', () => body, { 'content-type': 'application/json' });
    const id = created.json.job?.id;
    const upload = created.json.upload;
    if (created.status !== 201 || !id || !upload) throw new Error(`POST /v1/jobs answered ${created.status}: ${JSON.stringify(created.json)}`);
    await this.put(upload, image.bytes);
    const submitted = await this.call('POST', `/v1/jobs/${id}/submit`, () => undefined);
    if (submitted.status !== 202 && submitted.status !== 200)
      throw new Error(`POST /v1/jobs/${id}/submit answered ${submitted.status}: ${JSON.stringify(submitted.json)}`);
    return { id, via: created.via };
  }

  /** PUTs the image to its upload URL (Azurite), retried while Azurite restarts. */
  private async put(upload: { url: string; headers: Record<string, string> }, bytes: Buffer): Promise<void> {
    const giveUpAt = Date.now() + this.options.retryForMs;
    let last = '';
    while (Date.now() < giveUpAt) {
      try {
        const response = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: bytes, signal: AbortSignal.timeout(20_000) });
        await response.body?.cancel();
        if (response.status === 201) return;
        last = String(response.status);
        if (!retryable(response.status)) break;
      } catch (error) {
        last = (error as Error).message;
      }
      this.retries++;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new GaveUpError(`PUT upload: gave up (last: ${last})`);
  }

  /** Creates a job and its upload URL and never uploads or submits: it must end `expired`. */
  async createUnsubmitted(): Promise<string | undefined> {
    try {
      const answer = await this.call('POST', '/v1/jobs', () => JSON.stringify({ fileName: 'never.png' }), { 'content-type': 'application/json' });
      return answer.status === 201 ? answer.json.job?.id : undefined;
    } catch (error) {
      if (error instanceof GaveUpError) return undefined;
      throw error;
    }
  }
}

function form(image: Buffer, fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  data.append('file', new Blob([image], { type: 'image/png' }), 'receipt.png');
  return data;
}
