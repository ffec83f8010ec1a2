// The scaling reaction of a load run, from snapshots (reaction.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReaction, ReactionClock, type Reaction, type ReactionSample } from './reaction.ts';

const run = (samples: Array<[t: number, backlog: number, desired: number | undefined, ready: number]>): Reaction => {
  const clock = new ReactionClock();
  for (const [t, backlog, desired, ready] of samples) clock.observe({ t, backlog, desired, ready } satisfies ReactionSample);
  return clock.reaction;
};

const CASES: Array<{ name: string; samples: Array<[number, number, number | undefined, number]>; want: Reaction }> = [
  {
    name: 'backlog, then the HPA wants more, then new pods are Ready, then the backlog drains',
    samples: [
      [0, 0, 1, 1],
      [1, 30, 1, 1],
      [6, 80, 4, 1],
      [9, 70, 4, 3],
      [20, 0, 4, 4],
    ],
    want: { backlogSeenAt: 1, desiredBefore: 1, readyBefore: 1, hpaDesiredMoreAt: 6, podsReadyAt: 9, drainedAt: 20 },
  },
  {
    name: 'pods that become Ready before the HPA wanted more (a rollout) do not count as its reaction',
    samples: [
      [1, 10, 1, 1],
      [2, 10, 1, 2],
      [5, 10, 3, 2],
      [7, 5, 3, 3],
    ],
    want: { backlogSeenAt: 1, desiredBefore: 1, readyBefore: 1, hpaDesiredMoreAt: 5, podsReadyAt: 5 },
  },
  {
    name: 'an unreadable HPA is waited for, not taken as a change',
    samples: [
      [1, 10, undefined, 1],
      [2, 10, undefined, 1],
      [3, 0, 2, 1],
    ],
    want: { backlogSeenAt: 1, desiredBefore: 1, readyBefore: 1, hpaDesiredMoreAt: 3, drainedAt: 3 },
  },
  {
    name: 'an HPA that still says 0 while one worker runs has to want more than that one',
    samples: [
      [1, 4, 0, 1],
      [3, 21, 1, 1],
      [8, 34, 4, 1],
      [18, 34, 4, 4],
    ],
    want: { backlogSeenAt: 1, desiredBefore: 1, readyBefore: 1, hpaDesiredMoreAt: 8, podsReadyAt: 18 },
  },
  { name: 'no backlog, no reaction', samples: [[1, 0, 1, 1]], want: {} },
];

for (const c of CASES) void test(c.name, () => assert.deepEqual(run(c.samples), c.want));

void test('the reaction line gives each step with its delay from the previous one', () => {
  const lines = formatReaction({ backlogSeenAt: 2, desiredBefore: 1, readyBefore: 1, hpaDesiredMoreAt: 8, podsReadyAt: 11, drainedAt: 40 });
  assert.equal(lines[0], 'reaction: backlog first seen at 2 s -> HPA desired more than 1 at 8 s (+6 s) -> more than 1 worker pods Ready at 11 s (+3 s)');
  assert.match(lines[1]!, /9 s from backlog to new workers Ready/);
  assert.equal(lines.length, 2);
});

void test('a load that drained before new workers were Ready says to send more receipts', () => {
  const lines = formatReaction({ backlogSeenAt: 1, desiredBefore: 1, readyBefore: 1, hpaDesiredMoreAt: 9, drainedAt: 8 });
  assert.match(lines.join('\n'), /worker pods Ready: not seen/);
  assert.match(lines.join('\n'), /the backlog was gone at 8 s, before new workers were Ready: send more receipts/);
});
