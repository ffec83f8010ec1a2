// The scaling step of a reconcile, in one place: gather (credentials from the Secret
// reference, the poller's cached reading, the worker HPA's status), then the pure
// decisions of decide.ts. The reconciler calls observe() once per pipeline and gets back
// the plan for the HPA / ScaledObject builders, status.scaling and the conditions.
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { OcrPipeline } from '../../crds/ocrpipeline.ts';
import { childName } from '../desired/common.ts';
import type { QueueCredential } from './client.ts';
import {
  DEFAULT_DEGRADED_THRESHOLDS, degradedVerdict, hpaFacts, metricsAvailableVerdict, queueReachableVerdict, scalingPlan, scalingStatus,
  type DegradedThresholds, type HpaFacts, type ScalingPlan, type ScalingStatus, type Verdict, type WorkerScalingSpec,
} from './decide.ts';
import { queueGauges } from './metrics.ts';
import { QueuePollers, type PipelineQueueView, type QueuePollersOptions } from './poller.ts';
import { prometheusInFlight, workerFailureRatios } from './prometheus.ts';
import { QUEUE_REASON } from './reasons.ts';
import type { PollTiming } from './schedule.ts';

export interface ScalingServiceOptions {
  registry: Registry;
  /** Requeues a pipeline (work-queue key namespace/name) when its queue numbers change. */
  requeue: (key: string) => void;
  /** Prometheus that scrapes the operator and the workers; enables in-flight, failure ratio and KEDA. */
  prometheusUrl?: string | undefined;
  timing?: Partial<PollTiming>;
  thresholds?: Partial<DegradedThresholds>;
  log?: QueuePollersOptions['log'];
  /** For tests: replaces the SDK reader. */
  readerFor?: QueuePollersOptions['readerFor'];
}

/** What the reconcile needs from the scaling step. */
export interface ScalingObservation {
  plan: ScalingPlan;
  status: ScalingStatus;
  /** QueueReachable and MetricsAvailable, always. */
  conditions: Verdict[];
  /** Degraded=True (DeadLetterGrowth, WorkerFailures) when the consumer looks poisoned. */
  degraded?: Verdict;
  prometheusUrl?: string;
}

export interface ScalingReader {
  getSecret(namespace: string, name: string): V1Secret | undefined;
}

/** The worker HPA among a pipeline's children: ours, or the one KEDA made for our ScaledObject. */
export function workerHpaStatus(children: KubernetesObject[], pipeline: string): Parameters<typeof hpaFacts>[0] {
  const names = new Set([childName(pipeline, 'worker'), `keda-hpa-${childName(pipeline, 'worker')}`]);
  const hpa = children.find((c) => c.kind === 'HorizontalPodAutoscaler' && names.has(c.metadata?.name ?? ''));
  return (hpa as { status?: Parameters<typeof hpaFacts>[0] } | undefined)?.status;
}

export class ScalingService {
  readonly pollers: QueuePollers;
  readonly prometheusUrl: string | undefined;
  readonly #thresholds: DegradedThresholds;
  readonly #log: ScalingServiceOptions['log'];
  #ratios = new Map<string, { failed: number; total: number }>();
  #ratiosAt = 0;
  #ratiosRunning = false;

  constructor(o: ScalingServiceOptions) {
    this.prometheusUrl = o.prometheusUrl || undefined;
    this.#thresholds = { ...DEFAULT_DEGRADED_THRESHOLDS, ...o.thresholds };
    this.#log = o.log;
    this.pollers = new QueuePollers({
      gauges: queueGauges(o.registry),
      onChange: o.requeue,
      ...(this.prometheusUrl ? { inFlight: prometheusInFlight(this.prometheusUrl) } : {}),
      ...(o.timing ? { timing: o.timing } : {}),
      ...(o.log ? { log: o.log } : {}),
      ...(o.readerFor ? { readerFor: o.readerFor } : {}),
    });
  }

