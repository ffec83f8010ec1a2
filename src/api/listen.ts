// How the API listens: many accepting sockets on one port, all feeding one HTTP server.
//
// Why: libuv (Node 20+) accepts ONE connection each time epoll reports a listening socket
// readable (libuv/libuv#3696), and with level-triggered epoll that socket waits its turn behind
// every connection that has a request pending. A saturated server with thousands of busy
// keep-alive connections therefore accepts one new connection per listening socket per pass over
// all of them (a pass: one request per ready connection, ~4,000 x the per-request CPU). Measured
// (bench/api/RESULTS.md, "5,000-connection timeouts"): at 5,000 connections 670-3,400 connections
// sat in the kernel accept queue for the whole 10 s run while the kernel dropped nothing, strace
// showed single accept4() calls hundreds of ms apart that never met EAGAIN, and with 64 sockets the
// queue shrank in steps of exactly 64. Each extra SO_REUSEPORT socket on the port is one more accept
// per pass (the kernel spreads new connections over them by hash), so ACCEPT_SOCKETS sockets drain
// a burst of thousands in a few passes. Where SO_REUSEPORT is unavailable (not Linux) the app
// listens on one socket as before.
import { createServer, type Server } from 'node:net';
import type { FastifyInstance, FastifyListenOptions } from 'fastify';

/**
 * Accepting sockets per port on Linux: a burst of thousands is accepted in a few passes. Cost: one
 * listening socket (a file descriptor, a few kB of kernel memory) and one idle net.Server each.
 */
export const ACCEPT_SOCKETS = 128;

export interface ListenOptions {
  port: number;
  host: string;
  /** The kernel accept queue of each socket (capped by net.core.somaxconn). */
  backlog: number;
  /** Accepting sockets in all; 1 = Fastify's own socket only. Default ACCEPT_SOCKETS on Linux, else 1. */
  sockets?: number;
}

export interface Listening {
  /** The port bound (the one asked for, or the kernel's choice for 0). */
  port: number;
  /** Connections each socket has accepted so far, Fastify's own first (for tests and diagnostics). */
  accepted(): number[];
  /** Stops the extra sockets accepting; call before app.close(), which closes Fastify's own socket. */
  close(): Promise<void>;
}

/**
 * Listens with `app` on `options.port` through `options.sockets` accepting sockets: Fastify's own
 * server plus plain TCP servers on the same port (SO_REUSEPORT) whose connections are handed to
 * Fastify's HTTP server, so every connection gets the same HTTP handling, timeouts and closing.
 */
export async function listenAccepting(app: FastifyInstance, options: ListenOptions): Promise<Listening> {
  const sockets = Math.max(1, Math.floor(options.sockets ?? (process.platform === 'linux' ? ACCEPT_SOCKETS : 1)));
  const reusePort = sockets > 1;
  // Every connection reaches app.server's 'connection' event, the extra sockets' too.
  let total = 0;
  app.server.on('connection', () => {
    total++;
  });
  const byExtra: number[] = [];
  // reusePort reaches net.Server.listen through Fastify's listen options (Node >= 22.12).
  const listenOptions: FastifyListenOptions & { reusePort?: boolean } = { port: options.port, host: options.host, backlog: options.backlog };
  if (reusePort) listenOptions.reusePort = true;
  await app.listen(listenOptions);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const extra: Server[] = [];
  try {
    for (let i = 1; i < sockets; i++) {
      const index = byExtra.push(0) - 1;
      // As http.Server does for its own connections: no Nagle delay on responses.
      const server = createServer({ noDelay: true }, (socket) => {
        byExtra[index] = (byExtra[index] ?? 0) + 1;
        app.server.emit('connection', socket);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: options.host, backlog: options.backlog, reusePort: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      extra.push(server);
    }
  } catch (error) {
    for (const server of extra) server.close(() => undefined);
    await app.close();
    throw error;
  }
  return {
    port,
    accepted: () => [total - byExtra.reduce((a, b) => a + b, 0), ...byExtra],
    // net.Server.close() stops accepting at once; its callback would wait for the connections it accepted,
    // which belong to the HTTP server (closed by app.close()), so nothing waits for it.
    close: async () => {
      for (const server of extra) server.close(() => undefined);
    },
  };
}
