import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import { checkImage, checkSize, settleRequest, type PipelineLimits } from './checks.ts';

const limits: PipelineLimits = { languages: ['eng', 'deu'], maxUploadBytes: 100, webhooks: false };
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

function code(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof ApiError ? error.code : 'not an ApiError';
  }
  return undefined;
}

void describe('settling a job request against the pipeline', () => {
  void it("defaults to every language of the pipeline, in the pipeline's order, and automatic page segmentation", () => {
    assert.deepEqual(settleRequest(limits, {}), { languages: ['eng', 'deu'], options: { pageSegmentation: 'auto' }, webhookUrl: undefined });
  });

  void it('drops repeated languages', () => {
    assert.deepEqual(settleRequest(limits, { languages: ['deu', 'eng', 'deu'] }).languages, ['deu', 'eng']);
  });

  const refused: { name: string; request: Parameters<typeof settleRequest>[1]; code: string }[] = [
    { name: 'a language the pipeline does not serve', request: { languages: ['eng', 'fra'] }, code: 'LANGUAGE_NOT_ALLOWED' },
    { name: 'a webhook when webhooks are off', request: { webhookUrl: 'http://127.0.0.1/hook' }, code: 'WEBHOOKS_DISABLED' },
  ];
  for (const c of refused) {
    void it(`refuses ${c.name}`, () =>
      assert.equal(
        code(() => settleRequest(limits, c.request)),
        c.code,
      ));
  }
  const hooks: PipelineLimits = { ...limits, webhooks: true };
  const refusedUrls: [url: string, reason: string][] = [
    ['http://169.254.169.254/latest/meta-data/', 'http'],
    ['https://169.254.169.254/latest/meta-data/', 'link_local'],
    ['https://0x7f000001/', 'loopback'],
    ['https://[::1]:9090/', 'loopback'],
    ['https://kubernetes.default.svc/api', 'internal_name'],
    ['https://u:p@example.com/', 'credentials'],
  ];
  for (const [url, reason] of refusedUrls) {
    void it(`refuses the webhook ${url} with WEBHOOK_URL_REFUSED (${reason})`, () => {
      assert.throws(
        () => settleRequest(hooks, { webhookUrl: url }),
        (error: unknown) => error instanceof ApiError && error.code === 'WEBHOOK_URL_REFUSED' && error.details?.reason === reason,
      );
    });
  }

  void it('keeps a webhook on a public https host', () => {
    assert.equal(settleRequest(hooks, { webhookUrl: 'https://example.com/hook' }).webhookUrl, 'https://example.com/hook');
  });

  void it('follows the pipeline egress settings (http and an allowlisted loopback receiver)', () => {
    const open: PipelineLimits = { ...hooks, webhookEgress: { allowHttp: true, allowedHosts: ['127.0.0.1'] } };
    assert.equal(settleRequest(open, { webhookUrl: 'http://127.0.0.1:8080/hook' }).webhookUrl, 'http://127.0.0.1:8080/hook');
    assert.equal(
      code(() => settleRequest(open, { webhookUrl: 'http://10.0.0.1/hook' })),
      'WEBHOOK_URL_REFUSED',
    );
  });
});

void describe('checking an image', () => {
  void it('accepts the size limit itself and refuses one byte more', () => {
    assert.equal(
      code(() => checkSize(limits, 100)),
      undefined,
    );
    assert.equal(
      code(() => checkSize(limits, 101)),
      'IMAGE_TOO_LARGE',
    );
  });

  void it('returns the media type of an image it accepts', () => {
    assert.deepEqual(checkImage(PNG), { ok: true, format: 'png', mediaType: 'image/png' });
  });

  const refused: { name: string; bytes: Uint8Array; code: string }[] = [
    { name: 'no bytes', bytes: new Uint8Array(0), code: 'IMAGE_EMPTY' },
    { name: 'text', bytes: Buffer.from('not an image'), code: 'IMAGE_TYPE_UNSUPPORTED' },
    { name: 'a PNG cut short', bytes: PNG.subarray(0, 12), code: 'IMAGE_TRUNCATED' },
  ];
  for (const c of refused) {
    void it(`refuses ${c.name}`, () =>
      assert.equal(
        code(() => checkImage(c.bytes)),
        c.code,
      ));
  }
});
