import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { LazyRequestLogger, useLazyRequestLoggers } from './request-logger.ts';

/** A pino logger writing into an array of parsed lines. */
function capture(level = 'info'): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, next) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      next();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

void describe('lazy request loggers', () => {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
  for (const level of levels) {
    void it(`writes a ${level} line the same as the pino child it stands for`, () => {
      const lazy = capture('trace');
      const eager = capture('trace');
      new LazyRequestLogger(lazy.logger, { reqId: 'r-1' }, {})[level]({ code: 'X' }, 'message %s', 'one');
      eager.logger.child({ reqId: 'r-1' })[level]({ code: 'X' }, 'message %s', 'one');
      const strip = ({ time: _time, ...rest }: Record<string, unknown>) => rest;
      assert.deepEqual(lazy.lines.map(strip), eager.lines.map(strip));
      assert.equal(lazy.lines.length, 1);
    });
  }

  void it('makes no child until something is logged, then one', () => {
    const { logger } = capture();
    let children = 0;
    const counting = Object.assign(Object.create(logger) as pino.Logger, {
      child: (...args: Parameters<pino.Logger['child']>) => {
        children++;
        return logger.child(...args);
      },
    });
    const lazy = new LazyRequestLogger(counting, { reqId: 'r-2' }, {});
    assert.equal(lazy.level, 'info');
    assert.equal(children, 0);
    lazy.info('one');
    lazy.error('two');
    assert.equal(children, 1);
  });

  void it('keeps a level set for the request, and the level options of a route', () => {
    const { logger, lines } = capture('info');
    const routeLevel = new LazyRequestLogger(logger, { reqId: 'r-3' }, { level: 'debug' });
    assert.equal(routeLevel.level, 'debug');
    routeLevel.debug('shown');
    const lowered = new LazyRequestLogger(logger, { reqId: 'r-4' }, {});
    lowered.level = 'error';
    lowered.warn('hidden');
    assert.deepEqual(
      lines.map((l) => [l.reqId, l.msg]),
      [['r-3', 'shown']],
    );
  });

  void it("is what a Fastify app's requests log through, with the request id", async () => {
    const { logger, lines } = capture();
    const loggerInstance: FastifyBaseLogger = logger;
    const app = fastify({ loggerInstance, disableRequestLogging: true });
    useLazyRequestLoggers(app);
    app.get('/', async (request) => {
      assert.ok((request.log as unknown) instanceof LazyRequestLogger);
      request.log.warn('from the handler');
      return { id: request.id };
    });
    const response = await app.inject({ url: '/' });
    await app.close();
    const { id } = response.json<{ id: string }>();
    assert.deepEqual(
      lines.map((l) => [l.reqId, l.msg]),
      [[id, 'from the handler']],
    );
  });
});
