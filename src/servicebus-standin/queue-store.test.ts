import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../shared/clock.ts';
import { CONDITIONS, QueueStore, StoreError, type MessageInput, type QueueSettings } from './queue-store.ts';

/** A clock (epoch ms) the test moves by hand, so lock expiry needs no waiting. */
function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return Object.assign((() => now) as Clock, {
    advance: (ms: number) => {
      now += ms;
    },
  });
}

function input(body: string, extra: Partial<MessageInput<string>> = {}): MessageInput<string> {
  return { applicationProperties: {}, annotations: {}, sizeInBytes: body.length, content: body, ...extra };
}

function setup(settings: Partial<QueueSettings> = {}) {
  const clock = manualClock();
  const deadlines: number[] = [];
  const store = new QueueStore<string>({ clock, onDeadline: (at) => deadlines.push(at) });
  const queue = store.createQueue('jobs', { lockDurationMs: 1000, maxDeliveryCount: 3, ...settings });
  return { clock, store, queue, deadlines };
}

const lockLost = (error: unknown): boolean => error instanceof StoreError && error.condition === CONDITIONS.lockLost;

void describe('queue store', () => {
  void it('assigns increasing sequence numbers from 1 and a message id when none was given', () => {
    const { queue } = setup();
    const stored = queue.enqueue([input('a'), input('b', { messageId: 'mine' })]);
    assert.deepEqual(
      stored.map((m) => m.sequenceNumber),
      [1, 2],
    );
    assert.match(stored[0]!.messageId, /^[0-9a-f]{32}$/);
    assert.equal(stored[1]!.messageId, 'mine');
  });

  void it('delivers in sequence order and locks each message for the lock duration', () => {
    const { queue, clock } = setup();
    queue.enqueue([input('a'), input('b')]);
    const first = queue.main.receive('peekLock')!;
    assert.equal(first.content, 'a');
    assert.equal(first.deliveryCount, 0);
    assert.equal(first.lockedUntil, clock() + 1000);
    assert.equal(queue.main.receive('peekLock')!.content, 'b');
    assert.equal(queue.main.receive('peekLock'), undefined, 'locked messages are not delivered again');
  });

  void it('complete removes the message and a second settle fails with lock lost', () => {
    const { queue } = setup();
    queue.enqueue([input('a')]);
    const token = queue.main.receive('peekLock')!.lockToken!;
    queue.main.complete(token);
    assert.equal(queue.runtimeCounts().totalMessageCount, 0);
    assert.throws(() => queue.main.complete(token), lockLost);
  });

  void it('an expired lock redelivers with the delivery count raised and invalidates the old token', () => {
    const { queue, clock } = setup();
    queue.enqueue([input('a')]);
    const first = queue.main.receive('peekLock')!;
    const oldToken = first.lockToken!;
    clock.advance(999);
    assert.equal(queue.main.receive('peekLock'), undefined);
    clock.advance(1);
    const again = queue.main.receive('peekLock')!;
    assert.equal(again.deliveryCount, 1);
    assert.notEqual(again.lockToken, oldToken);
    assert.throws(() => queue.main.complete(oldToken), lockLost);
  });

  void it('renewing a lock moves its expiry to now plus the lock duration', () => {
    const { queue, clock } = setup();
    queue.enqueue([input('a')]);
    const m = queue.main.receive('peekLock')!;
    clock.advance(800);
    assert.equal(queue.main.renewLock(m.lockToken!), clock() + 1000);
    clock.advance(800);
    assert.equal(queue.main.receive('peekLock'), undefined, 'still locked after the first expiry');
    queue.main.complete(m.lockToken!);
  });

  const failures = [
    { name: 'abandon', fail: (q: ReturnType<typeof setup>, token: string) => q.queue.main.abandon(token) },
    { name: 'lock expiry', fail: (q: ReturnType<typeof setup>) => q.clock.advance(1000) },
  ];
  for (const { name, fail } of failures) {
    void it(`${name} maxDeliveryCount times dead-letters with MaxDeliveryCountExceeded`, () => {
      const q = setup();
      q.queue.enqueue([input('poison')]);
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const m = q.queue.main.receive('peekLock')!;
        counts.push(m.deliveryCount);
        fail(q, m.lockToken!);
      }
      assert.deepEqual(counts, [0, 1, 2]);
      assert.equal(q.queue.main.receive('peekLock'), undefined);
      const dead = q.queue.deadLetterQueue.receive('peekLock')!;
      assert.equal(dead.applicationProperties.DeadLetterReason, 'MaxDeliveryCountExceeded');
      assert.equal(dead.applicationProperties.DeadLetterErrorDescription, 'Message could not be consumed after 3 delivery attempts.');
      assert.equal(dead.deadLetterSource, 'jobs');
    });
  }

  void it('dead-lettering keeps reason, description and extra properties; the DLQ never dead-letters further', () => {
    const { queue } = setup({ maxDeliveryCount: 1 });
    queue.enqueue([input('bad')]);
    queue.main.deadLetter(queue.main.receive('peekLock')!.lockToken!, { reason: 'Corrupt', description: 'not an image', propertiesToModify: { attempt: 1 } });
    const dead = queue.deadLetterQueue.receive('peekLock')!;
    assert.deepEqual(dead.applicationProperties, { attempt: 1, DeadLetterReason: 'Corrupt', DeadLetterErrorDescription: 'not an image' });
    queue.deadLetterQueue.abandon(dead.lockToken!);
    assert.equal(queue.deadLetterQueue.receive('peekLock')?.content, 'bad', 'abandon on the DLQ returns it to the DLQ');
  });

  void it('deferred messages leave the delivery order but stay counted and reachable by sequence number', () => {
    const { queue } = setup();
    const [stored] = queue.enqueue([input('later')]);
    queue.main.defer(queue.main.receive('peekLock')!.lockToken!);
    assert.equal(queue.main.receive('peekLock'), undefined);
    assert.equal(queue.runtimeCounts().activeMessageCount, 1);
    const [again] = queue.main.receiveDeferred([stored!.sequenceNumber], 'peekLock');
    assert.equal(again!.state, 'deferred');
    queue.main.complete(again!.lockToken!);
    assert.throws(
      () => queue.main.receiveDeferred([stored!.sequenceNumber], 'peekLock'),
      (e: unknown) => e instanceof StoreError && e.condition === CONDITIONS.messageNotFound,
    );
  });

  void it('a scheduled message becomes visible at its time and can be cancelled before', () => {
    const { queue, clock, deadlines } = setup();
    const [due, cancelled] = queue.enqueue([input('due', { scheduledEnqueueTime: clock() + 5000 }), input('x', { scheduledEnqueueTime: clock() + 5000 })]);
    assert.ok(deadlines.includes(clock() + 5000), 'the server is told when to wake up');
    queue.cancelScheduled([cancelled!.sequenceNumber]);
    assert.deepEqual(queue.runtimeCounts(), {
      activeMessageCount: 0,
      scheduledMessageCount: 1,
      deadLetterMessageCount: 0,
      totalMessageCount: 1,
      sizeInBytes: 3,
    });
    assert.equal(queue.main.receive('peekLock'), undefined);
    clock.advance(5000);
    const m = queue.main.receive('peekLock')!;
    assert.equal(m.sequenceNumber, due!.sequenceNumber);
    assert.equal(m.enqueuedAt, clock());
  });

  void it('receiveAndDelete removes the message as it is delivered', () => {
    const { queue } = setup();
    queue.enqueue([input('a')]);
    assert.equal(queue.main.receive('receiveAndDelete')!.lockToken, undefined);
    assert.equal(queue.runtimeCounts().totalMessageCount, 0);
  });

  void it('peek returns every state from a sequence number without locking', () => {
    const { queue, clock } = setup();
    queue.enqueue([input('a'), input('b'), input('c', { scheduledEnqueueTime: clock() + 10_000 })]);
    queue.main.receive('peekLock');
    assert.deepEqual(
      queue.main.peek(1, 10).map((m) => m.content),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      queue.main.peek(2, 1).map((m) => m.content),
      ['b'],
    );
    assert.equal(queue.main.receive('peekLock')!.content, 'b');
  });

  void it('released gives a message back without counting a delivery', () => {
    const { queue } = setup();
    queue.enqueue([input('a')]);
    queue.main.releaseLock(queue.main.receive('peekLock')!.lockToken!);
    assert.equal(queue.main.receive('peekLock')!.deliveryCount, 0);
  });

  void it('expired messages are dropped, or dead-lettered when the queue asks for it', () => {
    for (const deadLetterOnExpiration of [false, true]) {
      const { queue, clock } = setup({ deadLetterOnExpiration });
      queue.enqueue([input('old', { timeToLiveMs: 100 })]);
      clock.advance(100);
      assert.equal(queue.main.receive('peekLock'), undefined);
      assert.equal(queue.runtimeCounts().deadLetterMessageCount, deadLetterOnExpiration ? 1 : 0);
    }
  });

  void it('refuses messages beyond the cap with QuotaExceeded, a batch all or nothing', () => {
    const { queue } = setup({ maxMessages: 3 });
    queue.enqueue([input('a'), input('b')]);
    assert.throws(
      () => queue.enqueue([input('c'), input('d')]),
      (e: unknown) => e instanceof StoreError && e.condition === CONDITIONS.quotaExceeded,
    );
    assert.equal(queue.runtimeCounts().totalMessageCount, 2);
    queue.enqueue([input('c')]);
  });

  const statuses = [
    { status: 'ReceiveDisabled', send: true, receive: false },
    { status: 'SendDisabled', send: false, receive: true },
    { status: 'Disabled', send: false, receive: false },
    { status: 'Active', send: true, receive: true },
  ] as const;
  for (const { status, send, receive } of statuses) {
    void it(`a ${status} queue ${send ? 'accepts' : 'refuses'} sends and ${receive ? 'allows' : 'refuses'} receivers`, () => {
      const { queue } = setup({ status });
      const disabled = (e: unknown): boolean => e instanceof StoreError && e.condition === CONDITIONS.entityDisabled;
      if (send) queue.enqueue([input('a')]);
      else assert.throws(() => queue.enqueue([input('a')]), disabled);
      if (receive) queue.assertReceivable();
      else assert.throws(() => queue.assertReceivable(), disabled);
    });
  }

  void it('resolves queue and dead-letter paths case-insensitively and rejects bad or duplicate names', () => {
    const { store, queue } = setup();
    assert.equal(store.resolve('JOBS'), queue.main);
    assert.equal(store.resolve('jobs/$DeadLetterQueue'), queue.deadLetterQueue);
    assert.equal(store.resolve('jobs/$deadletterqueue'), queue.deadLetterQueue);
    assert.equal(store.resolve('nope'), undefined);
    assert.throws(() => store.createQueue('Jobs'), /already exists/);
    assert.throws(() => store.createQueue('bad name!'), /Invalid queue name/);
    assert.throws(() => store.createQueue('x', { maxDeliveryCount: 0 }), /maxDeliveryCount/);
    assert.throws(() => store.createQueue('y', { lockDurationMs: 301_000 }), /at most 5 minutes/);
    assert.throws(() => store.updateQueue('jobs', { maxDeliveryCount: -1 }), /maxDeliveryCount/);
    assert.equal(store.updateQueue('JOBS', { status: 'ReceiveDisabled' }).settings.status, 'ReceiveDisabled');
    assert.throws(() => store.updateQueue('nope', {}), /could not be found/);
  });

  void it('drains a large queue in sequence order with none lost or repeated', () => {
    const total = 5_000;
    const { queue } = setup({ maxMessages: total });
    queue.enqueue(Array.from({ length: total }, (_, i) => input(String(i))));
    let expected = 1;
    for (let m = queue.main.receive('peekLock'); m !== undefined; m = queue.main.receive('peekLock')) {
      assert.equal(m.sequenceNumber, expected++);
      queue.main.complete(m.lockToken!);
    }
    assert.equal(expected - 1, total);
    assert.equal(queue.runtimeCounts().totalMessageCount, 0);
  });
});
