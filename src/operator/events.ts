// Kubernetes Events for what a user should see (children created or deleted, a missing
// Secret, a failed apply), deduplicated and sent without blocking the reconcile:
// - the key is object + reason + message: the same one is emitted once, until the reconciler
//   says the problem cleared (forget); when it comes back, the new Event carries the count of
//   occurrences and the first time it was seen, as the API server's own aggregation does;
// - record() returns at once; at most MAX_IN_FLIGHT Events are being written, the rest wait in
//   a bounded queue (MAX_QUEUED; beyond it the oldest is dropped with a warning). An idle loop emits nothing.
import type { CoreV1Event } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
}

export type EventSink = (namespace: string, event: CoreV1Event) => Promise<unknown>;

const COMPONENT = 'ocr-platform-operator';
/** Objects tracked at most; beyond this the oldest is forgotten (worst case: one repeat). */
const MAX_TRACKED = 10_000;
/** Distinct reason+message pairs kept per object; beyond this the oldest is forgotten. */
const MAX_PER_OBJECT = 32;
/** Events written concurrently, and Events waiting beyond those. */
const MAX_IN_FLIGHT = 4;
const MAX_QUEUED = 1_000;

interface Seen {
  /** Emitted and not cleared since: a repeat is suppressed. */
  active: boolean;
  count: number;
  first: Date;
}

export class EventRecorder {
  #sink: EventSink;
  #log: Logger;
  #clock: Clock;
  #seen = new Map<string, Map<string, Seen>>(); // uid -> reason\0message -> what was emitted
  #queue: { namespace: string; event: CoreV1Event }[] = [];
  #inFlight = new Set<Promise<void>>();

  /** `clock` stamps firstTimestamp and lastTimestamp (epoch ms); default systemClock. */
  constructor(sink: EventSink, log: Logger, clock: Clock = systemClock) {
    this.#sink = sink;
    this.#log = log;
    this.#clock = clock;
  }

  /** Queues the Event unless this exact reason+message is active for the object; true when queued. Never throws, never waits. */
  record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): boolean {
    const byKey = this.#seen.get(target.uid) ?? new Map<string, Seen>();
    const key = `${reason}\0${message}`;
    const now = new Date(this.#clock());
    const previous = byKey.get(key);
    if (previous?.active) return false;
    const seen: Seen = previous ? { active: true, count: previous.count + 1, first: previous.first } : { active: true, count: 1, first: now };
    byKey.delete(key);
    byKey.set(key, seen);
    if (byKey.size > MAX_PER_OBJECT) byKey.delete(byKey.keys().next().value as string);
    this.#seen.delete(target.uid);
    this.#seen.set(target.uid, byKey);
    if (this.#seen.size > MAX_TRACKED) this.#seen.delete(this.#seen.keys().next().value as string);

    const event: CoreV1Event = {
      metadata: { generateName: `${target.name}.`, namespace: target.namespace },
      involvedObject: { apiVersion: target.apiVersion, kind: target.kind, name: target.name, namespace: target.namespace, uid: target.uid },
      type,
      reason,
      message,
      source: { component: COMPONENT },
      reportingComponent: COMPONENT,
      reportingInstance: COMPONENT,
      firstTimestamp: seen.first,
      lastTimestamp: now,
      count: seen.count,
    };
    this.#enqueue(target.namespace, event);
    return true;
  }

  /** The problems behind these reasons cleared; emit them again (counted) if they come back. */
  forget(uid: string, reasons: readonly string[]): void {
    const byKey = this.#seen.get(uid);
    for (const [key, seen] of byKey ?? []) if (reasons.includes(key.slice(0, key.indexOf('\0')))) seen.active = false;
  }

  forgetObject(uid: string): void {
    this.#seen.delete(uid);
  }

  /** Resolves when every queued Event was written or failed (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #enqueue(namespace: string, event: CoreV1Event): void {
    this.#queue.push({ namespace, event });
    if (this.#queue.length > MAX_QUEUED) {
      const dropped = this.#queue.shift();
      this.#log.warn({ namespace: dropped?.namespace, reason: dropped?.event.reason }, 'Dropped an Event: too many waiting to be written');
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight.size < MAX_IN_FLIGHT && this.#queue.length > 0) {
      const { namespace, event } = this.#queue.shift()!;
      const send = this.#send(namespace, event).finally(() => {
        this.#inFlight.delete(send);
        this.#pump();
      });
      this.#inFlight.add(send);
    }
  }

  async #send(namespace: string, event: CoreV1Event): Promise<void> {
    try {
      await this.#sink(namespace, event);
    } catch (err) {
      // Events are best effort: never fail a reconcile because one could not be written.
      this.#log.warn({ err, namespace, name: event.involvedObject.name, reason: event.reason }, 'Failed to record Event');
    }
  }
}
