// The job contract: schemas, records, blobs, connections. API and worker import from here.
export * from './schema.ts';
export * from './dedupe.ts';
export * from './records.ts';
export * from './blobs.ts';
export * from './connections.ts';
export * from './queue.ts';
export * from './egress.ts';
export * from './webhook.ts';
export * from './outbox.ts';
