import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { audiencePath, hasRight, pathCovers, SasError, signSas, verifySas } from './sas.ts';
import { refuseRequest } from './atom.ts';

const keys = { Root: { key: 'secret', rights: ['Manage'] as const }, Sender: { key: 'other', rights: ['Send'] as const } };
const now = Date.UTC(2026, 0, 1);
const inAnHour = Math.floor(now / 1000) + 3600;

void describe('SAS tokens', () => {
  void it('verifies a token signed the way the SDK signs it', () => {
    const token = signSas('sb://127.0.0.1:5672/ocr-jobs', 'Root', 'secret', inAnHour);
    const verified = verifySas(token, keys, now);
    assert.equal(verified.keyName, 'Root');
    assert.equal(verified.resource, 'sb://127.0.0.1:5672/ocr-jobs');
    assert.equal(verified.expiresAt, inAnHour * 1000);
  });

  const refused = [
    { name: 'a wrong key', token: signSas('sb://h/q', 'Root', 'wrong', inAnHour), reason: /invalid signature/ },
    { name: 'an unknown key name', token: signSas('sb://h/q', 'Nobody', 'secret', inAnHour), reason: /Unknown SharedAccessKeyName/ },
    { name: 'an expired token', token: signSas('sb://h/q', 'Root', 'secret', Math.floor(now / 1000) - 1), reason: /expired/ },
    { name: 'a tampered resource', token: signSas('sb://h/q', 'Root', 'secret', inAnHour).replace('%2Fq', '%2Fother'), reason: /invalid signature/ },
    { name: 'a token that is not a SAS', token: 'Bearer abc', reason: /not a SharedAccessSignature/ },
    { name: 'a token missing fields', token: 'SharedAccessSignature sr=x&se=1', reason: /must carry/ },
  ];
  for (const { name, token, reason } of refused) {
    void it(`refuses ${name}`, () => {
      assert.throws(
        () => verifySas(token, keys, now),
        (e: unknown) => e instanceof SasError && reason.test(e.message),
      );
    });
  }

  void it('treats Manage as including Send and Listen', () => {
    assert.ok(hasRight(['Manage'], 'Listen'));
    assert.ok(hasRight(['Send'], 'Send'));
    assert.ok(!hasRight(['Send'], 'Listen'));
    assert.ok(!hasRight(['Send', 'Listen'], 'Manage'));
  });

  void it('maps audiences to entity paths and namespace tokens cover every entity', () => {
    assert.equal(audiencePath('sb://127.0.0.1:5672/Q/$management'), 'q/$management');
    assert.equal(audiencePath('sb://127.0.0.1:5672/'), '');
    assert.ok(pathCovers('', 'q'));
    assert.ok(pathCovers('q', 'q/$deadletterqueue/$management'));
    assert.ok(!pathCovers('q', 'qq'));
    assert.ok(!pathCovers('q/$management', 'q'));
  });
});

void describe('ATOM requests and the resource their token was signed for', () => {
  const store = { clock: () => now } as Parameters<typeof refuseRequest>[0]['store'];
  const ctx = { keys, store };
  const cases: { name: string; resource: string; key?: string; path: string; refused: RegExp | undefined }[] = [
    { name: 'a namespace token reads any queue', resource: 'sb://ns.servicebus.windows.net/', path: 'queue-b', refused: undefined },
    { name: 'a namespace token lists queues', resource: 'sb://ns.servicebus.windows.net', path: '$Resources/Queues', refused: undefined },
    {
      name: "the SDK's per-request https URL, query and case included",
      resource: 'https://127.0.0.1:5300/queue-a?api-version=2021-05',
      path: 'Queue-A',
      refused: undefined,
    },
    { name: 'a token for queue A reads queue A', resource: 'sb://127.0.0.1:5300/queue-a', path: 'queue-a', refused: undefined },
    {
      name: 'a token for queue A does not read queue B',
      resource: 'sb://127.0.0.1:5300/queue-a',
      path: 'queue-b',
      refused: /InvalidAudience.*does not cover '\/queue-b'/,
    },
    { name: 'a token for queue A does not read queue AA', resource: 'sb://127.0.0.1:5300/queue-a', path: 'queue-aa', refused: /InvalidAudience/ },
    { name: 'a token for queue A does not list every queue', resource: 'sb://127.0.0.1:5300/queue-a', path: '$Resources/Queues', refused: /InvalidAudience/ },
    { name: 'a token for queue A does not reach the namespace root', resource: 'sb://127.0.0.1:5300/queue-a', path: '', refused: /InvalidAudience/ },
    { name: 'a percent-encoded resource is compared decoded', resource: 'https://h/my%20queue?api-version=2021-05', path: 'my queue', refused: undefined },
    {
      name: 'a Send-only key is refused before its resource matters',
      resource: 'sb://ns/',
      key: 'Sender',
      path: 'queue-a',
      refused: /Manage claim is required/,
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const keyName = c.key ?? 'Root';
      const token = signSas(c.resource, keyName, keys[keyName as keyof typeof keys].key, inAnHour);
      const refusal = refuseRequest(ctx, token, c.path);
      if (c.refused === undefined) assert.equal(refusal, undefined);
      else assert.match(refusal ?? '', c.refused);
    });
  }
});
