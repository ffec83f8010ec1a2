// The pure parts of the job contract's integrity rules: which blob a worker may read for a
// message, and that messages from before and after `blobPath` became optional both parse.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJobMessage } from './queue.ts';
import { inputBlobPath, messageImagePath, uploadBlobPath } from './schema.ts';

const JOB = 'job-3f6c0000-0000-4000-8000-000000000001';

void describe('the image path of a queue message', () => {
  void it('is derived from the job id, never from the message', () => {
    assert.equal(inputBlobPath(JOB), `inputs/${JOB}`);
    assert.equal(messageImagePath({ jobId: JOB }), `inputs/${JOB}`);
    assert.equal(messageImagePath({ jobId: JOB, blobPath: `inputs/${JOB}` }), `inputs/${JOB}`);
  });

  void it('accepts uploads/<jobId> of a message queued before inputs/ existed', () => {
    assert.equal(messageImagePath({ jobId: JOB, blobPath: uploadBlobPath(JOB) }), `uploads/${JOB}`);
  });

  const foreign = [
    `inputs/job-other-000001`,
    `uploads/job-other-000001`,
    `results/${JOB}.json`,
    `inputs/${JOB}/../job-other-000001`,
    `inputs/${JOB} `,
    `/inputs/${JOB}`,
    `INPUTS/${JOB}`,
    `https://evil.example/${JOB}`,
  ];
  for (const blobPath of foreign) {
    void it(`refuses a message naming ${JSON.stringify(blobPath)}`, () => {
      assert.equal(messageImagePath({ jobId: JOB, blobPath }), undefined);
    });
  }
});

void describe('the version-1 queue message', () => {
  const message = { v: 1, jobId: JOB, pipeline: 'p', contentHash: 'a'.repeat(64), languages: ['eng'], options: { pageSegmentation: 'auto' } };

  void it('parses with and without blobPath (older APIs always send it)', () => {
    assert.equal(parseJobMessage({ ...message, blobPath: `uploads/${JOB}` }).blobPath, `uploads/${JOB}`);
    assert.equal(parseJobMessage(message).blobPath, undefined);
  });

  void it('still refuses unknown fields and an empty blobPath', () => {
    assert.throws(() => parseJobMessage({ ...message, extra: 1 }));
    assert.throws(() => parseJobMessage({ ...message, blobPath: '' }));
  });
});
