// Wires informers, the work queue and the reconciler. Child and Secret caches start (and
// sync) before the OcrPipeline informer, so the first reconcile of every pipeline sees
// complete caches and never reports a Secret as missing that merely was not listed yet.
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../shared/logger.ts';
import { LABELS, FIELD_MANAGER } from '../contract/labels.ts';
import { EventRecorder } from './events.ts';
import type { KubeClient } from './kube-http/client.ts';
import { ApiWriter, CacheReader, WatchedKind, eventSink, secretSource, sources, trimChild, trimPipeline, trimPod, trimScaledObject } from './kube.ts';
import { ChildChanges, PipelineChanges } from './child-changes.ts';
import { PodChanges } from './pod-changes.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { RawPipeline } from './reconcile/gather.ts';
import { Reconciler, describeError } from './reconcile/reconciler.ts';
import { SecretIndex } from './secret-index.ts';
import { SecretStore } from './secret-store.ts';
import { ScalingService, type ScalingServiceOptions } from './scaling/service.ts';
import { WorkQueue } from './workqueue.ts';
import type { BacklogOffer } from './desired/input.ts';

export interface ControllerOptions {
  /** The API server client (kube-http/client.ts): every list, watch and write of the controller. */
  client: KubeClient;
  /** Namespaces to watch; undefined = all. */
  namespaces: string[] | undefined;
  resyncMs: number;
  concurrency: number;
  metrics: OperatorMetrics;
  log: Logger;
  /** Jitter source of the resync (tests); default Math.random. */
  random?: () => number;
  /** Queue-depth polling (Prometheus URL, poll timing); the registry and requeue come from here. */
  scaling?: Omit<ScalingServiceOptions, 'registry' | 'requeue' | 'log'>;
  /** Where API pods read their backlog (spec.api.maxBacklog, --backlog-url); undefined = not offered. */
  backlog?: BacklogOffer | undefined;
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
    const { client, namespaces, log, metrics } = opts;
    const src = sources();
    this.#pipelines = new WatchedKind<RawPipeline>(client, src.pipelines, namespaces, undefined, log, trimPipeline);
    this.#secrets = new WatchedKind<KubernetesObject>(client, src.secrets, namespaces, undefined, log, 'metadata');
    const managed = `${LABELS.managedBy}=${FIELD_MANAGER}`;
    this.#children = src.children.map((s) => new WatchedKind<KubernetesObject>(client, s, namespaces, managed, log, trimChild));
    // KEDA ScaledObjects are desired only with a Prometheus URL (desired/index.ts); then they are
    // watched like every child (skipped when unchanged, put back on drift, deleted when no longer
    // desired), as an optional kind: without KEDA (or its RBAC) the cache stays empty and is
    // looked for again every minute (kube.ts OPTIONAL_KIND_RECHECK_MS).
    if (opts.scaling?.prometheusUrl)
      this.#children.push(new WatchedKind<KubernetesObject>(client, src.scaledObjects, namespaces, managed, log, trimScaledObject));
    // Pod templates carry the child labels (ours win over spec.pod.labels): only pipeline pods match.
    const podSelector = `${managed},${LABELS.pipeline}`;
    this.#pods = new WatchedKind<V1Pod>(client, src.pods, namespaces, podSelector, log, (o) => trimPod(o));

    const secretIndex = new SecretIndex();
    const secretStore = new SecretStore(secretSource(client, this.#secrets), (ns, name) => secretIndex.referenced(ns, name));
    // One poller per Service Bus namespace; a change in a pipeline's numbers requeues it.
    this.#scaling = new ScalingService({ ...opts.scaling, registry: metrics.registry, requeue: (key) => this.#queue.add(key), log });
    const reconciler = new Reconciler({
      reader: new CacheReader(this.#pipelines, secretStore, this.#children, this.#pods),
      writer: new ApiWriter(client),
      events: new EventRecorder(eventSink(client), log),
      secretIndex,
      log,
      scaling: this.#scaling,
      backlog: opts.backlog,
      requeueAfter: (key, ms) => this.#queue.addAfter(key, ms),
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

    const podChanges = new PodChanges();
    const pipelineChanges = new PipelineChanges();
    const childChanges = new ChildChanges();
    const enqueue = (key: string | undefined) => key && this.#queue.add(key);
    for (const verb of ['add', 'update', 'delete'] as const) {
      // A new generation (spec change), a deletion; not our own status writes (child-changes.ts).
      this.#pipelines.on(verb, (p) => enqueue(pipelineChanges.changed(verb, p)));
      // A child changed what the reconcile reads, or vanished: reconcile its pipeline so it is put back.
      for (const c of this.#children) c.on(verb, (o) => enqueue(childChanges.changed(verb, c.source.kind, o)));
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
    const { log } = this.#opts;
    await Promise.all([this.#secrets.start(), this.#pods.start(), ...this.#children.map((c) => c.start())]);
    await this.#pipelines.start();
    this.#synced = true;
    log.info({ pipelines: this.#pipelines.all().length }, 'Synced caches; reconciling');
    this.#scheduleResync();
  }

  /**
   * Periodic resync, a safety net for drift no watch event reported (reconciles of unchanged
   * pipelines write nothing): every resyncMs ±10 %, each pipeline at a random point of the
   * first tenth of the period (at most 5 min), so 1,000 pipelines do not arrive at once.
   */
  #scheduleResync(): void {
    const { resyncMs } = this.#opts;
    const random = this.#opts.random ?? Math.random;
    this.#resync = setTimeout(
      () => {
        const spreadMs = Math.min(resyncMs / 10, 300_000);
        for (const p of this.#pipelines.all()) this.#queue.addAfter(keyOf(p), Math.round(random() * spreadMs));
        this.#scheduleResync();
      },
      Math.round(resyncMs * (0.9 + 0.2 * random())),
    );
    this.#resync.unref();
  }

  async stop(): Promise<void> {
    if (this.#resync) clearTimeout(this.#resync);
    this.#scaling.close();
    await Promise.all([this.#pipelines.stop(), this.#secrets.stop(), this.#pods.stop(), ...this.#children.map((c) => c.stop())]);
    await this.#queue.shutdown();
  }
}
