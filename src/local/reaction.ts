// The scaling reaction of a load run (npm start -- --load N), from the once-a-second
// snapshots load.ts takes: when the backlog was first seen (messages waiting on the queue),
// when the HPA first desired more workers than it did then, and when more worker pods than
// then were Ready. Pure: fed with (seconds, backlog, desired, ready) samples; tested in
// reaction.test.ts.

export interface ReactionSample {
  /** seconds since the load started */
  t: number;
  /** messages waiting on the queue */
  backlog: number;
  /** the worker HPA's desiredReplicas (undefined: not readable) */
  desired: number | undefined;
  /** worker pods Ready */
  ready: number;
}

export interface Reaction {
  /** seconds since the load started, each undefined until it happened */
  backlogSeenAt?: number;
  hpaDesiredMoreAt?: number;
  podsReadyAt?: number;
  /** the desired and Ready counts when the backlog was first seen */
  desiredBefore?: number;
  readyBefore?: number;
  /** when the backlog was back at 0 after it was seen */
  drainedAt?: number;
}

export class ReactionClock {
  readonly reaction: Reaction = {};

  observe(s: ReactionSample): void {
    const r = this.reaction;
    if (r.backlogSeenAt === undefined) {
      if (s.backlog <= 0) return;
      r.backlogSeenAt = s.t;
      // An HPA that has not read its metric yet may say 0: "more" means more than are already running.
      r.desiredBefore = Math.max(s.desired ?? 0, s.ready);
      r.readyBefore = s.ready;
      return;
    }
    if (r.hpaDesiredMoreAt === undefined && s.desired !== undefined && s.desired > r.desiredBefore!) r.hpaDesiredMoreAt = s.t;
    if (r.hpaDesiredMoreAt !== undefined && r.podsReadyAt === undefined && s.ready > r.readyBefore!) r.podsReadyAt = s.t;
    if (r.drainedAt === undefined && s.backlog === 0) r.drainedAt = s.t;
  }
}

const after = (from: number | undefined, to: number | undefined): string => (from === undefined || to === undefined ? '' : ` (+${(to - from).toFixed(0)} s)`);
const at = (t: number | undefined, what: string): string => (t === undefined ? `${what}: not seen` : `${what} at ${t.toFixed(0)} s`);

/**
 * The reaction line, and a hint when the load was too small to show scaling while it matters
 * (the backlog was gone before new workers were Ready).
 */
export function formatReaction(r: Reaction): string[] {
  if (r.backlogSeenAt === undefined) return ['reaction: no backlog was ever seen (the workers kept up with the load)'];
  const lines = [
    `reaction: ${at(r.backlogSeenAt, 'backlog first seen')} -> ${at(r.hpaDesiredMoreAt, `HPA desired more than ${r.desiredBefore}`)}` +
      `${after(r.backlogSeenAt, r.hpaDesiredMoreAt)} -> ${at(r.podsReadyAt, `more than ${r.readyBefore} worker pods Ready`)}${after(r.hpaDesiredMoreAt, r.podsReadyAt)}`,
  ];
  if (r.podsReadyAt !== undefined) {
    lines.push(`          ${(r.podsReadyAt - r.backlogSeenAt).toFixed(0)} s from backlog to new workers Ready`);
  }
  const late = r.drainedAt !== undefined && (r.podsReadyAt === undefined || r.podsReadyAt >= r.drainedAt);
  if (late) {
    lines.push(
      `          the backlog was gone at ${r.drainedAt!.toFixed(0)} s, before new workers were Ready: send more receipts (--load N) to see the workers scale during the load`,
    );
  }
  return lines;
}
