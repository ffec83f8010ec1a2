// The scaling signal: from a queue's runtime counters (and, when Prometheus is available,
// the workers' own in-flight gauge) to the one number the worker HPA scales on.
//
// Whether Service Bus counts a peek-locked message in ActiveMessageCount is not settled by
// the sources we have (docs/scaling.md, "Counting in-flight work"): the message-state model
// says every message that is neither deferred nor scheduled is Active, while users report
// activeMessageCount reading 0 with messages locked in a receiver's prefetch buffer. The
// formula below is right under either reading, without knowing which one holds:
//
//   live     = messages stored in the queue that a worker holds or could receive
//            = total - deadLettered - scheduled - transfer - transferDeadLettered
//              (a locked message is still stored until it is completed, so it is in
//              `total` either way), never below `active`
//   inFlight = max(live - active, workersInFlight)
//              live - active is the broker's own count of locked messages when it leaves
//              them out of active (0 when it counts them in); the workers' gauge covers
//              the other reading and the moments between two reads
//   backlog  = countInFlight ? max(live, workersInFlight) : max(0, live - inFlight)
//
// So with countInFlight a locked message is counted exactly once (never active + inFlight
// when active already holds it), and never dropped (live holds it when active does not).

/** The counters of one queue, as read with getQueueRuntimeProperties. */
export interface QueueCounts {
  active: number;
  scheduled: number;
  deadLettered: number;
  /** totalMessageCount: every message the entity stores, dead-lettered and scheduled included. */
  total: number;
  transfer: number;
  transferDeadLettered: number;
}

/** The numbers status.scaling and the gauges show, in plain integers. */
export interface QueueSignal {
  /** ActiveMessageCount as the broker reports it. */
  activeMessages: number;
  scheduled: number;
  deadLettered: number;
  /** Messages locked and being processed (best estimate, see above). */
  inFlight: number;
  /** Messages nobody holds yet. */
  waiting: number;
  /** What the worker HPA divides by messagesPerReplica. */
  backlog: number;
}

const count = (n: number | undefined): number => (Number.isFinite(n) && (n as number) > 0 ? Math.floor(n as number) : 0);

/** Messages in the queue proper: neither dead-lettered, scheduled nor in transfer. */
export function liveMessages(c: QueueCounts): number {
  const rest = count(c.total) - count(c.deadLettered) - count(c.scheduled) - count(c.transfer) - count(c.transferDeadLettered);
  return Math.max(count(c.active), rest);
}

/**
 * @param workersInFlight sum of ocr_worker_jobs_in_flight for the pipeline, or undefined
 *   when Prometheus is not configured or did not answer (then the broker's view stands alone)
 */
export function queueSignal(c: QueueCounts, workersInFlight: number | undefined, countInFlight: boolean): QueueSignal {
  const active = count(c.active);
  const live = liveMessages(c);
  const workers = count(workersInFlight);
  const inFlight = Math.max(live - active, workers);
  const waiting = Math.max(0, live - inFlight);
  return {
    activeMessages: active,
    scheduled: count(c.scheduled),
    deadLettered: count(c.deadLettered),
    inFlight,
    waiting,
    backlog: countInFlight ? Math.max(live, workers) : waiting,
  };
}

/** Whether a queue has anything a worker could be busy with (drives the poll pace and the floor). */
export function hasWork(c: QueueCounts): boolean {
  return liveMessages(c) > 0;
}
