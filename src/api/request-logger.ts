// Every request's logger (`request.log`), made only when a request logs. Fastify makes a pino
// child per request, with the request id as its binding: a few per cent of the API's CPU per
// upload URL (--cpu-prof, bench/api/profile.ts), although request logging is off and a request
// logs only when it fails with a 5xx. LazyRequestLogger stands in for that child and makes it on
// the first call; the lines it writes are the same (same bindings, same options).
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

export class LazyRequestLogger implements FastifyBaseLogger {
  private readonly parent: FastifyBaseLogger;
  private readonly childBindings: Bindings;
  private readonly childOptions: ChildLoggerOptions;
  private made: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.parent = parent;
    this.childBindings = bindings;
    this.childOptions = options;
  }

  /** The pino child this logger stands for; made on first use. */
  get logger(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.childBindings, this.childOptions);
    return this.made;
  }

  get level(): string {
    return this.made?.level ?? this.childOptions.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  // Methods on the prototype, not per-instance closures: nothing is allocated per request but this object.
  fatal(...args: unknown[]): void {
    Reflect.apply(this.logger.fatal, this.logger, args);
  }
  error(...args: unknown[]): void {
    Reflect.apply(this.logger.error, this.logger, args);
  }
  warn(...args: unknown[]): void {
    Reflect.apply(this.logger.warn, this.logger, args);
  }
  info(...args: unknown[]): void {
    Reflect.apply(this.logger.info, this.logger, args);
  }
  debug(...args: unknown[]): void {
    Reflect.apply(this.logger.debug, this.logger, args);
  }
  trace(...args: unknown[]): void {
    Reflect.apply(this.logger.trace, this.logger, args);
  }
  silent(...args: unknown[]): void {
    Reflect.apply(this.logger.silent, this.logger, args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/** Makes every request logger of `app` (and of its plugins) lazy. */
export function useLazyRequestLoggers(app: FastifyInstance): void {
  app.setChildLoggerFactory((parent, bindings, options) => new LazyRequestLogger(parent, bindings, options));
}
