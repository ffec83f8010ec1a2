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
