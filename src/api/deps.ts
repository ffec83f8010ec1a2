// What the API needs from the outside world, as small interfaces. Production wires
// the real JobRecords / JobBlobs (Table + Blob Storage) and a Service Bus sender;
// tests use the same classes against Azurite and the stand-in; the benchmark's
// "API overhead without storage" figure uses an in-process store of its own.
import type { EnqueueOptions, JobBlobs, JobMessage, JobRecords } from '../jobs/index.ts';

export type RecordStore = Pick<JobRecords, 'create' | 'get' | 'transition' | 'remove' | 'findResult' | 'delete' | 'forgetResult' | 'ping'>;
export type ImageStore = Pick<
  JobBlobs,
  'uploadUrl' | 'uploadInfo' | 'uploadSize' | 'readUpload' | 'putInput' | 'putInputStream' | 'deleteInput' | 'deleteJobBlobs' | 'readResult' | 'ping'
>;

export interface JobQueue {
  /** `options.notifyUrl`: where the worker tells this replica that the (sync) job is finished. */
  send(message: JobMessage, options?: EnqueueOptions): Promise<void>;
  /** A cheap round trip that proves the queue is reachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
