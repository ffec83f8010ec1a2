// Free loopback ports (bind port 0 on 127.0.0.1, read the port, close) and a bounded
// poll, shared by the local platform, the cluster tool and the tests.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface WaitOptions {
  /** Milliseconds between checks (default 250). */
  intervalMs?: number;
  /** Appended to the timeout error on its own line: usually the state that was not reached. */
  detail?: () => Promise<string> | string;
  /** Human progress lines: when the wait starts and how long it took. */
  progress?: (line: string) => void;
}

/**
 * The one bounded poll of the codebase (platform, cluster tool, tests, benchmarks): calls
 * `check` until it returns true or `timeoutMs` passes (default 30,000). A throwing check
 * counts as false; the timeout error names `what` and the last failure, plus `detail()`.
 * The fourth argument is the interval in ms (default 250) or the options.
 */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, options: number | WaitOptions = {}): Promise<void> {
  const { intervalMs = 250, detail, progress } = typeof options === 'number' ? { intervalMs: options } : options;
  const started = Date.now();
  const deadline = started + timeoutMs;
  progress?.(`waiting up to ${Math.round(timeoutMs / 1000)} s for ${what}`);
  let last = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) {
        progress?.(`${what}: after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return;
      }
      last = '';
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const message = `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? ` (last error: ${last})` : ''}`;
  if (!detail) throw new Error(message);
  const extra = await Promise.resolve()
    .then(detail)
    .catch((e: unknown) => `(no detail: ${e instanceof Error ? e.message : String(e)})`);
  throw new Error(`${message}\n${extra}`);
}
