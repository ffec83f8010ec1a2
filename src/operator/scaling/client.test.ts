import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointOf, hasWorkloadIdentity, noIdentityReader, pollerKey } from './client.ts';
import { classifyReadError } from './preflight.ts';

const cs = (key: string) => ({
  kind: 'connectionString' as const,
  connectionString: `Endpoint=sb://Contoso.servicebus.windows.net/;SharedAccessKeyName=manage;SharedAccessKey=${key}`,
});

void test('the endpoint of a connection string is its lower-cased host', () => {
  assert.equal(endpointOf(cs('k')), 'contoso.servicebus.windows.net');
  assert.equal(
    endpointOf({
      kind: 'connectionString',
      connectionString: 'Endpoint=sb://127.0.0.1:5300;SharedAccessKeyName=a;SharedAccessKey=b;UseDevelopmentEmulator=true',
    }),
    '127.0.0.1:5300',
  );
  assert.equal(endpointOf({ kind: 'workloadIdentity', namespace: 'Contoso.servicebus.windows.net' }), 'contoso.servicebus.windows.net');
});

void test('poller keys separate credentials on one namespace and never contain the key', () => {
  assert.notEqual(pollerKey(cs('one')), pollerKey(cs('two')));
  assert.equal(pollerKey(cs('one')), pollerKey(cs('one')));
  assert.doesNotMatch(pollerKey(cs('supersecret')), /supersecret/);
  assert.equal(pollerKey({ kind: 'workloadIdentity', namespace: 'contoso.servicebus.windows.net' }), 'contoso.servicebus.windows.net#workload-identity');
});

for (const bad of ['no endpoint here', 'Endpoint=;SharedAccessKey=x', 'Endpoint=not a url;SharedAccessKey=x']) {
  void test(`the connection string "${bad}" is rejected with a message that does not echo it`, () => {
    assert.throws(
      () => endpointOf({ kind: 'connectionString', connectionString: bad }),
      (e: Error) => e.name === 'InvalidConnectionStringError' && !e.message.includes('SharedAccessKey=x'),
    );
  });
}

void test('workload identity needs the three variables the webhook injects', () => {
  assert.equal(hasWorkloadIdentity({}), false);
  assert.equal(hasWorkloadIdentity({ AZURE_FEDERATED_TOKEN_FILE: '/var/run/t', AZURE_CLIENT_ID: 'c' }), false);
  assert.equal(hasWorkloadIdentity({ AZURE_FEDERATED_TOKEN_FILE: '/var/run/t', AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't' }), true);
});

void test('without workload identity a read fails at once as AuthenticationFailed, saying what to set', async () => {
  const error = await noIdentityReader()
    .counts('q')
    .catch((e: unknown) => e);
  const finding = classifyReadError(error, { endpoint: 'contoso.servicebus.windows.net', queueName: 'q', auth: 'workloadIdentity' });
  assert.equal(finding.reason, 'AuthenticationFailed');
  assert.match(finding.message, /AZURE_FEDERATED_TOKEN_FILE/);
});
