// Calls to the API process, reported as the table shows them: `<status> <error code>`, plus
// ` (<details.reason>)` where the reason is part of the documented answer (webhook refusals,
// failed jobs).
import { request as httpRequest } from 'node:http';
import type { Child } from '../integration/api/processes.ts';
import { multipart } from '../integration/api/helpers.ts';

export interface Call {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Without the default x-api-key header. */
  anonymous?: boolean;
  /** Per-request bound in ms (default 20 s; sync OCR calls wait for the worker). */
  timeoutMs?: number;
}

export interface Answer {
  status: number;
  code: string | undefined;
  reason: string | undefined;
  json: Record<string, unknown> | undefined;
  text: string;
}

const REASONED = new Set(['WEBHOOK_URL_REFUSED', 'JOB_FAILED']);

export function describeAnswer(a: Answer): string {
  if (a.code === undefined) return String(a.status);
  return `${a.status} ${a.code}${REASONED.has(a.code) && a.reason ? ` (${a.reason})` : ''}`;
}

export function client(api: () => Child, key: string) {
  /** One request with fetch; the body is parsed as JSON when it is JSON. */
  async function call(path: string, init: Call = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...(init.anonymous ? {} : { 'x-api-key': key }), ...init.headers };
    const response = await fetch(api().url + path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body: init.body ?? null,
      signal: AbortSignal.timeout(init.timeoutMs ?? 20_000),
    });
    const text = await response.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    const error = json?.error as { code?: string; details?: { reason?: unknown } } | undefined;
    const reason = typeof error?.details?.reason === 'string' ? error.details.reason : undefined;
    return { status: response.status, code: error?.code, reason, json, text };
  }

  /** The answer as the table shows it. */
  const ask = async (path: string, init: Call = {}): Promise<string> => describeAnswer(await call(path, init));

  const json = (path: string, body: unknown, init: Call = {}): Promise<string> =>
    ask(path, { ...init, headers: { 'content-type': 'application/json', ...init.headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  /** A multipart form as fetch sends it. */
  async function form(path: string, fields: Record<string, string>, file?: Parameters<typeof multipart>[1], init: Call = {}): Promise<string> {
    const m = await multipart(fields, file);
    return await ask(path, { ...init, headers: { ...m.headers, ...init.headers }, body: m.body });
  }

  /** Raw bytes over a socket, for bodies fetch will not send (a multipart form that never ends, a lying header). */
  async function raw(path: string, headers: Record<string, string>, body: Buffer): Promise<string> {
    const url = new URL(api().url + path);
    return await new Promise<string>((resolve, reject) => {
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { 'x-api-key': key, ...headers },
      });
      req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined;
          }
          resolve(describeAnswer({ status: res.statusCode ?? 0, code, reason: undefined, json: undefined, text }));
        });
      });
      req.end(body);
    });
  }

  return { call, ask, json, form, raw };
}

export type ApiClient = ReturnType<typeof client>;
