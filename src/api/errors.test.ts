import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { JobErrorCode } from '../jobs/schema.ts';
import { ApiError, ERROR_CATALOGUE, toApiError } from './errors.ts';

const DOC = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

/** Rows of the first markdown table under `## <heading>`: code (in backticks) -> the other cells. */
function tableUnder(heading: string): Map<string, string[]> {
  const section = DOC.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  assert.ok(section, `docs/api.md has a "## ${heading}" section`);
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const match = /^\|\s*`([A-Z_]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (match?.[1] && match[2] !== undefined)
      rows.set(
        match[1],
        match[2].split('|').map((c) => c.trim()),
      );
  }
  return rows;
}

void describe('docs/api.md', () => {
  void it('lists every catalogue code with the same HTTP status, and no other code', () => {
    const rows = tableUnder('Error catalogue');
    assert.deepEqual([...rows.keys()].sort(), Object.keys(ERROR_CATALOGUE).sort());
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      assert.equal(Number(rows.get(code)?.[0]), entry.status, `status of ${code}`);
    }
  });

  void it('lists every job failure code of the job contract', () => {
    assert.deepEqual([...tableUnder('Job failure codes').keys()].sort(), [...JobErrorCode.options].sort());
  });
});

void describe('mapping thrown errors into the catalogue', () => {
  const framework = (code: string): Error => Object.assign(new Error('framework says no'), { code });
  const cases: { name: string; error: unknown; code: string }[] = [
    { name: 'bad JSON', error: framework('FST_ERR_CTP_INVALID_JSON_BODY'), code: 'MALFORMED_JSON' },
    { name: 'an empty JSON body', error: framework('FST_ERR_CTP_EMPTY_JSON_BODY'), code: 'EMPTY_BODY' },
    { name: 'a body over the limit', error: framework('FST_ERR_CTP_BODY_TOO_LARGE'), code: 'PAYLOAD_TOO_LARGE' },
    { name: 'an unknown content type', error: framework('FST_ERR_CTP_INVALID_MEDIA_TYPE'), code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'a multipart file over the limit', error: framework('FST_REQ_FILE_TOO_LARGE'), code: 'IMAGE_TOO_LARGE' },
    { name: 'a second file part', error: framework('FST_FILES_LIMIT'), code: 'MULTIPART_INVALID' },
    { name: 'a form without its closing boundary', error: new Error('Unexpected end of multipart data'), code: 'MULTIPART_INVALID' },
    {
      name: 'a file part cut by a missing boundary',
      error: new Error('Part terminated early due to unexpected end of multipart data'),
      code: 'MULTIPART_INVALID',
    },
    { name: 'a path parameter over the router limit', error: framework('FST_ERR_MAX_PARAM_LENGTH'), code: 'INVALID_REQUEST' },
    { name: 'a storage RestError', error: Object.assign(new Error('connect ECONNREFUSED'), { name: 'RestError' }), code: 'STORAGE_UNAVAILABLE' },
    { name: 'an upload that vanished', error: Object.assign(new Error('gone'), { name: 'BlobMissingError' }), code: 'UPLOAD_MISSING' },
    { name: 'a plain bug', error: new TypeError('x is undefined'), code: 'INTERNAL' },
    { name: 'a thrown string', error: 'oops', code: 'INTERNAL' },
    { name: 'an ApiError', error: new ApiError('JOB_NOT_FOUND'), code: 'JOB_NOT_FOUND' },
  ];
  for (const c of cases) {
    void it(`maps ${c.name} to ${c.code}`, () => {
      const mapped = toApiError(c.error);
      assert.equal(mapped.code, c.code);
      assert.equal(mapped.status, ERROR_CATALOGUE[mapped.code].status);
    });
  }

  void it('never puts an internal error message in the answer', () => {
    assert.equal(toApiError(new Error('password=hunter2')).body().error.message, ERROR_CATALOGUE.INTERNAL.message);
  });
});
