// The worker Deployment: OCR consumers. Replicas are left to the HPA (or KEDA) when it
// scales; the grace period follows maxJobSeconds so a draining worker finishes its job.
import type { V1Deployment, V1EnvVar } from '@kubernetes/client-node';
import { ENV, WORKER_GRACE_MARGIN_SECONDS } from '../../contract/container.ts';
import { TMP_MOUNT, TMP_VOLUME, basePodSpec, componentContainer, configHash, deployment, portEnv, sharedEnv } from './common.ts';
import { componentSecretHashes, workerHasOwnQueueCredentials } from './credentials.ts';
import type { DesiredInput } from './input.ts';
import { resolveEngine, resolveRequestEngines } from './ocr-engine.ts';
import { stageTimeoutsEnv } from './jobs-env.ts';
import { retriesEnv } from './retries-env.ts';

export function workerEnv(input: DesiredInput): V1EnvVar[] {
  const { spec } = input.pipeline;
  const env = [
    ...sharedEnv(input.pipeline, 'worker'),
    ...portEnv('worker'),
    // The concrete engine: auto is resolved here, per pipeline, from its languages (ocr-engine.ts).
    { name: ENV.ocrEngine, value: resolveEngine(spec) },
    // The other engines a job may ask for: the worker loads one on its first job that does.
    { name: ENV.requestEngines, value: resolveRequestEngines(spec).join(',') },
    { name: ENV.tesseractModel, value: spec.ocr.tesseractModel },
    { name: ENV.workerMaxPages, value: String(spec.ocr.maxPages) },
    { name: ENV.workerPdfDpi, value: String(spec.ocr.pdfDpi) },
    { name: ENV.workerPdfTextLayer, value: String(spec.ocr.pdfTextLayer) },
    { name: ENV.workerConcurrency, value: String(spec.worker.concurrency) },
    { name: ENV.workerMaxJobSeconds, value: String(spec.worker.maxJobSeconds) },
    ...retriesEnv(spec.retries),
    ...stageTimeoutsEnv(spec.jobs.stageTimeouts),
  ];
  // Send+Listen credentials cannot read the queue's MaxDeliveryCount (Manage): say it here instead, the queue's real value when the
  // operator read it (it differs from the spec when the operator may not update the queue: QueueConfigured=False).
  const maxDeliveryCount = input.queue?.maxDeliveryCount ?? spec.queue.serviceBus.maxDeliveryCount;
  if (workerHasOwnQueueCredentials(spec)) env.push({ name: ENV.workerMaxDeliveryCount, value: String(maxDeliveryCount) });
  return env;
}

export function terminationGracePeriodSeconds(maxJobSeconds: number): number {
  return maxJobSeconds + WORKER_GRACE_MARGIN_SECONDS;
}

export function workerDeployment(input: DesiredInput): V1Deployment {
  const p = input.pipeline;
  const { spec } = p;
  const env = workerEnv(input);
  const hash = configHash({ env, secrets: componentSecretHashes(spec, input.secretHashes, 'worker') });
  return deployment(p, 'worker', spec.worker.replicas, hash, {
    ...basePodSpec(spec, 'worker'),
    terminationGracePeriodSeconds: terminationGracePeriodSeconds(spec.worker.maxJobSeconds),
    containers: [componentContainer(spec, 'worker', env, [TMP_MOUNT])],
    volumes: [TMP_VOLUME],
  });
}
