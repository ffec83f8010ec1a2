// Metric names that cross a process boundary: the operator publishes the ocr_queue_* gauges
// that prometheus-adapter or KEDA serve to the worker HPA, and it queries the workers'
// ocr_worker_* series from Prometheus. Publisher and reader import the same constant, so a
// rename cannot break the autoscaler silently. Names used by one process only stay there.

/** Queue-depth gauges on the operator's /metrics, labelled namespace, pipeline and queue. */
export const QUEUE_METRIC = {
  active: 'ocr_queue_active_messages',
  scheduled: 'ocr_queue_scheduled_messages',
  deadLettered: 'ocr_queue_dead_lettered_messages',
  inFlight: 'ocr_queue_in_flight_messages',
  backlog: 'ocr_queue_backlog',
  lastSuccess: 'ocr_queue_last_success_timestamp_seconds',
  readErrors: 'ocr_queue_read_errors_total',
} as const;

/** External metric served by prometheus-adapter (or KEDA) for the worker HPA. */
export const QUEUE_BACKLOG_METRIC = QUEUE_METRIC.backlog;

/** Worker metrics on the worker's /metrics; the operator's Prometheus queries read inFlight and jobs. */
export const WORKER_METRIC = {
  jobs: 'ocr_worker_jobs_total',
  ocrDuration: 'ocr_worker_ocr_duration_seconds',
  inFlight: 'ocr_worker_jobs_in_flight',
  lockRenewals: 'ocr_worker_lock_renewals_total',
  modelLoadSeconds: 'ocr_worker_model_load_seconds',
} as const;

/**
 * API metrics another process reads: the operator's activity probe (src/operator/scaling/activity.ts)
 * queries the created-jobs counter from Prometheus to wake an idle queue poller.
 */
export const API_METRIC = {
  /** Jobs created, by how the image arrives (path); on the API's admin /metrics. */
  jobsCreated: 'ocr_api_jobs_created_total',
} as const;

/**
 * The recovery loop's metrics on the API's admin /metrics (src/api/recovery/): only the replica holding the
 * pipeline's recovery lease counts; the chart's alerts and the dashboard read them.
 */
export const RECOVERY_METRIC = {
  /** Stale queued or processing jobs whose message recovery sent again, by the state they were stuck in. */
  recovered: 'ocr_api_jobs_recovered_total',
  /** awaiting_upload jobs past their deadline, moved to expired. */
  expired: 'ocr_api_jobs_expired_total',
  /** Dead-letter queue messages read and settled, by what they did to the job (failed, already_terminal, unknown_job, unreadable). */
  deadLettered: 'ocr_api_jobs_dead_lettered_total',
  /** Stale jobs recovery failed (queue_timeout, processing_timeout). */
  timedOut: 'ocr_api_jobs_timed_out_total',
  /** Finished jobs, dedupe entries and stale client uploads deleted by retention, by kind (job, cache_entry, upload). */
  retentionDeleted: 'ocr_api_retention_deleted_total',
  /** Age in seconds of the oldest queued job among those read in the last pass (0 when none). */
  oldestQueuedAge: 'ocr_api_oldest_queued_job_age_seconds',
  /** 1 on the replica that holds the recovery lease, 0 elsewhere. */
  leaseHeld: 'ocr_api_recovery_lease_held',
  /** Recovery passes by outcome (ok, error). */
  passes: 'ocr_api_recovery_passes_total',
} as const;
