// Leader election on a coordination.k8s.io/v1 Lease, the client-go algorithm: try to take or
// renew the Lease every retryPeriod; another holder's Lease counts as expired only after
// leaseDuration has passed on *our* clock since we last saw it change (no cross-node clock
// comparison); a leader that cannot renew within renewDeadline steps down.
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../shared/logger.ts';

/** The three Lease calls the elector makes (kube.ts leaseApi; tests pass a fake). */
export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

/**
 * A Lease's MicroTime: the API server wants RFC 3339 with exactly six fractional digits, which
 * Date#toISOString (three) lacks; JSON.stringify calls toISOString through Date#toJSON.
 */
export class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  }
}

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface LeaseObservation {
  /** holderIdentity + renewTime as last read. */
  record: string;
  /** Our monotonic clock (ms) when that record was first seen. */
  seenAt: number;
}

/** Whether we may take the Lease now. Pure: depends only on its arguments. */
export function mayAcquire(
  lease: V1Lease | undefined,
  identity: string,
  observed: LeaseObservation | undefined,
  nowMs: number,
  leaseDurationMs: number,
): boolean {
  const holder = lease?.spec?.holderIdentity;
  if (!lease || !holder || holder === identity) return true;
  if (!observed) return false;
  return nowMs - observed.seenAt >= leaseDurationMs;
}

/**
 * The attempt, or a rejection once `ms` passed: a renewal that hangs (an API server that
 * accepts the connection and never answers) must not keep the loop from noticing the renew
 * deadline, or a leader that can no longer renew would never step down.
 */
export function withTimeout<T>(attempt: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the Lease request did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([attempt, timeout]).finally(() => clearTimeout(timer));
}

const recordOf = (lease: V1Lease | undefined): string => `${lease?.spec?.holderIdentity ?? ''}@${String(lease?.spec?.renewTime ?? '')}`;

export class LeaderElector {
  #api: LeaseApi;
  #cfg: LeaderElectionConfig;
  #log: Logger;
  #observed: LeaseObservation | undefined;
  #leading = false;
  #lastRenew = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #onStart: () => void;
  #onStop: () => void;

  constructor(api: LeaseApi, cfg: LeaderElectionConfig, log: Logger, callbacks: { onStartedLeading: () => void; onStoppedLeading: () => void }) {
    this.#api = api;
    this.#cfg = cfg;
    this.#log = log.child({ lease: `${cfg.namespace}/${cfg.name}`, identity: cfg.identity });
    this.#onStart = callbacks.onStartedLeading;
    this.#onStop = callbacks.onStoppedLeading;
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    void this.#tick();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const ok = await withTimeout(this.#tryAcquireOrRenew(), this.#cfg.renewDeadlineMs).catch((err: unknown) => {
      // A 409 is another candidate winning the round: normal. Anything else is worth seeing.
      if ((err as { code?: number }).code === 409) this.#log.debug('Lost a write race for the Lease');
      else this.#log.warn({ err }, 'Failed to acquire or renew the Lease');
      return false;
    });
    const now = performance.now();
    if (ok) {
      this.#lastRenew = now;
      if (!this.#leading) {
        this.#leading = true;
        this.#log.info('Became leader');
        this.#onStart();
      }
    } else if (this.#leading && now - this.#lastRenew > this.#cfg.renewDeadlineMs) {
      this.#leading = false;
      this.#log.warn('Lost leadership: could not renew the Lease within the renew deadline');
      this.#onStop();
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), this.#cfg.retryPeriodMs);
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.#cfg;
    // MicroTime: the API server wants exactly six fractional digits, which Date#toISOString lacks.
    const now = new MicroTime();
    const lease = await this.#api.readNamespacedLease({ name, namespace }).catch((err: unknown) => {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    });
    const record = recordOf(lease);
    if (this.#observed?.record !== record) this.#observed = { record, seenAt: performance.now() };
    if (!mayAcquire(lease, identity, this.#observed, performance.now(), leaseDurationMs)) return false;

    const durationSeconds = Math.ceil(leaseDurationMs / 1000);
    if (!lease) {
      await this.#api.createNamespacedLease({
        namespace,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        },
      });
      return true;
    }
    const takingOver = lease.spec?.holderIdentity !== identity;
    const spec = {
      ...lease.spec,
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: now,
      ...(takingOver ? { acquireTime: now, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 } : {}),
    };
    // replace carries resourceVersion: if someone else wrote meanwhile we get 409 and lose this round.
    const updated = await this.#api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec } });
    this.#observed = { record: recordOf(updated), seenAt: performance.now() };
    return true;
  }

  /** Stops electing; a leader gives the Lease up so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#leading = false;
    const { namespace, name, identity } = this.#cfg;
    try {
      const lease = await this.#api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity === identity) {
        await this.#api.replaceNamespacedLease({
          name,
          namespace,
          body: { ...lease, spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: new MicroTime() } },
        });
        this.#log.info('Released the Lease');
      }
    } catch (err) {
      this.#log.warn({ err }, 'Failed to release the Lease; it expires on its own');
    }
  }
}
