// Putting a job on the Service Bus queue. The message id is the job id, so the
// duplicate detection of a real namespace (when enabled) drops a double submit.
import type { ServiceBusSender } from '@azure/service-bus';
import { JobMessage } from './schema.ts';

export async function enqueueJob(sender: ServiceBusSender, message: JobMessage): Promise<void> {
  const body = JobMessage.parse(message);
  await sender.sendMessages({
    messageId: body.jobId,
    contentType: 'application/json',
    subject: 'ocr-job',
    body,
    applicationProperties: { v: body.v, pipeline: body.pipeline },
  });
}

/** Parses a received message body; throws a ZodError (a permanent failure) when it is not a job. */
export function parseJobMessage(body: unknown): JobMessage {
  const value: unknown =
    Buffer.isBuffer(body) || body instanceof Uint8Array ? JSON.parse(Buffer.from(body).toString('utf8')) : typeof body === 'string' ? JSON.parse(body) : body;
  return JobMessage.parse(value);
}
