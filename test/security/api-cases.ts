// Cases against the API process over HTTP. Expected answers come from docs/api.md (error
// catalogue, limits, webhooks) and src/api/errors.ts; a failed job's code comes from the
// docs' job failure codes, as `422 JOB_FAILED (<code>)` from the synchronous endpoint.
import { randomUUID } from 'node:crypto';
import * as corpus from './corpus.ts';
import type { ApiClient } from './http.ts';
import { MAX_UPLOAD_BYTES } from './platform.ts';
import type { Case } from './runner.ts';

const PNG = { 'content-type': 'image/png' };
/** Long enough for a worker to pick up, inspect and fail a job (sync waits up to 90 s). */
const WORKER_BOUND_MS = 120_000;

export function authCases(http: ApiClient): Case[] {
  const body = JSON.stringify({ fileName: 'a.png' });
  const json = { 'content-type': 'application/json' };
  return [
    {
      id: 'auth-missing',
      attack: 'POST /v1/jobs without a key',
      expected: '401 API_KEY_MISSING',
      run: () => http.ask('/v1/jobs', { anonymous: true, headers: json, body }),
    },
    {
      id: 'auth-invalid',
      attack: 'POST /v1/jobs with a wrong key',
      expected: '401 API_KEY_INVALID',
      run: () => http.ask('/v1/jobs', { anonymous: true, headers: { ...json, 'x-api-key': 'not-a-key' }, body }),
    },
    {
      id: 'auth-near-miss',
      attack: 'a key that differs from a real one in its last character',
      expected: '401 API_KEY_INVALID',
      run: () => http.ask('/v1/jobs', { anonymous: true, headers: { ...json, 'x-api-key': 'key-tester-0123456780' }, body }),
    },
    {
      id: 'auth-bearer-wrong',
      attack: 'Authorization: Bearer with a wrong key',
      expected: '401 API_KEY_INVALID',
      run: () => http.ask('/v1/jobs', { anonymous: true, headers: { ...json, authorization: 'Bearer not-a-key' }, body }),
    },
    {
      id: 'auth-in-query',
      attack: 'the key in the query string instead of a header',
      expected: '401 API_KEY_MISSING',
      run: () => http.ask('/v1/jobs?x-api-key=key-tester-0123456789&api_key=key-tester-0123456789', { anonymous: true, headers: json, body }),
    },
    {
      id: 'auth-get-job',
      attack: 'GET /v1/jobs/{id} without a key',
      expected: '401 API_KEY_MISSING',
      run: () => http.ask(`/v1/jobs/job-${randomUUID()}`, { anonymous: true }),
    },
    {
      id: 'auth-ocr',
      attack: 'POST /v1/ocr with a wrong key and an image',
      expected: '401 API_KEY_INVALID',
      run: async () => http.ask('/v1/ocr', { anonymous: true, headers: { ...PNG, 'x-api-key': 'x' }, body: await corpus.textPng(['NO KEY']) }),
    },
  ];
}

