import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors.ts';
import { JobTokens, jobTokenKeys, type JobTokenClaims } from './token.ts';

const NOW = Date.parse('2026-12-02T07:00:00Z');
const claims: JobTokenClaims = {
  id: 'job-0b6f2a3e-4c1d-4e5f-8a9b-0c1d2e3f4a5b',
  owner: 'team-a',
  pipeline: 'finance.receipts',
  blob: 'uploads/job-0b6f2a3e-4c1d-4e5f-8a9b-0c1d2e3f4a5b',
  size: 1234,
  type: 'image/png',
  languages: ['eng'],
  options: { pageSegmentation: 'auto', engine: 'tesseract' },
  webhookUrl: 'https://example.com/hook',
  fileName: 'r.png',
  iat: NOW - 1_000,
  exp: NOW + 900_000,
};
const tokens = new JobTokens(jobTokenKeys({ jobTokenSecret: 'first-secret-of-at-least-some-length' }));
const expected = { id: claims.id, pipeline: claims.pipeline, nowMs: NOW };

function code(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return error.code;
  }
  return 'accepted';
}

/** A token whose payload was re-encoded with one field changed, keeping the original signature. */
function tampered(change: Partial<JobTokenClaims>): string {
  const [version, , signature] = tokens.sign(claims).split('.');
  const payload = Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url');
  return `${version}.${payload}.${signature}`;
}

