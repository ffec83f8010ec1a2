import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { pino } from 'pino';
import { NOTIFY_PROPERTY } from '../jobs/queue.ts';
import { silentLogger } from '../shared/logger.ts';
import { CompletionNotifier, refuseNoticeUrl, type NoticeOutcome } from './notify.ts';

const JOB = 'job-0f8fad5b-d9cb-469f-a165-70867728950e';
const PATH = `/internal/v1/jobs/${JOB}/done`;

void describe('which notice addresses a worker contacts', () => {
  const cases: [string, string, number, RegExp | undefined][] = [
    ['a pod IP on the internal port at the job path is accepted', `http://10.1.2.3:8081${PATH}`, 8081, undefined],
    ['an IPv6 pod IP is accepted', `http://[fd00::12]:8081${PATH}`, 8081, undefined],
    ['any port is accepted when the worker allows any (local runs)', `http://127.0.0.1:40123${PATH}`, 0, undefined],
    ['https is refused: pods take plain http on the internal port', `https://10.1.2.3:8081${PATH}`, 8081, /scheme/],
    ['a host name is refused: no DNS lookups for a message', `http://api.example.com:8081${PATH}`, 8081, /not an IP/],
    ['another port is refused', `http://10.1.2.3:6379${PATH}`, 8081, /port 6379/],
    ['port 80 by omission is refused', `http://10.1.2.3${PATH}`, 8081, /port 80/],
    ['the instance metadata address is refused', `http://169.254.169.254:8081${PATH}`, 0, /link-local/],
    ['another job path is refused', `http://10.1.2.3:8081/internal/v1/jobs/job-other-1234/done`, 8081, /path/],
    ['any other path is refused', `http://10.1.2.3:8081/admin`, 8081, /path/],
    ['a query string is refused', `http://10.1.2.3:8081${PATH}?x=1`, 8081, /query/],
    ['credentials in the URL are refused', `http://a:b@10.1.2.3:8081${PATH}`, 8081, /credentials/],
    ['a string that is no URL is refused', 'not a url', 8081, /not a URL/],
  ];
  for (const [name, url, port, refused] of cases) {
    void it(name, () => {
      const reason = refuseNoticeUrl(url, JOB, port);
      if (refused === undefined) assert.equal(reason, undefined);
      else assert.match(reason ?? '', refused);
    });
  }
});

void describe('sending job-finished notices', () => {
  void it('posts once to the replica the message names, and nothing for a message that names none', async () => {
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      response.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const outcomes: NoticeOutcome[] = [];
    const notifier = new CompletionNotifier({ port, log: silentLogger(), onNotice: (o) => outcomes.push(o) });
    notifier.notify({ jobId: JOB }, { [NOTIFY_PROPERTY]: `http://127.0.0.1:${port}${PATH}` });
    notifier.notify({ jobId: JOB }, { other: 1 }); // no notice property: nothing to send
    notifier.notify({ jobId: JOB }, undefined);
    await notifier.idle();
    server.close();
    assert.deepEqual(seen, [`POST ${PATH}`]);
    assert.deepEqual(outcomes, ['sent']);
  });

  void it('gives up after two attempts when the replica is unreachable, without throwing', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const outcomes: NoticeOutcome[] = [];
    const notifier = new CompletionNotifier({ port, log: silentLogger(), timeoutMs: 200, onNotice: (o) => outcomes.push(o) });
    notifier.notify({ jobId: JOB }, { [NOTIFY_PROPERTY]: `http://127.0.0.1:${port}${PATH}` });
    await notifier.idle();
    assert.deepEqual(outcomes, ['failed']);
  });

  void it('refuses a message that names another port, sending nothing', async () => {
    const outcomes: NoticeOutcome[] = [];
    const notifier = new CompletionNotifier({ port: 8081, log: silentLogger(), onNotice: (o) => outcomes.push(o) });
    notifier.notify({ jobId: JOB }, { [NOTIFY_PROPERTY]: `http://127.0.0.1:22${PATH}` });
    await notifier.idle();
    assert.deepEqual(outcomes, ['refused']);
  });
});

void describe('logging notices that fail', () => {
  void it('logs a refusal once a minute, counting the ones left out', () => {
    let now = 0;
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const notifier = new CompletionNotifier({ port: 8081, log, clock: () => now });
    const forged = { [NOTIFY_PROPERTY]: `http://127.0.0.1:22${PATH}` };
    for (let i = 0; i < 5; i++) notifier.notify({ jobId: JOB }, forged);
    now += 60_000;
    notifier.notify({ jobId: JOB }, forged);
    assert.deepEqual(
      lines.map((l) => [l.msg, l.alsoSince]),
      [
        ['Refused to send a job-finished notice', undefined],
        ['Refused to send a job-finished notice', 4],
      ],
    );
  });
});
