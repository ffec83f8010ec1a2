// Kubernetes Events for what a user should see (children created or deleted, a missing
// Secret, a failed apply), deduplicated: the same reason and message for the same object
// is emitted once, until the reconciler says the problem cleared. An idle loop emits nothing.
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

export class EventRecorder {
  #sink: EventSink;
  #log: Logger;
  #clock: Clock;
  #seen = new Map<string, Map<string, string>>(); // uid -> reason -> message

  /** `clock` stamps firstTimestamp and lastTimestamp (epoch ms); default systemClock. */
  constructor(sink: EventSink, log: Logger, clock: Clock = systemClock) {
    this.#sink = sink;
    this.#log = log;
    this.#clock = clock;
  }

  /** Emits unless this exact reason+message was already emitted for the object. */
  async record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): Promise<boolean> {
    const byReason = this.#seen.get(target.uid) ?? new Map<string, string>();
    if (byReason.get(reason) === message) return false;
    byReason.set(reason, message);
    this.#seen.delete(target.uid);
    this.#seen.set(target.uid, byReason);
    if (this.#seen.size > MAX_TRACKED) this.#seen.delete(this.#seen.keys().next().value as string);

    const now = new Date(this.#clock());
    const event: CoreV1Event = {
      metadata: { generateName: `${target.name}.`, namespace: target.namespace },
      involvedObject: { apiVersion: target.apiVersion, kind: target.kind, name: target.name, namespace: target.namespace, uid: target.uid },
      type,
      reason,
      message,
      source: { component: COMPONENT },
      reportingComponent: COMPONENT,
      reportingInstance: COMPONENT,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.#sink(target.namespace, event);
    } catch (err) {
      // Events are best effort: never fail a reconcile because one could not be written.
      this.#log.warn({ err, namespace: target.namespace, name: target.name, reason }, 'Failed to record Event');
    }
    return true;
  }

  /** The problems behind these reasons cleared; emit them again if they come back. */
  forget(uid: string, reasons: readonly string[]): void {
    const byReason = this.#seen.get(uid);
    for (const r of reasons) byReason?.delete(r);
  }

  forgetObject(uid: string): void {
    this.#seen.delete(uid);
  }
}
