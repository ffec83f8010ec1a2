import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestError } from '@azure/core-rest-pipeline';
import { checkQueueStatus, classifyReadError, scrub, type QueueRef } from './preflight.ts';
import { REASON } from '../conditions/reasons.ts';

const sas: QueueRef = { endpoint: 'contoso.servicebus.windows.net', queueName: 'ocr-jobs', auth: 'connectionString' };
const wi: QueueRef = { ...sas, auth: 'workloadIdentity' };

const sysError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5300`), { code });

// Errors as the SDK raises them: RestError with the codes of its ATOM error mapping.
const cases: Array<{ name: string; error: unknown; ref?: QueueRef; reason: string; throttled?: boolean; mentions?: RegExp }> = [
  {
    name: 'a missing queue names the queue and the field to fix',
    error: new RestError('not found', { code: 'MessageEntityNotFoundError', statusCode: 404 }),
    reason: REASON.queueNotFound,
    mentions: /spec\.queue\.serviceBus\.queueName/,
  },
  {
    name: 'a Listen-only key names the missing Manage right',
    error: new RestError('Unauthorized', { code: 'UnauthorizedRequestError', statusCode: 401 }),
    reason: REASON.insufficientRights,
    mentions: /Manage/,
  },
  {
    name: 'workload identity without rights names the Data Owner role',
    error: new RestError('Unauthorized', { code: 'UnauthorizedRequestError', statusCode: 401 }),
    ref: wi,
    reason: REASON.insufficientRights,
    mentions: /Data Owner/,
  },
  {
    name: 'a busy server is throttling',
    error: new RestError('busy', { code: 'ServerBusyError', statusCode: 503 }),
    reason: REASON.throttled,
    throttled: true,
  },
  { name: 'HTTP 429 is throttling', error: new RestError('too many', { statusCode: 429 }), reason: REASON.throttled, throttled: true },
  {
    name: "a response without CountDetails is throttling (KEDA's troubleshooting note)",
    error: new Error('invalid queue runtime properties: no CountDetails element'),
    reason: REASON.throttled,
    throttled: true,
  },
  { name: 'a refused connection means the namespace is unreachable', error: sysError('ECONNREFUSED'), reason: REASON.namespaceUnreachable },
  { name: 'a DNS failure means the namespace is unreachable', error: sysError('ENOTFOUND'), reason: REASON.namespaceUnreachable },
  {
    name: 'a network error wrapped by the SDK is found through its cause',
    error: new RestError('request failed', { code: 'REQUEST_SEND_ERROR' }),
    reason: REASON.namespaceUnreachable,
  },
  {
    name: 'a token failure is an authentication problem',
    error: Object.assign(new Error('no identity'), { name: 'CredentialUnavailableError' }),
    ref: wi,
    reason: REASON.authenticationFailed,
    mentions: /federated credential/,
  },
  { name: 'anything else is a read failure with the service message', error: new Error('something odd'), reason: REASON.readFailed, mentions: /something odd/ },
  { name: 'a thrown string is handled', error: 'plain string', reason: REASON.readFailed, mentions: /plain string/ },
];

for (const c of cases) {
  void test(c.name, () => {
    const f = classifyReadError(c.error, c.ref ?? sas);
    assert.equal(f.reason, c.reason);
    assert.equal(f.throttled, c.throttled ?? false);
    if (c.mentions) assert.match(f.message, c.mentions);
  });
}

void test('messages never carry a key or signature from the service text', () => {
  const f = classifyReadError(new Error('bad token SharedAccessSignature sr=x&sig=SECRETSIG&se=1 for SharedAccessKey=abc123;'), sas);
  assert.doesNotMatch(f.message, /SECRETSIG|abc123/);
  assert.equal(scrub('AccountKey=zzz;x'), 'AccountKey=<redacted>;x');
});

const statuses: Array<{ status: string | undefined; reason: string | undefined }> = [
  { status: 'Active', reason: undefined },
  { status: 'SendDisabled', reason: undefined },
  { status: undefined, reason: undefined },
  { status: 'ReceiveDisabled', reason: REASON.queueReceiveDisabled },
  { status: 'Disabled', reason: REASON.queueDisabled },
  { status: 'Creating', reason: REASON.queueDisabled },
];

for (const s of statuses) {
  void test(`a queue with status ${s.status ?? 'unknown'} ${s.reason ? `is reported as ${s.reason}` : 'can be scaled on'}`, () => {
    assert.equal(checkQueueStatus(s.status, sas)?.reason, s.reason);
  });
}
