// The kind path (`npm run e2e:kind`) cannot run on a machine without Docker, so what can
// be checked without it is checked here: the script parses and uses the files it must,
// the Prometheus/adapter values agree with the chart, the in-cluster backends are sound,
// and the stand-in's in-cluster entry point really serves the SDK (AMQP and ATOM) on one
// port. No cluster needed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import { emulatorHttpPolicy } from '../../src/servicebus-standin/index.ts';
import { findHelm, render } from '../chart/helm.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { AZURITE_IMAGE, inClusterBackendManifests, inClusterConnectionStrings, STANDIN_SCRIPT } from './backends.ts';
import { holderHost, pipelineManifest, QUEUE, ROOT, settingsFrom, type Json } from './harness.ts';
import { processFlags } from './operator.ts';

const SCRIPT = join(ROOT, 'scripts', 'e2e-kind.sh');
const script = readFileSync(SCRIPT, 'utf8');
const kindValues = (file: string): Json => parse(readFileSync(join(ROOT, 'test', 'e2e', 'kind', file), 'utf8'));

void describe('scripts/e2e-kind.sh', () => {
  void it('parses (bash -n)', () => {
    const result = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });

  const references: Array<[string, RegExp]> = [
    ['creates the cluster from kind-config.yaml', /kind_config=\$root\/kind-config\.yaml[\s\S]*create cluster[^\n]*--config "\$kind_config"/],
    ['builds the image from the Dockerfile', /dockerfile=\$root\/Dockerfile[\s\S]*build --tag "\$image" --file "\$dockerfile"/],
    ['loads the image into the kind nodes', /load docker-image "\$image" --name "\$cluster"/],
    ['installs Prometheus and prometheus-adapter with the values in test/e2e/kind', /prometheus-values\.yaml[\s\S]*prometheus-adapter-values\.yaml/],
    ['runs the suite in-cluster against the kind kubeconfig', /OCR_TEST_KUBECONFIG=\$kubeconfig[\s\S]*E2E_OPERATOR=incluster[\s\S]*test\/e2e\/e2e\.test\.ts/],
    ['deletes the cluster on exit, failure included', /cleanup\(\) \{[\s\S]*delete cluster --name "\$cluster"[\s\S]*trap cleanup EXIT/],
  ];
  for (const [name, pattern] of references) {
    void it(name, () => assert.match(script, pattern));
  }

  void it('names only files that exist in the checkout', () => {
    for (const file of [
      'kind-config.yaml',
      'Dockerfile',
      'test/e2e/kind/prometheus-values.yaml',
      'test/e2e/kind/prometheus-adapter-values.yaml',
      'test/e2e/e2e.test.ts',
    ]) {
      assert.ok(script.includes(file.split('/').pop()!), `the script mentions ${file}`);
      assert.doesNotThrow(() => readFileSync(join(ROOT, file)), `${file} exists`);
    }
  });

  void it('sets the trap before the cluster exists, so a failed create or build still deletes it', () => {
    assert.ok(script.indexOf('trap cleanup EXIT') < script.indexOf('create cluster'), 'trap first');
  });

  void it('points the suite at the port kind-config.yaml maps to the host', () => {
    const kind = parse(readFileSync(join(ROOT, 'kind-config.yaml'), 'utf8'));
    const mappings: Json[] = kind.nodes.flatMap((n: Json) => n.extraPortMappings ?? []);
    const nodePort = Number(/E2E_API_NODE_PORT=(\d+)/.exec(script)?.[1]);
    const url = new URL(/E2E_API_URL=(\S+)/.exec(script)?.[1] ?? '');
    const mapping = mappings.find((m) => m.containerPort === nodePort);
    assert.ok(mapping, `kind-config.yaml maps node port ${nodePort}`);
    assert.equal(Number(url.port), mapping.hostPort);
    assert.equal(url.hostname, mapping.listenAddress ?? '0.0.0.0');
  });

  void it('gives the operator the URL of the Prometheus the values install', () => {
    const url = /E2E_PROMETHEUS_URL=(\S+)/.exec(script)?.[1];
    const adapter = kindValues('prometheus-adapter-values.yaml');
    assert.equal(url, adapter.prometheus.url, 'operator and adapter query the same Prometheus');
    assert.match(
      script,
      /helm" install prometheus prometheus-community\/prometheus [^\n]*\n[^\n]*--namespace monitoring/,
      'release "prometheus" in monitoring: Service prometheus-server.monitoring',
    );
  });
});

void describe('Prometheus and prometheus-adapter values for kind', () => {
  void it('serve the same external rule the chart renders for prometheus-adapter', { skip: findHelm() ? false : 'helm not found' }, async () => {
    const configMap = (await render()).find((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-prometheus-adapter'));
    assert.ok(configMap, 'the chart renders its adapter ConfigMap by default');
    const chartRules = parse(configMap.data['config.yaml']).externalRules;
    assert.deepEqual(kindValues('prometheus-adapter-values.yaml').rules.external, chartRules);
  });

  void it('scrape the operator with honor_labels and the workers with their namespace', () => {
    const jobs: Json[] = parse(kindValues('prometheus-values.yaml').extraScrapeConfigs);
    const operator = jobs.find((j) => j.job_name === 'ocr-platform-operator');
    const workers = jobs.find((j) => j.job_name === 'ocr-platform-workers');
    assert.equal(operator?.honor_labels, true);
    assert.ok(workers?.relabel_configs.some((r: Json) => r.target_label === 'namespace'));
  });
});

void describe("the suite's settings and manifests", () => {
  void it('defaults to the process mode and refuses unknown modes with the choices', () => {
    assert.equal(settingsFrom({}, 1).mode, 'process');
    assert.throws(() => settingsFrom({ E2E_OPERATOR: 'docker' }, 1), /"process".*"incluster"/);
    assert.throws(() => settingsFrom({ E2E_IMAGE: 'no-tag' }, 1), /repository:tag/);
    assert.deepEqual(settingsFrom({ E2E_IMAGE: 'localhost:5000/ocr:1.2' }, 1).image, {
      repository: 'localhost:5000/ocr',
      tag: '1.2',
      pullPolicy: 'IfNotPresent',
    });
  });

  void it('puts the pipeline on the node agent only when a node selector is given', () => {
    const s = settingsFrom({}, 7);
    assert.deepEqual(pipelineManifest(s, { 'kubernetes.io/hostname': 'agent' }).spec.pod.nodeSelector, { 'kubernetes.io/hostname': 'agent' });
    assert.equal(pipelineManifest(s, undefined).spec.pod?.nodeSelector, undefined);
    assert.equal(pipelineManifest(s, undefined).metadata.namespace, 'e2e-7');
  });

  void it('reads the host of a Lease holder identity', () => {
    assert.equal(holderHost('e2e-ocr-platform-5d8f9-abcde_1a2b3c4d'), 'e2e-ocr-platform-5d8f9-abcde');
    assert.equal(holderHost('no-suffix'), undefined);
  });

  void it("runs the operator process with the chart's flags, moving only the listen address", () => {
    assert.deepEqual(processFlags(['dist/operator/main.js', '--metrics-addr=:8080', '--leader-elect=true'], 9000), [
      '--metrics-addr=127.0.0.1:9000',
      '--leader-elect=true',
    ]);
    assert.throws(() => processFlags(['dist/operator/main.js'], 9000), /no --metrics-addr/);
  });

  void it("pins Azurite's image to the azurite package the tests use", () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'azurite', 'package.json'), 'utf8')).version;
    assert.equal(AZURITE_IMAGE.split(':').pop(), version);
  });

  void it('wires the in-cluster stand-in to the Secret key and the connection string to its Service', () => {
    const s = settingsFrom({}, 7);
    const manifests = inClusterBackendManifests(s, 'k3y');
    const standin = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'servicebus');
    const container = standin.spec.template.spec.containers[0];
    assert.equal(container.image, 'ocr-platform:e2e');
    const port = Number(container.env.find((e: Json) => e.name === 'STANDIN_PORT').value);
    const cs = inClusterConnectionStrings(s, 'k3y');
    assert.match(
      cs.serviceBus,
      new RegExp(`^Endpoint=sb://servicebus\\.e2e-7\\.svc\\.cluster\\.local:${port};.*SharedAccessKey=k3y;UseDevelopmentEmulator=true$`),
    );
    assert.match(cs.storage, /BlobEndpoint=http:\/\/azurite\.e2e-7\.svc\.cluster\.local:10000\/devstoreaccount1/);
  });
});

