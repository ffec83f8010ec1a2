// One pino logger factory for every process of the platform. JSON to stdout in
// production; the level comes from each process's config reader (its LOG_LEVEL row,
// default info), never from process.env here. Secrets must never reach a log line:
// the redact list covers the fields where they could appear by accident.
import { pino, type Logger } from 'pino';

export type { Logger };

/** `level`: a pino level (trace ... fatal, silent); default info. */
export function createLogger(name: string, level = 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'connectionString',
        '*.connectionString',
        'apiKey',
        '*.apiKey',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'headers["x-api-key"]',
      ],
      censor: '[redacted]',
    },
  });
}

/** A logger that writes nothing: for tests and tools, so every class can require `log: Logger`. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