  /**
   * Registers the pipeline with its poller (cheap when nothing changed) and decides.
   * @param workersRunning ready worker replicas (Deployment status), for activation
   */
  observe(p: OcrPipeline, reader: ScalingReader, children: KubernetesObject[], workersRunning: number): ScalingObservation {
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    const { worker, queue } = p.spec;
    const spec: WorkerScalingSpec = {
      replicas: worker.replicas,
      messagesPerReplica: worker.scaling.messagesPerReplica,
      activationMessages: worker.scaling.activationMessages,
      provider: worker.scaling.provider,
    };
    const credential = this.#credential(p, reader);
    let view: PipelineQueueView | undefined;
    if ('problem' in credential) {
      this.pollers.remove(key);
      view = { pending: false, lastSeenNonEmpty: false, deadLetterHistory: [], problem: credential.problem };
    } else {
      this.pollers.upsert({
        key,
        namespace: p.metadata.namespace,
        pipeline: p.metadata.name,
        queueName: queue.serviceBus.queueName,
        credential,
        countInFlight: worker.scaling.countInFlight,
        activationMessages: worker.scaling.activationMessages,
        minReplicas: worker.replicas.min,
        workersRunning,
      });
      view = this.pollers.view(key);
    }
    this.#refreshRatios();
    const hpa: HpaFacts | undefined = hpaFacts(workerHpaStatus(children, p.metadata.name));
    const degraded = degradedVerdict(view, this.#ratios.get(key), this.#thresholds);
    const plan = scalingPlan(spec, view, hpa, degraded !== undefined);
    const out: ScalingObservation = {
      plan,
      status: scalingStatus(spec, view, hpa, plan),
      conditions: [queueReachableVerdict(view, queue.serviceBus.queueName), metricsAvailableVerdict(spec, hpa, this.prometheusUrl)],
    };
    if (degraded) out.degraded = degraded;
    if (this.prometheusUrl) out.prometheusUrl = this.prometheusUrl;
    return out;
  }

  /** The pipeline is gone: stop polling for it and drop its series. */
  forget(key: string): void {
    this.pollers.remove(key);
  }

  close(): void {
    this.pollers.close();
  }

  #credential(p: OcrPipeline, reader: ScalingReader): QueueCredential | { problem: NonNullable<PipelineQueueView['problem']> } {
    const sb = p.spec.queue.serviceBus;
    if (!sb.connectionStringSecretRef) return { kind: 'workloadIdentity', namespace: sb.namespace ?? '' };
    const ref = sb.connectionStringSecretRef;
    const secret = reader.getSecret(p.metadata.namespace, ref.name);
    const where = `Secret ${p.metadata.namespace}/${ref.name}`;
    if (!secret) {
      return { problem: { reason: QUEUE_REASON.secretNotFound, throttled: false, message: `${where} (spec.queue.serviceBus.connectionStringSecretRef) does not exist; create it with a connection string whose policy has the Manage right.` } };
    }
    const encoded = secret.data?.[ref.key];
    const value = encoded !== undefined ? Buffer.from(encoded, 'base64').toString('utf8') : secret.stringData?.[ref.key];
    if (!value) {
      return { problem: { reason: QUEUE_REASON.secretKeyNotFound, throttled: false, message: `${where} has no key "${ref.key}" (spec.queue.serviceBus.connectionStringSecretRef); add it or fix the reference.` } };
    }
    return { kind: 'connectionString', connectionString: value.trim() };
  }

  /** Worker failure ratios from Prometheus, refreshed at most every 30 s in the background. */
  #refreshRatios(): void {
    if (!this.prometheusUrl || this.#ratiosRunning || Date.now() - this.#ratiosAt < 30_000) return;
    this.#ratiosRunning = true;
    workerFailureRatios(this.prometheusUrl)
      .then((r) => {
        this.#ratios = r;
      })
      .catch((err: unknown) => this.#log?.debug?.({ err: err instanceof Error ? err.message : String(err) }, 'Reading worker failure ratios from Prometheus failed'))
      .finally(() => {
        this.#ratiosAt = Date.now();
        this.#ratiosRunning = false;
      });
  }
}