void describe('the in-cluster stand-in entry point', () => {
  void it('serves AMQP (send, receive) and ATOM (queue properties) on its one port', { timeout: 60_000 }, async () => {
    // the image runs it against dist/; here the same script runs against the sources
    const source = STANDIN_SCRIPT.replaceAll('./dist/', './src/').replace(/\.js'/g, ".ts'");
    const port = await freePort();
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STANDIN_KEY_NAME: 'RootManageSharedAccessKey', STANDIN_KEY: 'dGVzdC1rZXk=', STANDIN_QUEUE: QUEUE, STANDIN_PORT: String(port) },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const cs = `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=dGVzdC1rZXk=;UseDevelopmentEmulator=true`;
    const client = new ServiceBusClient(cs, { retryOptions: { maxRetries: 0, timeoutInMs: 10_000 } });
    try {
      await waitFor('the stand-in script to listen', () => output.includes('listening'), 30_000);
      const sender = client.createSender(QUEUE);
      await sender.sendMessages([{ body: { n: 1 } }, { body: { n: 2 } }]);
      await sender.close();
      const admin = new ServiceBusAdministrationClient(cs, { retryOptions: { maxRetries: 0 } });
      admin.pipeline.addPolicy(emulatorHttpPolicy());
      assert.equal((await admin.getQueueRuntimeProperties(QUEUE)).activeMessageCount, 2);
      const receiver = client.createReceiver(QUEUE);
      const got = await receiver.receiveMessages(2, { maxWaitTimeInMs: 5_000 });
      for (const m of got) await receiver.completeMessage(m);
      await receiver.close();
      assert.deepEqual(got.map((m) => m.body.n).sort(), [1, 2]);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nstand-in output:\n${output}`, { cause: error });
    } finally {
      await client.close();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
