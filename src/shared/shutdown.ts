// Graceful shutdown for every process main (API, operator, worker): SIGTERM or SIGINT
// runs `stop` once, then the process exits 0; a failed stop exits 1. When `forceExitAfterMs`
// is set and stopping takes longer, the process exits 1 anyway, so a stuck close never
// outlives the pod's grace period silently. Further signals while stopping are ignored:
// the first one's stop (and its deadline) is already running.
import type { Logger } from './logger.ts';

export interface ShutdownOptions {
  log: Logger;
  /** Closes servers and clients, drains work, releases leases. Called at most once. */
  stop: (reason: string) => Promise<void>;
  /** Milliseconds from the first signal to a forced exit (code 1); absent: no forced exit (stop bounds itself). */
  forceExitAfterMs?: number;
  /** Default SIGTERM (Kubernetes) and SIGINT (Ctrl-C). Empty: no handlers, call the returned function. */
  signals?: readonly NodeJS.Signals[];
  /** Default process.exit; tests pass a recorder. */
  exit?: (code: number) => void;
}

/** Installs the signal handlers; returns a function that shuts down for another reason (e.g. a failed start). */
export function handleShutdown(options: ShutdownOptions): (reason: string, exitCode?: number) => Promise<void> {
  const { log, stop, forceExitAfterMs } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string, exitCode = 0): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason, forceExitAfterMs }, 'Shutting down');
      const force =
        forceExitAfterMs === undefined
          ? undefined
          : setTimeout(() => {
              log.error({ forceExitAfterMs }, 'Shutdown took too long; exiting');
              exit(1);
            }, forceExitAfterMs);
      force?.unref();
      let failed = false;
      try {
        await stop(reason);
      } catch (err) {
        failed = true;
        log.error({ err }, 'Failed to stop cleanly');
      } finally {
        clearTimeout(force);
      }
      if (!failed) log.info('Stopped');
      exit(failed ? 1 : exitCode);
    })();
    return stopping;
  };
  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      if (stopping) log.info({ signal }, 'Already shutting down; ignored the signal');
      void shutdown(signal);
    });
  }
  return shutdown;
}
