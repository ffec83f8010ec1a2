// Probe semantics of the kubelet, as a pure state machine: the agent feeds it each probe
// result and acts on what it returns. Rules (kubernetes.io "Configure Liveness, Readiness
// and Startup Probes"):
// - while a startup probe has not succeeded, liveness and readiness are not run; after
//   failureThreshold consecutive startup failures the container is restarted;
// - readiness: ready after successThreshold consecutive successes, not ready after
//   failureThreshold consecutive failures; a container with no readiness probe is ready once started;
// - liveness: restart after failureThreshold consecutive failures.
import type { V1Container, V1Probe } from '@kubernetes/client-node';

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export interface ProbeState {
  started: boolean;
  ready: boolean;
  startupFailures: number;
  readinessSuccesses: number;
  readinessFailures: number;
  livenessFailures: number;
}

export type ProbeAction = 'none' | 'restart';

/** Kubernetes defaults: period 10 s, timeout 1 s, success 1, failure 3, no initial delay. */
export function probeTiming(probe: V1Probe): ProbeTiming {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: (probe.periodSeconds ?? 10) * 1000,
    timeoutMs: (probe.timeoutSeconds ?? 1) * 1000,
    successThreshold: probe.successThreshold ?? 1,
    failureThreshold: probe.failureThreshold ?? 3,
  };
}

/** The state of a container that just started. */
export function initialProbeState(container: Pick<V1Container, 'startupProbe' | 'readinessProbe'>): ProbeState {
  const started = container.startupProbe === undefined;
  return {
    started,
    ready: started && container.readinessProbe === undefined,
    startupFailures: 0,
    readinessSuccesses: 0,
    readinessFailures: 0,
    livenessFailures: 0,
  };
}

/** Which probes run now: the startup probe until it succeeds, then readiness and liveness. */
export function activeProbes(state: ProbeState, container: Pick<V1Container, 'startupProbe' | 'readinessProbe' | 'livenessProbe'>): ProbeKind[] {
  if (!state.started) return container.startupProbe ? ['startup'] : [];
  return (['readiness', 'liveness'] as const).filter((k) => container[`${k}Probe`] !== undefined);
}

export function applyProbeResult(
  state: ProbeState,
  kind: ProbeKind,
  ok: boolean,
  timing: Pick<ProbeTiming, 'successThreshold' | 'failureThreshold'>,
  hasReadinessProbe: boolean,
): { state: ProbeState; action: ProbeAction } {
  const s = { ...state };
  switch (kind) {
    case 'startup':
      if (ok) {
        s.started = true;
        s.startupFailures = 0;
        // without a readiness probe, started means ready
        if (!hasReadinessProbe) s.ready = true;
        return { state: s, action: 'none' };
      }
      s.startupFailures += 1;
      return { state: s, action: s.startupFailures >= timing.failureThreshold ? 'restart' : 'none' };
    case 'readiness':
      if (ok) {
        s.readinessFailures = 0;
        s.readinessSuccesses += 1;
        if (s.readinessSuccesses >= timing.successThreshold) s.ready = true;
      } else {
        s.readinessSuccesses = 0;
        s.readinessFailures += 1;
        if (s.readinessFailures >= timing.failureThreshold) s.ready = false;
      }
      return { state: s, action: 'none' };
    case 'liveness':
      s.livenessFailures = ok ? 0 : s.livenessFailures + 1;
      return { state: s, action: s.livenessFailures >= timing.failureThreshold ? 'restart' : 'none' };
  }
}
