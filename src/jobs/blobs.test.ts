import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlobSASPermissions, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { SAS_VERSION, sharedKeyBlobSas } from './blobs.ts';
import { CachedKeyCredential } from './storage-connection.ts';

const key = new CachedKeyCredential('account1', Buffer.alloc(64, 7).toString('base64'));

/** Query parameters sorted by name, so two SAS strings compare by content, not by order. */
function sorted(query: string): string {
  return [...new URLSearchParams(query)]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

void describe('the upload SAS signed without the SDK', () => {
  const cases = [
    { name: 'a whole-second window', blob: 'uploads/job-0b6f2a3e-4c1d-4e5f-8a9b-0c1d2e3f4a5b', start: '2026-12-02T07:00:00.000Z', ttlMs: 900_000 },
    { name: 'times with milliseconds (truncated to the second)', blob: 'uploads/job-1', start: '2026-12-02T07:00:00.123Z', ttlMs: 60_456 },
    { name: 'a window across midnight', blob: 'uploads/job-2', start: '2026-12-31T23:59:30.000Z', ttlMs: 3_600_000 },
  ];
  for (const c of cases) {
    void it(`equals the SDK's generateBlobSASQueryParameters for ${c.name}`, () => {
      const startsOn = new Date(c.start);
      const expiresOn = new Date(startsOn.getTime() + c.ttlMs);
      const sdk = generateBlobSASQueryParameters(
        { containerName: 'ocr', blobName: c.blob, permissions: BlobSASPermissions.parse('cw'), startsOn, expiresOn, version: SAS_VERSION },
        key,
      ).toString();
      assert.equal(sorted(sharedKeyBlobSas(key, 'ocr', c.blob, startsOn, expiresOn)), sorted(sdk));
    });
  }

  void it('signs with the cached key exactly as the SDK credential does', () => {
    const plain = generateBlobSASQueryParameters(
      { containerName: 'ocr', blobName: 'uploads/job-3', permissions: BlobSASPermissions.parse('cw'), expiresOn: new Date('2026-12-02T08:00:00Z') },
      key,
    ).toString();
    assert.match(plain, /sig=/);
    assert.equal(key.computeHMACSHA256('text'), Object.getPrototypeOf(CachedKeyCredential.prototype).computeHMACSHA256.call(key, 'text'));
  });
});
