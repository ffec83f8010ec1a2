// One pino logger factory for every process of the platform. JSON to stdout in
// production; the level comes from LOG_LEVEL. Secrets must never reach a log line:
// the redact list covers the fields where they could appear by accident.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['connectionString', '*.connectionString', 'apiKey', '*.apiKey', 'authorization', '*.authorization', 'headers.authorization', 'headers["x-api-key"]'],
      censor: '[redacted]',
    },
  });
}

/** A logger that writes nothing: for tests and tools, so every class can require `log: Logger`. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