void describe('job tokens', () => {
  void it('verifies a token it signed and returns its claims', () => {
    assert.deepEqual(tokens.verify(tokens.sign(claims), expected), claims);
  });

  const cases: { name: string; token: () => string; at?: { id?: string; pipeline?: string; nowMs?: number | undefined }; code: string }[] = [
    { name: 'a token with another job id in its claims', token: () => tampered({ id: 'job-11111111-2222-3333-4444-555555555555' }), code: 'JOB_TOKEN_INVALID' },
    { name: 'a token with another owner in its claims', token: () => tampered({ owner: 'team-b' }), code: 'JOB_TOKEN_INVALID' },
    { name: 'a token with another pipeline in its claims', token: () => tampered({ pipeline: 'other.pipeline' }), code: 'JOB_TOKEN_INVALID' },
    { name: 'a token with another blob name in its claims', token: () => tampered({ blob: 'inputs/x' }), code: 'JOB_TOKEN_INVALID' },
    { name: 'a token with a larger declared size', token: () => tampered({ size: 99_999_999 }), code: 'JOB_TOKEN_INVALID' },
    { name: 'a token with another declared type', token: () => tampered({ type: 'image/jpeg' }), code: 'JOB_TOKEN_INVALID' },
    { name: 'a token with a later expiry', token: () => tampered({ exp: NOW + 86_400_000 }), code: 'JOB_TOKEN_INVALID' },
    { name: 'a token with another webhook', token: () => tampered({ webhookUrl: 'https://attacker.example/' }), code: 'JOB_TOKEN_INVALID' },
    {
      name: 'a token with another engine in its options',
      token: () => tampered({ options: { pageSegmentation: 'auto', engine: 'paddle' } }),
      code: 'JOB_TOKEN_INVALID',
    },
    {
      name: 'a token signed with another key',
      token: () => new JobTokens(jobTokenKeys({ jobTokenSecret: 'someone-elses-secret' })).sign(claims),
      code: 'JOB_TOKEN_INVALID',
    },
    { name: 'a token with its signature cut short', token: () => tokens.sign(claims).slice(0, -4), code: 'JOB_TOKEN_INVALID' },
    { name: 'a token of another version', token: () => tokens.sign(claims).replace(/^v1\./, 'v2.'), code: 'JOB_TOKEN_INVALID' },
    { name: 'a string that is no token', token: () => 'not-a-token', code: 'JOB_TOKEN_INVALID' },
    { name: 'an empty token', token: () => '', code: 'JOB_TOKEN_INVALID' },
    {
      name: 'a genuine token presented for another job',
      token: () => tokens.sign(claims),
      at: { id: 'job-99999999-2222-3333-4444-555555555555' },
      code: 'JOB_TOKEN_INVALID',
    },
    { name: 'a genuine token presented in another pipeline', token: () => tokens.sign(claims), at: { pipeline: 'default' }, code: 'JOB_TOKEN_INVALID' },
    { name: 'a genuine token at its expiry', token: () => tokens.sign(claims), at: { nowMs: claims.exp }, code: 'JOB_TOKEN_EXPIRED' },
    { name: 'a genuine token one second before its expiry', token: () => tokens.sign(claims), at: { nowMs: claims.exp - 1_000 }, code: 'accepted' },
    {
      name: 'a genuine expired token when expiry is left to the caller',
      token: () => tokens.sign({ ...claims, exp: NOW - 1 }),
      at: { nowMs: undefined },
      code: 'accepted',
    },
    { name: 'a forged token when expiry is left to the caller', token: () => tampered({ owner: 'x' }), at: { nowMs: undefined }, code: 'JOB_TOKEN_INVALID' },
  ];
  for (const c of cases) {
    void it(`answers ${c.name} with ${c.code}`, () => {
      assert.equal(
        code(() => tokens.verify(c.token(), { ...expected, ...c.at })),
        c.code,
      );
    });
  }

  void it('verifies tokens of the old key while a rotation lists new,old, and signs with the new one', () => {
    const old = new JobTokens(jobTokenKeys({ jobTokenSecret: 'old-secret' }));
    const rotating = new JobTokens(jobTokenKeys({ jobTokenSecret: 'new-secret, old-secret' }));
    const renewed = new JobTokens(jobTokenKeys({ jobTokenSecret: 'new-secret' }));
    assert.equal(
      code(() => rotating.verify(old.sign(claims), expected)),
      'accepted',
    );
    assert.equal(
      code(() => renewed.verify(rotating.sign(claims), expected)),
      'accepted',
    );
    assert.equal(
      code(() => renewed.verify(old.sign(claims), expected)),
      'JOB_TOKEN_INVALID',
    );
  });

  const sources: { name: string; settings: Parameters<typeof jobTokenKeys>[0]; source: string }[] = [
    {
      name: 'JOB_TOKEN_SECRET when it is set',
      settings: { jobTokenSecret: 'a,b', webhookSecret: 'w', apiKeyMaterial: Buffer.from('k') },
      source: 'JOB_TOKEN_SECRET',
    },
    { name: 'WEBHOOK_SECRET without JOB_TOKEN_SECRET', settings: { webhookSecret: 'w', apiKeyMaterial: Buffer.from('k') }, source: 'WEBHOOK_SECRET' },
    { name: 'the API key file without either secret', settings: { apiKeyMaterial: Buffer.from('k') }, source: 'API_KEYS_FILE' },
    { name: 'a per-process key without any secret', settings: {}, source: 'per-process' },
  ];
  for (const c of sources) {
    void it(`derives the key from ${c.name}`, () => {
      assert.equal(jobTokenKeys(c.settings).source, c.source);
    });
  }

  void it('derives different keys from the webhook secret and from the same text as JOB_TOKEN_SECRET used elsewhere', () => {
    const a = jobTokenKeys({ webhookSecret: 'shared' }).keys[0];
    const b = jobTokenKeys({ apiKeyMaterial: Buffer.from('other') }).keys[0];
    assert.notDeepEqual(a, b);
    assert.notDeepEqual(a, Buffer.from('shared'));
  });

  void it('gives the same derived job id for the same parts and a different one for different parts', () => {
    const id = tokens.derivedJobId(['team-a', 'key']);
    assert.match(id, /^job-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(tokens.derivedJobId(['team-a', 'key']), id);
    assert.notEqual(tokens.derivedJobId(['team-b', 'key']), id);
  });
});
