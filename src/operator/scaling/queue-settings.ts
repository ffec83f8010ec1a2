// spec.queue.serviceBus.maxDeliveryCount and lockDurationSeconds made real: the operator reads
// the queue's properties with the credential its poller already uses (Manage), updates the queue
// when they differ (every other property kept as the queue has it), and reports what the queue
// has. When it may not update (a credential that can read but not manage, or no rights at all)
// the difference becomes the QueueConfigured condition (conditions/checks.ts queueConfigured),
// and the workers are told the queue's real MaxDeliveryCount (desired/worker-deployment.ts).
//
//   readQueueSettings / applyQueueSettings: one admin round trip each, no state.
//   QueueSettingsApplier: per pipeline, runs applyQueueSettings in the background when the
//   desired values or the credential change, and again every recheckMs (drift: someone edited
//   the queue); the reconcile reads the latest outcome without waiting for it.
import type { QueueProperties, ServiceBusAdministrationClient } from '@azure/service-bus';
import type { OcrPipeline } from '../../crds/ocrpipeline.ts';
import type { QueueSettingsFacts, QueueSettingValues } from '../conditions/checks.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { QueueCredential } from './client.ts';
import { adminClient, pollerKey } from './client.ts';

/** The two queue properties a pipeline decides (lockDurationSeconds: whole seconds). */
export type QueueSettings = QueueSettingValues;

/** What the operator knows about a pipeline's queue settings: ScalingFacts.queueSettings, for the QueueConfigured condition. */
export type QueueSettingsOutcome = QueueSettingsFacts;

export type QueueAdmin = Pick<ServiceBusAdministrationClient, 'getQueue' | 'updateQueue'>;

export function desiredQueueSettings(p: OcrPipeline): QueueSettings {
  const sb = p.spec.queue.serviceBus;
  return { maxDeliveryCount: sb.maxDeliveryCount, lockDurationSeconds: sb.lockDurationSeconds };
}

export function sameQueueSettings(a: QueueSettings, b: QueueSettings): boolean {
  return a.maxDeliveryCount === b.maxDeliveryCount && a.lockDurationSeconds === b.lockDurationSeconds;
}

/** "maxDeliveryCount 10, lockDuration 60 s" */
export function describeQueueSettings(s: QueueSettings): string {
  return `maxDeliveryCount ${s.maxDeliveryCount}, lockDuration ${s.lockDurationSeconds} s`;
}

/** Seconds of an ISO 8601 duration as Service Bus reports it (PT1M, PT30S, PT1M30.5S, P1DT...), rounded; undefined when malformed. */
export function durationSeconds(text: string): number | undefined {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (match === null || text.trim() === 'P' || text.trim().endsWith('T')) return undefined;
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return Math.round(((Number(d) * 24 + Number(h)) * 60 + Number(m)) * 60 + Number(s));
}

/** An ISO 8601 duration of whole seconds, as updateQueue takes it: 60 -> PT60S. */
export function secondsDuration(seconds: number): string {
  return `PT${seconds}S`;
}

function settingsOf(q: Pick<QueueProperties, 'maxDeliveryCount' | 'lockDuration' | 'name'>): QueueSettings {
  const lockDurationSeconds = durationSeconds(q.lockDuration);
  if (lockDurationSeconds === undefined) throw new Error(`queue "${q.name}" reports lockDuration "${q.lockDuration}", which is not an ISO 8601 duration`);
  return { maxDeliveryCount: q.maxDeliveryCount, lockDurationSeconds };
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // RestError carries an HTTP statusCode, ServiceBusError a string code: either goes in front of the message.
  const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
  const prefix = typeof statusCode === 'number' ? `${statusCode} ` : typeof code === 'string' ? `${code} ` : '';
  return `${prefix}${error.message}`.slice(0, 500);
}

/**
 * Reads the queue and, when its settings differ from `desired`, updates it with every other property as read.
 * Never throws: read and update failures are in the outcome.
 */
export async function applyQueueSettings(admin: QueueAdmin, queueName: string, desired: QueueSettings, timeoutMs = 10_000): Promise<QueueSettingsOutcome> {
  let current: Awaited<ReturnType<QueueAdmin['getQueue']>>;
  let actual: QueueSettings;
  try {
    current = await admin.getQueue(queueName, { abortSignal: AbortSignal.timeout(timeoutMs) });
    actual = settingsOf(current);
  } catch (error) {
    return { desired, readError: errorText(error) };
  }
  if (sameQueueSettings(actual, desired)) return { desired, actual };
  try {
    const updated = await admin.updateQueue(
      { ...current, maxDeliveryCount: desired.maxDeliveryCount, lockDuration: secondsDuration(desired.lockDurationSeconds) },
      { abortSignal: AbortSignal.timeout(timeoutMs) },
    );
    return { desired, actual: settingsOf(updated), applied: { before: actual } };
  } catch (error) {
    return { desired, actual, applyError: errorText(error) };
  }
}

export interface QueueSettingsApplierOptions {
  log: Logger;
  /** Called with the pipeline key when an outcome changed what the reconcile would report. */
  onChange: (key: string) => void;
  /** Admin client per credential (tests pass one for the stand-in); default client.ts adminClient. */
  adminFor?: (credential: QueueCredential) => QueueAdmin;
  /** How often the settings are checked again without a change (ms); default 5 min. */
  recheckMs?: number;
  clock?: Clock;
}

interface Entry {
  /** Desired values + queue + credential the last round ran for. */
  signature: string;
  outcome: QueueSettingsOutcome | undefined;
  at: number;
  running: boolean;
}

export class QueueSettingsApplier {
  readonly #o: QueueSettingsApplierOptions;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(o: QueueSettingsApplierOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
  }

  /** Starts a round in the background when the inputs changed or the last round is older than recheckMs. */
  ensure(key: string, credential: QueueCredential, queueName: string, desired: QueueSettings): void {
    const signature = JSON.stringify([pollerKey(credential), queueName.toLowerCase(), desired]);
    const entry = this.#entries.get(key);
    const now = this.#clock();
    if (entry?.running) return;
    if (entry && entry.signature === signature && now - entry.at < (this.#o.recheckMs ?? 300_000)) return;
    const next: Entry = { signature, outcome: entry?.signature === signature ? entry.outcome : undefined, at: now, running: true };
    this.#entries.set(key, next);
    const admin = (this.#o.adminFor ?? adminClient)(credential);
    void applyQueueSettings(admin, queueName, desired).then((outcome) => {
      next.running = false;
      next.at = this.#clock();
      this.#log(key, queueName, outcome);
      const changed = JSON.stringify(outcome) !== JSON.stringify(next.outcome);
      next.outcome = outcome;
      if (changed && this.#entries.get(key) === next) this.#o.onChange(key);
    });
  }

  /** The latest outcome for the pipeline, if a round finished for its current inputs. */
  outcome(key: string): QueueSettingsOutcome | undefined {
    return this.#entries.get(key)?.outcome;
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }

  #log(key: string, queue: string, o: QueueSettingsOutcome): void {
    const { log } = this.#o;
    if (o.applied) log.info({ pipeline: key, queue, before: o.applied.before, after: o.actual }, 'Applied queue settings');
    else if (o.applyError) log.warn({ pipeline: key, queue, actual: o.actual, desired: o.desired, reason: o.applyError }, 'Failed to apply queue settings');
    else if (o.readError) log.debug({ pipeline: key, queue, reason: o.readError }, 'Failed to read queue settings');
  }
}