export function bodyCases(http: ApiClient): Case[] {
  const nested = (depth: number): string => `{"fileName":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  return [
    { id: 'json-truncated', attack: 'JSON cut short: {"fileName":', expected: '400 MALFORMED_JSON', run: () => http.json('/v1/jobs', '{"fileName":') },
    { id: 'json-trailing', attack: 'JSON with bytes after the object', expected: '400 MALFORMED_JSON', run: () => http.json('/v1/jobs', '{} trailing') },
    {
      id: 'json-single-quotes',
      attack: "JSON with single quotes {'a':1}",
      expected: '400 MALFORMED_JSON',
      run: () => http.json('/v1/jobs', "{'fileName':'a'}"),
    },
    {
      id: 'json-proto',
      attack: 'prototype pollution: {"__proto__":{"admin":true}}',
      expected: '400 MALFORMED_JSON',
      run: () => http.json('/v1/jobs', '{"__proto__":{"admin":true}}'),
    },
    {
      id: 'json-constructor',
      attack: 'prototype pollution: {"constructor":{"prototype":{...}}}',
      expected: '400 MALFORMED_JSON',
      run: () => http.json('/v1/jobs', '{"constructor":{"prototype":{"admin":true}}}'),
    },
    { id: 'json-deep', attack: 'JSON nested 30 000 deep (60 KiB)', expected: '400 INVALID_REQUEST', run: () => http.json('/v1/jobs', nested(30_000)) },
    { id: 'json-array', attack: 'a JSON array instead of an object', expected: '400 INVALID_REQUEST', run: () => http.json('/v1/jobs', []) },
    { id: 'json-string', attack: 'a JSON string instead of an object', expected: '400 INVALID_REQUEST', run: () => http.json('/v1/jobs', '"x"') },
    { id: 'type-size-string', attack: 'sizeBytes as a string', expected: '400 INVALID_REQUEST', run: () => http.json('/v1/jobs', { sizeBytes: '12' }) },
    { id: 'type-size-negative', attack: 'sizeBytes -1', expected: '400 INVALID_REQUEST', run: () => http.json('/v1/jobs', { sizeBytes: -1 }) },
    { id: 'type-size-float', attack: 'sizeBytes 1.5', expected: '400 INVALID_REQUEST', run: () => http.json('/v1/jobs', { sizeBytes: 1.5 }) },
    { id: 'type-size-huge', attack: 'sizeBytes 1e300', expected: '400 INVALID_REQUEST', run: () => http.json('/v1/jobs', '{"sizeBytes":1e300}') },
    {
      id: 'size-declared-over',
      attack: 'sizeBytes over API_MAX_UPLOAD_BYTES',
      expected: '413 IMAGE_TOO_LARGE',
      run: () => http.json('/v1/jobs', { sizeBytes: MAX_UPLOAD_BYTES + 1 }),
    },
    { id: 'type-languages-string', attack: 'languages as a string', expected: '400 INVALID_REQUEST', run: () => http.json('/v1/jobs', { languages: 'eng' }) },
    {
      id: 'language-traversal',
      attack: 'languages ["../../etc/passwd"]',
      expected: '400 INVALID_REQUEST',
      run: () => http.json('/v1/jobs', { languages: ['../../etc/passwd'] }),
    },
    {
      id: 'language-not-served',
      attack: 'a language the pipeline does not serve',
      expected: '400 LANGUAGE_NOT_ALLOWED',
      run: () => http.json('/v1/jobs', { languages: ['deu'] }),
    },
    {
      id: 'unknown-field',
      attack: 'an unknown field (blobPath)',
      expected: '400 INVALID_REQUEST',
      run: () => http.json('/v1/jobs', { blobPath: 'results/x.json' }),
    },
    {
      id: 'file-name-long',
      attack: 'fileName of 10 000 characters',
      expected: '400 INVALID_REQUEST',
      run: () => http.json('/v1/jobs', { fileName: 'a'.repeat(10_000) }),
    },
    {
      id: 'json-oversize',
      attack: 'a JSON body over 64 KiB',
      expected: '413 PAYLOAD_TOO_LARGE',
      run: () => http.json('/v1/jobs', { fileName: 'a', pad: 'x'.repeat(70 * 1024) }),
    },
    {
      id: 'json-oversize-chunked',
      attack: 'a JSON body over 64 KiB sent chunked (no Content-Length to refuse it by)',
      expected: '413 PAYLOAD_TOO_LARGE',
      run: () =>
        http.raw(
          '/v1/jobs',
          { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
          Buffer.from(JSON.stringify({ fileName: 'a', pad: 'x'.repeat(70 * 1024) })),
        ),
    },
    {
      id: 'content-type-form',
      attack: 'POST /v1/jobs as application/x-www-form-urlencoded',
      expected: '415 UNSUPPORTED_MEDIA_TYPE',
      run: () => http.ask('/v1/jobs', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'fileName=a' }),
    },
    {
      id: 'content-type-xml',
      attack: 'POST /v1/ocr as application/xml',
      expected: '415 UNSUPPORTED_MEDIA_TYPE',
      run: () => http.ask('/v1/ocr', { headers: { 'content-type': 'application/xml' }, body: '<a/>' }),
    },
    {
      id: 'route-id-traversal',
      attack: 'GET /v1/jobs/..%2F..%2Fresults%2Fx',
      expected: '400 INVALID_REQUEST',
      run: () => http.ask('/v1/jobs/..%2F..%2Fresults%2Fx'),
    },
    { id: 'route-id-nul', attack: 'POST /v1/jobs/%00/submit', expected: '400 INVALID_REQUEST', run: () => http.ask('/v1/jobs/%00/submit', { method: 'POST' }) },
    { id: 'route-id-long', attack: 'a job id of 4 000 characters', expected: '400 INVALID_REQUEST', run: () => http.ask(`/v1/jobs/job-${'a'.repeat(4000)}`) },
    {
      id: 'route-id-unknown',
      attack: 'GET a job id that does not exist',
      expected: '404 JOB_NOT_FOUND',
      run: () => http.ask(`/v1/jobs/job-${randomUUID()}`),
    },
    { id: 'route-unknown', attack: 'GET /v1/../admin', expected: '404 ROUTE_NOT_FOUND', run: () => http.ask('/v1/%2e%2e/admin') },
  ];
}

export function imageCases(http: ApiClient): Case[] {
  const raw =
    (bytes: Buffer | (() => Buffer | Promise<Buffer>), headers: Record<string, string> = PNG) =>
    async () =>
      http.ask('/v1/ocr', { headers, body: typeof bytes === 'function' ? await bytes() : bytes, timeoutMs: WORKER_BOUND_MS });
  const file =
    (bytes: () => Buffer | Promise<Buffer>, options: { type?: string; field?: string } = {}) =>
    async () =>
      http.form('/v1/jobs', {}, { bytes: await bytes(), type: options.type ?? 'image/png', ...(options.field ? { field: options.field } : {}) });
  const png = () => corpus.textPng(['POLYGLOT 4242']);
  return [
    { id: 'image-empty-raw', attack: 'POST /v1/ocr with an empty image/png body', expected: '422 IMAGE_EMPTY', run: raw(Buffer.alloc(0)) },
    { id: 'image-empty-part', attack: 'a zero-byte multipart file part', expected: '422 IMAGE_EMPTY', run: file(() => Buffer.alloc(0)) },
    { id: 'image-truncated-png', attack: 'the first half of a PNG', expected: '422 IMAGE_TRUNCATED', run: raw(async () => corpus.firstHalf(await png())) },
    {
      id: 'image-truncated-jpeg',
      attack: 'the first half of a JPEG',
      expected: '422 IMAGE_TRUNCATED',
      run: raw(async () => corpus.firstHalf(await corpus.textJpeg(['HALF']))),
    },
    { id: 'image-truncated-webp', attack: 'a WebP shorter than its RIFF length', expected: '422 IMAGE_TRUNCATED', run: raw(corpus.truncatedWebp) },
    { id: 'image-bmp', attack: 'a BMP', expected: '415 IMAGE_TYPE_UNSUPPORTED', run: raw(corpus.bmp) },
    { id: 'image-gif', attack: 'a GIF', expected: '415 IMAGE_TYPE_UNSUPPORTED', run: raw(corpus.GIF) },
    { id: 'image-pdf-truncated', attack: 'a PDF cut short before its %%EOF', expected: '422 IMAGE_TRUNCATED', run: raw(corpus.truncatedPdf) },
    {
      id: 'image-svg',
      attack: 'an SVG that references the metadata service',
      expected: '415 IMAGE_TYPE_UNSUPPORTED',
      run: raw(corpus.SVG, { 'content-type': 'image/svg+xml' }),
    },
    { id: 'image-html', attack: 'HTML with a script, sent as image/png', expected: '415 IMAGE_TYPE_UNSUPPORTED', run: raw(corpus.HTML) },
    {
      id: 'image-shell',
      attack: 'a shell script as application/octet-stream',
      expected: '415 IMAGE_TYPE_UNSUPPORTED',
      run: raw(corpus.SHELL, { 'content-type': 'application/octet-stream' }),
    },
    { id: 'image-elf', attack: 'an ELF executable header in a multipart part', expected: '415 IMAGE_TYPE_UNSUPPORTED', run: file(() => corpus.ELF) },
    {
      id: 'polyglot-zip-png',
      attack: 'a ZIP with a PNG inside (ZIP magic first)',
      expected: '415 IMAGE_TYPE_UNSUPPORTED',
      run: raw(async () => corpus.zipPngPolyglot(await png())),
    },
    {
      id: 'polyglot-png-zip',
      // src/api/sniff.ts looks for IEND in the last 64 bytes only, so an archive after it reads as a cut-short PNG.
      attack: 'a PNG with a ZIP archive after IEND (PNG+ZIP polyglot)',
      expected: '422 IMAGE_TRUNCATED',
      run: raw(async () => corpus.pngZipPolyglot(await png())),
    },
    { id: 'image-wrong-type', attack: 'GIF bytes declared as image/png', expected: '415 IMAGE_TYPE_UNSUPPORTED', run: raw(corpus.GIF, PNG) },
    {
      id: 'bomb-declared',
      attack: 'a PNG declaring 100 000 x 100 000 pixels in 1 KiB',
      expected: '422 JOB_FAILED (IMAGE_TOO_MANY_PIXELS)',
      timeoutMs: WORKER_BOUND_MS,
      run: raw(corpus.declaredBomb),
    },
    {
      id: 'bomb-deflate',
      attack: 'a PNG bomb: 64 Mpx of white deflated to ~64 KiB',
      expected: '422 JOB_FAILED (IMAGE_TOO_MANY_PIXELS)',
      timeoutMs: WORKER_BOUND_MS,
      run: raw(corpus.deflateBomb),
    },
    {
      id: 'image-corrupt',
      attack: 'PNG magic and IEND around garbage',
      expected: '422 JOB_FAILED (IMAGE_CORRUPT)',
      timeoutMs: WORKER_BOUND_MS,
      run: raw(corpus.corruptPng),
    },
    {
      id: 'oversize-raw',
      attack: 'a raw body of API_MAX_UPLOAD_BYTES + 128 KiB',
      expected: '413 PAYLOAD_TOO_LARGE',
      run: raw(() => Buffer.alloc(MAX_UPLOAD_BYTES + 128 * 1024, 1)),
    },
    {
      id: 'oversize-part',
      attack: 'a multipart file of API_MAX_UPLOAD_BYTES + 1',
      expected: '413 IMAGE_TOO_LARGE',
      run: file(() => Buffer.alloc(MAX_UPLOAD_BYTES + 1, 1)),
    },
    { id: 'multipart-wrong-field', attack: 'the file part named "image"', expected: '400 MULTIPART_INVALID', run: file(png, { field: 'image' }) },
    {
      id: 'multipart-no-file',
      attack: 'a form without a file part',
      expected: '400 MULTIPART_INVALID',
      run: () => http.form('/v1/jobs', { languages: 'eng' }),
    },
    {
      id: 'multipart-two-files',
      attack: 'two file parts',
      expected: '400 MULTIPART_INVALID',
      run: async () => {
        const boundary = 'x13boundary';
        const part = (name: string) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n`;
        const image = await png();
        const body = Buffer.concat([Buffer.from(part('file')), image, Buffer.from('\r\n' + part('file')), image, Buffer.from(`\r\n--${boundary}--\r\n`)]);
        return await http.raw('/v1/jobs', { 'content-type': `multipart/form-data; boundary=${boundary}` }, body);
      },
    },
    {
      id: 'multipart-unterminated',
      attack: 'a form whose closing boundary never comes',
      expected: '400 MULTIPART_INVALID',
      run: async () => {
        const head = '--b\r\ncontent-disposition: form-data; name="file"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n';
        return await http.raw('/v1/jobs', { 'content-type': 'multipart/form-data; boundary=b' }, Buffer.concat([Buffer.from(head), await png()]));
      },
    },
    {
      id: 'multipart-extra-field',
      attack: 'an undocumented text field (blobPath)',
      expected: '400 INVALID_REQUEST',
      run: async () => http.form('/v1/jobs', { blobPath: 'results/x.json' }, { bytes: await png(), type: 'image/png' }),
    },
  ];
}

