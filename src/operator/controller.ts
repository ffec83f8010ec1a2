// Wires informers, the work queue and the reconciler. Child and Secret caches start (and
// sync) before the OcrPipeline informer, so the first reconcile of every pipeline sees
// complete caches and never reports a Secret as missing that merely was not listed yet.
import type { KubeConfig, KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../shared/logger.ts';
import { LABELS, FIELD_MANAGER } from '../contract/labels.ts';
import { EventRecorder } from './events.ts';
import { ApiWriter, CacheReader, WatchedKind, eventSink, secretSource, sources, trimPod } from './kube.ts';
import { PodChanges } from './pod-changes.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { RawPipeline } from './reconcile/gather.ts';
import { Reconciler, describeError } from './reconcile/reconciler.ts';
import { SecretIndex } from './secret-index.ts';
import { SecretStore } from './secret-store.ts';
import { ScalingService, type ScalingServiceOptions } from './scaling/service.ts';
import { WorkQueue } from './workqueue.ts';

export interface ControllerOptions {
  kc: KubeConfig;
  /** Namespaces to watch; undefined = all. */
  namespaces: string[] | undefined;
  resyncMs: number;
  concurrency: number;
  metrics: OperatorMetrics;
  log: Logger;
  /** Queue-depth polling (Prometheus URL, poll timing); the registry and requeue come from here. */
  scaling?: Omit<ScalingServiceOptions, 'registry' | 'requeue' | 'log'>;
}

const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class Controller {
  #opts: ControllerOptions;
  #queue: WorkQueue;
  #pipelines: WatchedKind<RawPipeline>;
  /** Names and resourceVersions of Secrets only (a metadata-only watch); data is read by name (secret-store.ts). */
  #secrets: WatchedKind<KubernetesObject>;
  #children: WatchedKind<KubernetesObject>[];
  /** Pods of pipelines (label-selected, trimmed to what the pod checks read), for Degraded's pod reasons. */
  #pods: WatchedKind<V1Pod>;
  #resync: NodeJS.Timeout | undefined;
  #synced = false;
  #scaling: ScalingService;

  constructor(opts: ControllerOptions) {
    this.#opts = opts;
    const { kc, namespaces, log, metrics } = opts;
    const src = sources(kc);
    this.#pipelines = new WatchedKind<RawPipeline>(kc, src.pipelines, namespaces, undefined, log);
    this.#secrets = new WatchedKind<KubernetesObject>(kc, src.secrets, namespaces, undefined, log, 'metadata');
    const managed = `${LABELS.managedBy}=${FIELD_MANAGER}`;
    this.#children = src.children.map((s) => new WatchedKind<KubernetesObject>(kc, s, namespaces, managed, log));
    // Pod templates carry the child labels (ours win over spec.pod.labels): only pipeline pods match.
    const podSelector = `${managed},${LABELS.pipeline}`;
    this.#pods = new WatchedKind<V1Pod>(kc, src.pods, namespaces, podSelector, log, (o) => trimPod(o));

    const secretIndex = new SecretIndex();
    const secretStore = new SecretStore(secretSource(kc, this.#secrets), (ns, name) => secretIndex.pipelinesFor(ns, name).length > 0);
    // One poller per Service Bus namespace; a change in a pipeline's numbers requeues it.
    this.#scaling = new ScalingService({ ...opts.scaling, registry: metrics.registry, requeue: (key) => this.#queue.add(key), log });
    const reconciler = new Reconciler({
      reader: new CacheReader(this.#pipelines, secretStore, this.#children, this.#pods),
      writer: new ApiWriter(kc),
      events: new EventRecorder(eventSink(src.core), log),
      secretIndex,
      log,
      scaling: this.#scaling,
    });
    this.#queue = new WorkQueue({
      concurrency: opts.concurrency,
      process: async (key) => {
        const end = metrics.reconcileDuration.startTimer();
        try {
          await reconciler.reconcile(key);
          metrics.reconcileTotal.inc({ result: 'success' });
        } catch (err) {
          metrics.reconcileTotal.inc({ result: 'error' });
          throw err;
        } finally {
          end();
        }
      },
      hooks: {
        depth: (n) => metrics.workqueueDepth.set(n),
        added: () => metrics.workqueueAdds.inc(),
        retried: () => metrics.workqueueRetries.inc(),
        waited: (s) => metrics.workqueueQueueDuration.observe(s),
        // err keeps type and stack; reason is the one-line form (an API error's message carries its whole response).
        failed: (key, err, failures, retryInMs) =>
          log.warn({ key, failures, retryInMs, err, reason: describeError(err) }, 'Failed to reconcile; retrying with backoff'),
      },
    });

    const enqueue = (o: KubernetesObject) => this.#queue.add(keyOf(o));
    const podChanges = new PodChanges();
    for (const verb of ['add', 'update', 'delete'] as const) {
      this.#pipelines.on(verb, enqueue);
      // A child changed or vanished: reconcile its pipeline so it is put back.
      for (const c of this.#children) {
        c.on(verb, (o) => {
          const pipeline = o.metadata?.labels?.[LABELS.pipeline];
          if (pipeline) this.#queue.add(`${o.metadata?.namespace ?? ''}/${pipeline}`);
        });
      }
      // A referenced Secret appeared, changed or vanished.
      this.#secrets.on(verb, (s) => {
        const [ns, name] = [s.metadata?.namespace ?? '', s.metadata?.name ?? ''];
        if (verb === 'delete') secretStore.forget(ns, name);
        for (const key of secretIndex.pipelinesFor(ns, name)) this.#queue.add(key);
      });
      // A pod started crash-looping, became unschedulable, or recovered (only what the checks read counts).
      this.#pods.on(verb, (pod) => {
        const key = podChanges.changed(verb, pod);
        if (key) this.#queue.add(key);
      });
    }
  }

  get synced(): boolean {
    return this.#synced;
  }

  async start(): Promise<void> {
    const { log, resyncMs } = this.#opts;
    await Promise.all([this.#secrets.start(), this.#pods.start(), ...this.#children.map((c) => c.start())]);
    await this.#pipelines.start();
    this.#synced = true;
    log.info({ pipelines: this.#pipelines.all().length }, 'Synced caches; reconciling');
    // Periodic resync: re-reconcile everything, catching drift no watch event reported.
    this.#resync = setInterval(() => {
      for (const p of this.#pipelines.all()) this.#queue.add(keyOf(p));
    }, resyncMs);
    this.#resync.unref();
  }

  async stop(): Promise<void> {
    if (this.#resync) clearInterval(this.#resync);
    this.#scaling.close();
    await Promise.all([this.#pipelines.stop(), this.#secrets.stop(), this.#pods.stop(), ...this.#children.map((c) => c.stop())]);
    await this.#queue.shutdown();
  }
}
