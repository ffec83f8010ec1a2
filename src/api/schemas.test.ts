import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateJobBody, quickCreateJobBody } from './schemas.ts';

/** Bodies as JSON.parse gives them; `quick`: whether the quick parse answers itself (else zod does). */
const bodies: { name: string; body: unknown; quick: boolean }[] = [
  { name: 'the usual body', body: { fileName: 'r.png', sizeBytes: 1000, languages: ['eng'] }, quick: true },
  { name: 'an empty object', body: {}, quick: true },
  { name: 'every quick field', body: { fileName: 'a', sizeBytes: 1, contentType: 'image/png', languages: ['eng', 'chi_sim', 'deu'] }, quick: true },
  { name: 'eight languages', body: { languages: ['eng', 'deu', 'fra', 'spa', 'ita', 'por', 'nld', 'chi_sim'] }, quick: true },
  { name: 'a 255-character file name', body: { fileName: 'x'.repeat(255) }, quick: true },
  { name: 'the largest safe size', body: { sizeBytes: Number.MAX_SAFE_INTEGER }, quick: true },
  { name: 'a PDF', body: { contentType: 'application/pdf' }, quick: true },
  { name: 'options (zod applies the defaults)', body: { options: { pageSegmentation: 'sparse_text' } }, quick: false },
  { name: 'an engine', body: { languages: ['eng'], options: { engine: 'paddle' } }, quick: false },
  { name: 'a webhook URL', body: { webhookUrl: 'https://example.com/hook' }, quick: false },
  { name: 'a webhook URL that is not http', body: { webhookUrl: 'ftp://example.com/hook' }, quick: false },
  { name: 'an unknown field', body: { fileName: 'r.png', extra: 1 }, quick: false },
  { name: 'a __proto__ field', body: JSON.parse('{"__proto__": {"x": 1}}') as unknown, quick: false },
  { name: 'an empty file name', body: { fileName: '' }, quick: false },
  { name: 'a 256-character file name', body: { fileName: 'x'.repeat(256) }, quick: false },
  { name: 'a numeric file name', body: { fileName: 5 }, quick: false },
  { name: 'size 0', body: { sizeBytes: 0 }, quick: false },
  { name: 'a negative size', body: { sizeBytes: -1 }, quick: false },
  { name: 'a fractional size', body: { sizeBytes: 1.5 }, quick: false },
  { name: 'a size beyond safe integers', body: { sizeBytes: 2 ** 60 }, quick: false },
  { name: 'a size as a string', body: { sizeBytes: '1000' }, quick: false },
  { name: 'an unknown content type', body: { contentType: 'image/gif' }, quick: false },
  { name: 'an upper-case content type', body: { contentType: 'IMAGE/PNG' }, quick: false },
  { name: 'no languages', body: { languages: [] }, quick: false },
  { name: 'nine languages', body: { languages: ['eng', 'deu', 'fra', 'spa', 'ita', 'por', 'nld', 'chi_sim', 'jpn'] }, quick: false },
  { name: 'a language that is not a tesseract code', body: { languages: ['english'] }, quick: false },
  { name: 'a language that is not a string', body: { languages: [1] }, quick: false },
  { name: 'languages as a string', body: { languages: 'eng' }, quick: false },
  { name: 'null fields', body: { fileName: null }, quick: false },
  { name: 'an array', body: [], quick: false },
  { name: 'a string', body: 'body', quick: false },
  { name: 'a number', body: 5, quick: false },
  { name: 'null', body: null, quick: false },
];

void describe('the quick parse of POST /v1/jobs bodies', () => {
  for (const { name, body, quick } of bodies) {
    void it(`${quick ? 'parses' : 'leaves to zod'} ${name}, and zod agrees`, () => {
      const fast = quickCreateJobBody(body);
      const zod = CreateJobBody.safeParse(body);
      if (!quick) {
        assert.equal(fast, undefined);
        return;
      }
      assert.ok(zod.success, 'zod accepts every body the quick parse accepts');
      assert.deepEqual(fast, zod.data);
      assert.notEqual(fast, body, 'a new object, as zod returns');
    });
  }

  void it('leaves every body zod refuses to zod', () => {
    for (const { name, body } of bodies) if (!CreateJobBody.safeParse(body).success) assert.equal(quickCreateJobBody(body), undefined, name);
  });
});