/** Webhook URLs that point inside the network, as POST /v1/jobs {webhookUrl}: a 400 with the docs' `details.reason`. */
const SSRF: [id: string, url: string, reason: string][] = [
  ['metadata-http', 'http://169.254.169.254/latest/meta-data/', 'http'],
  ['metadata', 'https://169.254.169.254/latest/meta-data/', 'link_local'],
  ['loopback', 'https://127.0.0.1:8080/', 'loopback'],
  ['loopback-v6', 'https://[::1]:9090/', 'loopback'],
  ['hex', 'https://0x7f000001/', 'loopback'],
  ['decimal', 'https://2130706433/', 'loopback'],
  ['octal', 'https://0177.0.0.1/', 'loopback'],
  ['short', 'https://127.1/', 'loopback'],
  ['percent', 'https://%31%32%37.0.0.1/', 'loopback'],
  ['mapped', 'https://[::ffff:127.0.0.1]/', 'loopback'],
  ['mapped-hex-metadata', 'https://[::ffff:a9fe:a9fe]/', 'link_local'],
  ['nat64-metadata', 'https://[64:ff9b::a9fe:a9fe]/', 'link_local'],
  ['6to4-loopback', 'https://[2002:7f00:1::]/', 'loopback'],
  ['kubernetes', 'https://kubernetes.default.svc/api', 'internal_name'],
  ['kubernetes-fqdn-dot', 'https://kubernetes.default.svc.cluster.local./api', 'internal_name'],
  ['single-label', 'https://kubernetes/', 'internal_name'],
  ['localhost-upper', 'https://LOCALHOST/', 'internal_name'],
  ['gcp-metadata', 'https://metadata.google.internal/', 'internal_name'],
  ['aws-v6-metadata', 'https://[fd00:ec2::254]/', 'private'],
  ['link-local-v6', 'https://[fe80::1]/', 'link_local'],
  ['private-10', 'https://10.0.0.1/', 'private'],
  ['private-172', 'https://172.16.0.1/', 'private'],
  ['private-192', 'https://192.168.1.1/', 'private'],
  ['cgnat', 'https://100.64.0.1/', 'shared_address'],
  ['unspecified', 'https://0.0.0.0/', 'unspecified'],
  ['unspecified-v6', 'https://[::]/', 'unspecified'],
  ['multicast', 'https://224.0.0.1/', 'multicast'],
  ['broadcast', 'https://255.255.255.255/', 'reserved'],
  ['http', 'http://example.com/hook', 'http'],
  ['credentials', 'https://user:pass@example.com/', 'credentials'],
  ['userinfo-trick', 'https://example.com@127.0.0.1/', 'credentials'],
];

