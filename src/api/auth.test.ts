import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeys, authenticate, presentedKey } from './auth.ts';
import { ApiError } from './errors.ts';
import { loadApiKeys } from './config.ts';

const keys = ApiKeys.parse('# team keys\nfinance:s3cret-finance\n\n  plain-key-without-name  \nbad:\n');

void describe('API keys', () => {
  void it('reads named and unnamed keys and skips comments, blanks and empty keys', () => {
    assert.equal(keys.size, 2);
    assert.equal(keys.match('s3cret-finance'), 'finance');
    assert.equal(keys.match('plain-key-without-name'), 'key-4');
  });

  void it('matches no key for a wrong or partial key', () => {
    assert.equal(keys.match('s3cret'), undefined);
    assert.equal(keys.match('finance:s3cret-finance'), undefined);
  });

  const headerCases: { name: string; headers: Record<string, string>; key: string | undefined }[] = [
    { name: 'x-api-key is read', headers: { 'x-api-key': 'abc' }, key: 'abc' },
    { name: 'a Bearer token is read', headers: { authorization: 'Bearer abc' }, key: 'abc' },
    { name: 'bearer is case-insensitive', headers: { authorization: 'bearer abc' }, key: 'abc' },
    { name: 'Basic auth is not a key', headers: { authorization: 'Basic YWJjOmRlZg==' }, key: undefined },
    { name: 'no header is no key', headers: {}, key: undefined },
  ];
  for (const c of headerCases) {
    void it(c.name, () => assert.equal(presentedKey(c.headers), c.key));
  }

  void it('answers API_KEY_MISSING without a key and API_KEY_INVALID with a wrong one', () => {
    assert.throws(
      () => authenticate(keys, {}),
      (e: unknown) => e instanceof ApiError && e.code === 'API_KEY_MISSING',
    );
    assert.throws(
      () => authenticate(keys, { 'x-api-key': 'nope' }),
      (e: unknown) => e instanceof ApiError && e.code === 'API_KEY_INVALID',
    );
    assert.equal(authenticate(keys, { authorization: 'Bearer s3cret-finance' }), 'finance');
  });
});

void describe('deciding whether auth is on', () => {
  void it('refuses to start without a key file unless auth is disabled explicitly', () => {
    assert.throws(() => loadApiKeys({}), /API_KEYS_FILE is not set.*API_AUTH=disabled/);
    assert.equal(loadApiKeys({ API_AUTH: 'disabled' }), undefined);
  });

  void it('refuses a key file that cannot be read or holds no keys', () => {
    assert.throws(
      () =>
        loadApiKeys({ API_KEYS_FILE: '/nowhere' }, () => {
          throw new Error('ENOENT');
        }),
      /cannot be read/,
    );
    assert.throws(() => loadApiKeys({ API_KEYS_FILE: '/keys' }, () => '# nothing\n'), /holds no keys/);
  });

  void it('uses the key file even when API_AUTH=disabled is also set', () => {
    assert.equal(loadApiKeys({ API_KEYS_FILE: '/keys', API_AUTH: 'disabled' }, () => 'k1\n')?.size, 1);
  });
});
