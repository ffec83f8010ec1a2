// The pipeline settings a chaos run shortens, and the environment that carries them to the API
// and worker processes (the names the operator sets, src/contract/container.ts). Short deadlines
// and a short recovery interval let a bounded run see recovery act; the queued deadline stays
// above the wait a job has behind the run's backlog, or recovery would re-send jobs that are
// only waiting their turn.
import { ENV } from '../../src/contract/container.ts';

export interface PipelineSettings {
  /** awaiting_upload longer than this -> expired (s); the upload URL lives as long. */
  uploadDeadlineSeconds: number;
  /** queued without a change for this long -> sent again (s). */
  queuedDeadlineSeconds: number;
  /** processing without a change for this long -> sent again (s). */
  processingDeadlineSeconds: number;
  /** Seconds between recovery passes. */
  recoveryIntervalSeconds: number;
  /** The recovery runner's lease (s): how soon another API replica takes over from a killed one. */
  recoveryLeaseSeconds: number;
  /** Peek-lock duration of the queue (s): how soon a killed worker's message is delivered again. */
  lockDurationSeconds: number;
  /** Deliveries before the broker dead-letters a message; the workers get the same value. */
  maxDeliveryCount: number;
  /** Attempts of a job in all before a transient failure fails it, and the shortest and longest retry delay (s). */
  retryMaxAttempts: number;
  retryBaseDelaySeconds: number;
  retryMaxDelaySeconds: number;
  /** Webhook attempts per event, and the first and largest retry delay (ms). */
  webhookAttempts: number;
  webhookBaseDelayMs: number;
  webhookMaxDelayMs: number;
  /** How often an API replica looks for due webhooks in the outbox, and how long a claim on one lasts before another replica may take it (ms). */
  webhookPollIntervalMs: number;
  webhookLeaseMs: number;
}

export const CHAOS_SETTINGS: PipelineSettings = {
  uploadDeadlineSeconds: 60,
  queuedDeadlineSeconds: 120,
  processingDeadlineSeconds: 120,
  recoveryIntervalSeconds: 10,
  recoveryLeaseSeconds: 15,
  lockDurationSeconds: 10,
  maxDeliveryCount: 10,
  retryMaxAttempts: 5,
  retryBaseDelaySeconds: 1,
  retryMaxDelaySeconds: 5,
  webhookAttempts: 30,
  webhookBaseDelayMs: 500,
  webhookMaxDelayMs: 5_000,
  webhookPollIntervalMs: 500,
  webhookLeaseMs: 10_000,
};

/**
 * After the window, a submitted job that is not terminal when nothing has changed for this many seconds is stuck: the longer of the
 * queued and processing deadlines plus one recovery interval (the upload deadline concerns only the jobs never submitted).
 */
export function stuckAfterSeconds(s: PipelineSettings): number {
  return Math.max(s.queuedDeadlineSeconds, s.processingDeadlineSeconds) + s.recoveryIntervalSeconds;
}

/** The environment of every API and worker process of the run. */
export function settingsEnv(s: PipelineSettings): Record<string, string> {
  return {
    [ENV.uploadUrlTtlSeconds]: String(s.uploadDeadlineSeconds),
    [ENV.jobUploadDeadlineSeconds]: String(s.uploadDeadlineSeconds),
    [ENV.jobQueuedDeadlineSeconds]: String(s.queuedDeadlineSeconds),
    [ENV.jobProcessingDeadlineSeconds]: String(s.processingDeadlineSeconds),
    [ENV.recoveryIntervalSeconds]: String(s.recoveryIntervalSeconds),
    [ENV.recoveryLeaseSeconds]: String(s.recoveryLeaseSeconds),
    [ENV.workerRetryMaxAttempts]: String(s.retryMaxAttempts),
    [ENV.workerRetryBaseDelaySeconds]: String(s.retryBaseDelaySeconds),
    [ENV.workerRetryMaxDelaySeconds]: String(s.retryMaxDelaySeconds),
    [ENV.webhookAttempts]: String(s.webhookAttempts),
    [ENV.webhookBaseDelayMs]: String(s.webhookBaseDelayMs),
    [ENV.webhookMaxDelayMs]: String(s.webhookMaxDelayMs),
    [ENV.webhookPollIntervalMs]: String(s.webhookPollIntervalMs),
    [ENV.webhookLeaseMs]: String(s.webhookLeaseMs),
  };
}