export function webhookCases(http: ApiClient): Case[] {
  const cases: Case[] = SSRF.map(([id, url, reason]) => ({
    id: `ssrf-${id}`,
    attack: `webhookUrl ${url}`,
    expected: `400 WEBHOOK_URL_REFUSED (${reason})`,
    run: () => http.json('/v1/jobs', { webhookUrl: url }),
  }));
  cases.push({
    id: 'ssrf-multipart',
    attack: 'webhookUrl https://169.254.169.254/ in a multipart form',
    expected: '400 WEBHOOK_URL_REFUSED (link_local)',
    run: async () => http.form('/v1/jobs', { webhookUrl: 'https://169.254.169.254/' }, { bytes: await corpus.textPng(['HOOK']), type: 'image/png' }),
  });
  cases.push({
    id: 'ssrf-sync-query',
    attack: 'webhookUrl https://10.0.0.1/ in the query of POST /v1/ocr',
    expected: '400 WEBHOOK_URL_REFUSED (private)',
    run: async () => http.ask(`/v1/ocr?webhookUrl=${encodeURIComponent('https://10.0.0.1/')}`, { headers: PNG, body: await corpus.textPng(['HOOK']) }),
  });
  return cases;
}

/** Tenants (docs/api.md "Authentication"): a job answers only to the key that created it; a cache hit is the caller's own job. */
export function tenantCases(other: ApiClient, victimJob: () => string, victimImage: () => Buffer): Case[] {
  return [
    { id: 'tenant-read', attack: "another key GETs the tester's job", expected: '404 JOB_NOT_FOUND', run: () => other.ask(`/v1/jobs/${victimJob()}`) },
    {
      id: 'tenant-submit',
      attack: "another key submits the tester's job",
      expected: '404 JOB_NOT_FOUND',
      run: () => other.ask(`/v1/jobs/${victimJob()}/submit`, { method: 'POST' }),
    },
    {
      id: 'tenant-cache-hit',
      attack: "another key sends the tester's image: a cache hit",
      expected: '200 cached, a job of its own',
      run: async () => {
        const a = await other.call('/v1/ocr', { headers: PNG, body: victimImage(), timeoutMs: WORKER_BOUND_MS });
        const body = a.json as { jobId?: string; cached?: boolean } | undefined;
        const own = body?.jobId !== undefined && body.jobId !== victimJob();
        return a.status === 200
          ? `200 ${body?.cached ? 'cached' : 'not cached'}, ${own ? 'a job of its own' : "the tester's job id"}`
          : `${a.status} ${a.code}`;
      },
    },
  ];
}

/** The bounded API (docs/api.md "Limits", "Probes and metrics"). The auth-failure limit blocks the address, so this group runs last. */
export function boundedCases(http: ApiClient): Case[] {
  return [
    { id: 'public-metrics', attack: 'GET /metrics on the API port', expected: '404 ROUTE_NOT_FOUND', run: () => http.ask('/metrics', { anonymous: true }) },
    {
      id: 'public-openapi',
      attack: 'GET /openapi.json on the API port',
      expected: '404 ROUTE_NOT_FOUND',
      run: () => http.ask('/openapi.json', { anonymous: true }),
    },
    {
      id: 'auth-failure-limit',
      attack: 'guess keys: 40 wrong keys from one address, then the right one',
      expected: '429 AUTH_RATE_LIMITED',
      run: async () => {
        for (let i = 0; i < 40; i++)
          await http.ask('/v1/jobs/job-00000000-0000-4000-8000-000000000000', { anonymous: true, headers: { 'x-api-key': `guess-${i}` } });
        return await http.ask('/v1/jobs/job-00000000-0000-4000-8000-000000000000');
      },
    },
  ];
}
