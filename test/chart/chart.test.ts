// The Helm chart, rendered by the real helm: lint, snapshots of `helm template` for the
// default and the full values, one assertion per important value, least-privilege RBAC,
// and the values schema refusing mistakes. Update snapshots after an intended change with
//   node --test --test-update-snapshots test/chart/chart.test.ts
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ApiMetrics } from '../../src/api/metrics.ts';
import { METRICS_PATH, PORT_NAMES } from '../../src/contract/container.ts';
import { APP_NAME, FIELD_MANAGER, LABELS } from '../../src/contract/labels.ts';
import { QUEUE_METRIC, WORKER_METRIC } from '../../src/contract/metrics.ts';
import { API_ADMIN_PORT_NAME } from '../../src/operator/desired/api-deployment.ts';
import { parseConfig } from '../../src/operator/cli.ts';
import {
  CHART_DIR,
  FULL_VALUES,
  HELM_MISSING,
  PROMETHEUS_OPERATOR_APIS,
  findTool,
  findAll,
  findHelm,
  findOne,
  operatorContainer,
  render,
  renderError,
  renderText,
  runHelm,
  runTool,
  type Manifest,
  type RenderOptions,
} from './helm.ts';

const skip = findHelm() ? false : HELM_MISSING;
const RBAC_KINDS = new Set(['Role', 'ClusterRole']);

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Rules of the operator's own Role/ClusterRole (not the aggregated user roles). */
function operatorRules(manifests: Manifest[]): Rule[] {
  return manifests
    .filter(
      (m) =>
        RBAC_KINDS.has(m.kind) &&
        !m.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view'] &&
        !m.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit'],
    )
    .flatMap((m) => m.rules as Rule[]);
}

/** Verbs granted on group/resource by a set of rules. */
function verbsOn(rules: Rule[], group: string, resource: string): string[] {
  return rules
    .filter((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource))
    .flatMap((r) => r.verbs)
    .sort();
}

const args = (manifests: Manifest[]): string[] => operatorContainer(manifests).args;

void describe('helm chart', { skip }, () => {
  void describe('lint', () => {
    for (const [name, extra] of [
      ['default values', []],
      ['the full values file', ['--values', FULL_VALUES]],
    ] as const) {
      void it(`passes helm lint --strict with ${name}`, async () => {
        const result = await runHelm(['lint', '--strict', CHART_DIR, '--namespace', 'ocr-system', ...extra]);
        assert.equal(result.code, 0, `helm lint failed:\n${result.stdout}\n${result.stderr}`);
      });
    }
  });

  void describe('snapshots', () => {
    void it('renders the default values as in the snapshot', async (t) => {
      t.assert.snapshot(await renderText(), { serializers: [(text) => String(text)] });
    });
    void it('renders the full values file as in the snapshot', async (t) => {
      // On a cluster with the Prometheus Operator, so the PodMonitor and PrometheusRule are in it too.
      t.assert.snapshot(await renderText({ valuesFiles: [FULL_VALUES], apiVersions: PROMETHEUS_OPERATOR_APIS }), { serializers: [(text) => String(text)] });
    });
  });

  void describe('operator command line', () => {
    const variants: [string, RenderOptions][] = [
      ['default values', {}],
      ['the full values file', { valuesFiles: [FULL_VALUES] }],
    ];
    for (const [name, options] of variants) {
      void it(`runs dist/operator/main.js with flags the operator's own parser accepts, with ${name}`, async () => {
        const [script, ...flags] = args(await render(options));
        assert.equal(script, 'dist/operator/main.js');
        const config = parseConfig(flags, { POD_NAMESPACE: 'ocr-system' });
        assert.equal(config.leaderElectionId, 'ocr-platform-operator');
        assert.equal(config.leaderElectionNamespace, 'ocr-system');
      });
    }

    void it('serves probes and metrics on the container port the Service and probes use', async () => {
      const container = operatorContainer(await render({ set: { 'metrics.port': 9443 } }));
      const [, ...flags] = container.args;
      assert.equal(parseConfig(flags, {}).metricsPort, 9443);
      assert.deepEqual(container.ports, [{ name: 'metrics', containerPort: 9443, protocol: 'TCP' }]);
    });
  });

  void describe('defaults', () => {
    void it('runs two operator replicas with leader election on a Lease in the release namespace', async () => {
      const manifests = await render();
      assert.equal(findOne(manifests, 'Deployment').spec.replicas, 2);
      assert.ok(args(manifests).includes('--leader-elect=true'));
      const lease = findOne(manifests, 'Role', '-leader-election');
      assert.equal(lease.metadata.namespace, 'ocr-system');
      assert.deepEqual(
        lease.rules.flatMap((r: Rule) => r.resources),
        ['leases', 'leases'],
      );
    });

    void it('runs the operator under the restricted Pod Security Standard with /tmp as the only writable path', async () => {
      const pod = findOne(await render(), 'Deployment').spec.template.spec;
      const container = pod.containers[0];
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
      assert.deepEqual(container.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }]);
      assert.ok(pod.volumes.find((v: { name: string }) => v.name === 'tmp').emptyDir);
    });

    void it('probes /healthz and /readyz on the metrics port and sets resources', async () => {
      const container = operatorContainer(await render());
      assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'metrics' });
      assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'metrics' });
      assert.ok(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory);
    });

    void it('spreads the replicas with soft anti-affinity and a zone spread that selects the operator pods', async () => {
      const deployment = findOne(await render(), 'Deployment');
      const pod = deployment.spec.template.spec;
      const preferred = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0];
      assert.deepEqual(preferred.podAffinityTerm.labelSelector.matchLabels, deployment.spec.selector.matchLabels);
      assert.equal(pod.topologySpreadConstraints[0].whenUnsatisfiable, 'ScheduleAnyway');
      assert.deepEqual(pod.topologySpreadConstraints[0].labelSelector.matchLabels, deployment.spec.selector.matchLabels);
    });

    void it('keeps one operator pod up during voluntary disruptions', async () => {
      const manifests = await render();
      const pdb = findOne(manifests, 'PodDisruptionBudget');
      assert.equal(pdb.spec.minAvailable, 1);
      assert.deepEqual(pdb.spec.selector.matchLabels, findOne(manifests, 'Deployment').spec.selector.matchLabels);
    });

    void it('exposes the metrics port through a Service that selects the operator pods', async () => {
      const manifests = await render();
      const service = findOne(manifests, 'Service', '-metrics');
      assert.deepEqual(service.spec.ports, [{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);
      assert.deepEqual(service.spec.selector, findOne(manifests, 'Deployment').spec.selector.matchLabels);
    });

    void it('ships the prometheus-adapter rule that serves ocr_queue_backlog per namespace', async () => {
      const configMap = findOne(await render(), 'ConfigMap', '-prometheus-adapter');
      const config = parse(configMap.data['config.yaml']);
      const [rule] = config.externalRules;
      assert.equal(rule.name.as, 'ocr_queue_backlog');
      assert.deepEqual(rule.resources, { namespaced: true, overrides: { namespace: { resource: 'namespace' } } });
      assert.match(rule.metricsQuery, /<<\.Series>>\{<<\.LabelMatchers>>\}/);
    });

    void it('renders nothing optional: no ServiceMonitor, NetworkPolicy, dashboard or KEDA access', async () => {
      const manifests = await render();
      assert.deepEqual(findAll(manifests, 'ServiceMonitor'), []);
      assert.deepEqual(findAll(manifests, 'NetworkPolicy'), []);
      assert.equal(
        manifests.some((m) => m.metadata.labels?.grafana_dashboard),
        false,
      );
      assert.deepEqual(verbsOn(operatorRules(manifests), 'keda.sh', 'scaledobjects'), []);
    });
  });

  void describe('one value at a time', () => {
    void it('replicaCount sets the Deployment replicas', async () => {
      assert.equal(findOne(await render({ set: { replicaCount: 3 } }), 'Deployment').spec.replicas, 3);
    });

    void it('replicaCount 1 drops the PodDisruptionBudget, which would otherwise block every drain', async () => {
      assert.deepEqual(findAll(await render({ set: { replicaCount: 1 } }), 'PodDisruptionBudget'), []);
    });

    void it('leaderElection.enabled false with one replica passes --leader-elect=false and grants no Lease access', async () => {
      const manifests = await render({ set: { replicaCount: 1, 'leaderElection.enabled': false } });
      assert.ok(args(manifests).includes('--leader-elect=false'));
      assert.equal(
        args(manifests).some((a) => a.startsWith('--lease-duration')),
        false,
      );
      assert.deepEqual(
        verbsOn(
          manifests.filter((m) => m.kind === 'Role').flatMap((m) => m.rules),
          'coordination.k8s.io',
          'leases',
        ),
        [],
      );
    });

    void it('leaderElection.enabled false with two replicas fails with a reason', async () => {
      assert.match(await renderError({ set: { 'leaderElection.enabled': false } }), /replicaCount > 1 needs leaderElection\.enabled/);
    });

    void it('leaderElection timings become flags in seconds, and the Lease name is the one RBAC allows', async () => {
      const flags = args(
        await render({ set: { 'leaderElection.leaseDurationSeconds': 30, 'leaderElection.renewDeadlineSeconds': 20, 'leaderElection.retryPeriodSeconds': 4 } }),
      );
      assert.deepEqual(
        flags.filter((a) => /^--(leader-election-id|lease-duration|renew-deadline|retry-period)=/.test(a)),
        ['--leader-election-id=ocr-platform-operator', '--lease-duration=30', '--renew-deadline=20', '--retry-period=4'],
      );
    });

    void it('leaderElection timings out of order fail with a reason', async () => {
      assert.match(
        await renderError({ set: { 'leaderElection.renewDeadlineSeconds': 20 } }),
        /retryPeriodSeconds < renewDeadlineSeconds < leaseDurationSeconds/,
      );
    });

    void it('image.tag sets the tag, and the chart appVersion is the default', async () => {
      assert.match(operatorContainer(await render()).image, /^ghcr\.io\/ocr-platform\/ocr-platform:0\.1\.0$/);
      assert.equal(operatorContainer(await render({ set: { 'image.tag': '1.2.3' } })).image, 'ghcr.io/ocr-platform/ocr-platform:1.2.3');
    });

    void it('image.digest pins the image by digest', async () => {
      const digest = `sha256:${'a'.repeat(64)}`;
      assert.equal(operatorContainer(await render({ set: { 'image.digest': digest } })).image, `ghcr.io/ocr-platform/ocr-platform@${digest}`);
    });

    void it('watchNamespaces grants Roles in exactly those namespaces instead of a ClusterRole', async () => {
      const manifests = await render({ set: { watchNamespaces: ['finance', 'identity'] } });
      assert.deepEqual(findAll(operatorRoleManifests(manifests), 'ClusterRole'), []);
      assert.deepEqual(findAll(manifests, 'ClusterRoleBinding'), []);
      const roles = findAll(manifests, 'Role').filter((r) => !r.metadata.name.endsWith('-leader-election'));
      assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), ['finance', 'identity']);
      const bindings = findAll(manifests, 'RoleBinding').filter((r) => !r.metadata.name.endsWith('-leader-election'));
      assert.deepEqual(bindings.map((b) => b.metadata.namespace).sort(), ['finance', 'identity']);
      assert.ok(args(manifests).includes('--namespaces=finance,identity'));
    });

    void it('an empty watchNamespaces watches every namespace with a ClusterRole and passes no --namespaces', async () => {
      const manifests = await render();
      assert.equal(findAll(operatorRoleManifests(manifests), 'ClusterRole').length, 1);
      assert.equal(findAll(manifests, 'ClusterRoleBinding').length, 1);
      assert.equal(
        args(manifests).some((a) => a.startsWith('--namespaces')),
        false,
      );
    });

    void it("serviceMonitor.enabled renders a ServiceMonitor that keeps the exporter's namespace label", async () => {
      const monitor = findOne(await render({ set: { 'serviceMonitor.enabled': true, 'serviceMonitor.labels': { release: 'prom' } } }), 'ServiceMonitor');
      assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
      assert.equal(monitor.metadata.labels?.release, 'prom');
      assert.equal(monitor.spec.endpoints[0].port, 'metrics');
      assert.equal(monitor.spec.endpoints[0].honorLabels, true);
    });

    void it('networkPolicy.enabled limits ingress to the metrics port and egress to DNS and the API ports', async () => {
      const policy = findOne(await render({ set: { 'networkPolicy.enabled': true } }), 'NetworkPolicy');
      assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
      assert.deepEqual(policy.spec.ingress, [{ ports: [{ port: 'metrics', protocol: 'TCP' }] }]);
      const egressPorts = policy.spec.egress.flatMap((rule: { ports: { port: number; protocol: string }[] }) =>
        rule.ports.map((p) => `${p.port}/${p.protocol}`),
      );
      assert.deepEqual(egressPorts, ['53/UDP', '53/TCP', '443/TCP', '6443/TCP']);
    });

    void it('dashboard.enabled renders a Grafana dashboard ConfigMap with panels for backlog, workers, throughput, latency and errors', async () => {
      const configMap = findOne(await render({ set: { 'dashboard.enabled': true } }), 'ConfigMap', '-dashboard');
      assert.equal(configMap.metadata.labels?.grafana_dashboard, '1');
      const dashboard = JSON.parse(configMap.data['ocr-platform.json']);
      const exprs = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr)).join('\n');
      for (const needle of [
        'ocr_queue_backlog',
        'kube_deployment_status_replicas_available',
        'rate(ocr_worker_jobs_total',
        'histogram_quantile(0.5,',
        'histogram_quantile(0.95,',
        'outcome=~"dead_lettered|abandoned|failed_after_retries"',
      ]) {
        assert.ok(exprs.includes(needle), `no panel queries ${needle}`);
      }
    });

    void it('dashboard.enabled shows the queue wait, recovery, retries and webhooks, with metric names the platform exports', async () => {
      const configMap = findOne(await render({ set: { 'dashboard.enabled': true } }), 'ConfigMap', '-dashboard');
      const dashboard = JSON.parse(configMap.data['ocr-platform.json']);
      const exprs: string = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr)).join('\n');
      for (const needle of [
        'ocr_api_oldest_queued_job_age_seconds',
        'rate(ocr_api_jobs_recovered_total',
        'rate(ocr_api_jobs_expired_total',
        'rate(ocr_api_jobs_dead_lettered_total',
        'rate(ocr_api_webhooks_total',
        'ocr_api_webhook_outbox_rows',
        'ocr_api_webhook_outbox_oldest_age_seconds',
      ]) {
        assert.ok(exprs.includes(needle), `no panel queries ${needle}`);
      }
      const api = (await new ApiMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
      const known = new Set([...Object.values(QUEUE_METRIC), ...Object.values(WORKER_METRIC), ...api]);
      const used = [...new Set(exprs.match(/\bocr_[a-z_]+/g) ?? [])].map((name) => name.replace(/_(bucket|sum|count)$/, ''));
      assert.deepEqual(
        used.filter((name) => !known.has(name)),
        [],
      );
    });

    void it('prometheusAdapter.enabled false drops the adapter rule ConfigMap', async () => {
      assert.deepEqual(findAll(await render({ set: { 'prometheusAdapter.enabled': false } }), 'ConfigMap'), []);
    });

    void it('keda.enabled grants access to KEDA ScaledObjects', async () => {
      const rules = operatorRules(await render({ set: { 'keda.enabled': true } }));
      // watched (an optional kind), server-side applied, and deleted when a pipeline leaves KEDA
      assert.deepEqual(verbsOn(rules, 'keda.sh', 'scaledobjects'), ['create', 'delete', 'list', 'patch', 'watch']);
    });

    void it('rbac.aggregateToDefaultRoles false drops the roles for pipeline users', async () => {
      const manifests = await render({ set: { 'rbac.aggregateToDefaultRoles': false } });
      assert.equal(findAll(manifests, 'ClusterRole').length, 1);
    });

    void it('serviceAccount.create false with a name uses that ServiceAccount', async () => {
      const manifests = await render({ set: { 'serviceAccount.create': false, 'serviceAccount.name': 'existing' } });
      assert.deepEqual(findAll(manifests, 'ServiceAccount'), []);
      assert.equal(findOne(manifests, 'Deployment').spec.template.spec.serviceAccountName, 'existing');
      assert.equal(findOne(manifests, 'ClusterRoleBinding').subjects[0].name, 'existing');
    });

    void it('placement values reach the pod spec', async () => {
      const pod = findOne(
        await render({
          set: {
            priorityClassName: 'high',
            nodeSelector: { pool: 'system' },
            tolerations: [{ key: 'dedicated', operator: 'Exists' }],
            imagePullSecrets: [{ name: 'pull' }],
            podAnnotations: { a: 'b' },
            podLabels: { c: 'd' },
            podAntiAffinity: 'none',
            topologySpreadConstraints: [],
          },
        }),
        'Deployment',
      ).spec.template;
      assert.equal(pod.spec.priorityClassName, 'high');
      assert.equal(pod.spec.nodeSelector.pool, 'system');
      assert.deepEqual(pod.spec.tolerations, [{ key: 'dedicated', operator: 'Exists' }]);
      assert.deepEqual(pod.spec.imagePullSecrets, [{ name: 'pull' }]);
      assert.equal(pod.metadata.annotations.a, 'b');
      assert.equal(pod.metadata.labels.c, 'd');
      assert.equal(pod.spec.affinity, undefined);
      assert.equal(pod.spec.topologySpreadConstraints, undefined);
    });
  });

  void describe('monitoring of the pipelines', () => {
    const monitoring = (set: Record<string, unknown> = {}): Promise<Manifest[]> => render({ set, apiVersions: PROMETHEUS_OPERATOR_APIS });

    void it('renders no PodMonitor or PrometheusRule on a cluster that does not serve them', async () => {
      const manifests = await render();
      assert.deepEqual(findAll(manifests, 'PodMonitor'), []);
      assert.deepEqual(findAll(manifests, 'PrometheusRule'), []);
    });

    void it('scrapes the API admin port and the worker port of the pods the operator manages, in every namespace', async () => {
      const monitor = findOne(await monitoring(), 'PodMonitor');
      assert.deepEqual(monitor.spec.namespaceSelector, { any: true });
      assert.deepEqual(monitor.spec.selector.matchLabels, { [LABELS.name]: APP_NAME, [LABELS.managedBy]: FIELD_MANAGER });
      const endpoints = monitor.spec.podMetricsEndpoints.map((e: { port: string; path: string; relabelings: { regex?: string; action?: string }[] }) => ({
        port: e.port,
        path: e.path,
        keeps: e.relabelings.find((r) => r.action === 'keep')?.regex,
      }));
      // The port names the operator gives the containers (src/operator/desired), so a rename there fails here.
      assert.deepEqual(endpoints, [
        { port: API_ADMIN_PORT_NAME, path: METRICS_PATH, keeps: 'api' },
        { port: PORT_NAMES.worker, path: METRICS_PATH, keeps: 'worker' },
      ]);
    });

    void it('scrapes only the watched namespaces when watchNamespaces is set', async () => {
      const monitor = findOne(await monitoring({ watchNamespaces: ['finance', 'identity'] }), 'PodMonitor');
      assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: ['finance', 'identity'] });
    });

    void it('podMonitor.enabled and prometheusRule.enabled false render neither, even where the cluster serves them', async () => {
      const manifests = await monitoring({ 'podMonitor.enabled': false, 'prometheusRule.enabled': false });
      assert.deepEqual(findAll(manifests, 'PodMonitor'), []);
      assert.deepEqual(findAll(manifests, 'PrometheusRule'), []);
    });

    void it('alerts on a growing dead-letter queue, a long queue wait, failing webhooks and workers not ready', async () => {
      const rule = findOne(await monitoring({ 'prometheusRule.queueWaitSeconds': 120 }), 'PrometheusRule');
      const alerts = new Map<string, string>(
        rule.spec.groups.flatMap((g: { rules: { alert: string; expr: string }[] }) => g.rules.map((r) => [r.alert, r.expr])),
      );
      assert.deepEqual([...alerts.keys()].sort(), [
        'OcrDeadLetterQueueGrowing',
        'OcrQueueWaitHigh',
        'OcrWebhookBacklogOld',
        'OcrWebhooksFailing',
        'OcrWorkersNotReady',
      ]);
      assert.match(alerts.get('OcrQueueWaitHigh') ?? '', /> 120$/);
    });

    void it('uses only metric names the operator, the API and the worker export', async () => {
      const rule = findOne(await monitoring(), 'PrometheusRule');
      const exprs: string[] = rule.spec.groups.flatMap((g: { rules: { expr: string }[] }) => g.rules.map((r) => r.expr));
      const api = (await new ApiMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
      const known = new Set([...Object.values(QUEUE_METRIC), ...Object.values(WORKER_METRIC), ...api]);
      const used = [...new Set(exprs.flatMap((e) => e.match(/\bocr_[a-z_]+/g) ?? []))];
      assert.ok(used.length >= 5, `only ${used.join(', ')}`);
      assert.deepEqual(
        used.filter((name) => !known.has(name)),
        [],
      );
    });

    void it('passes promtool check rules', { skip: findTool('promtool') ? false : 'promtool not found (the prometheus package ships it)' }, async () => {
      const rule = findOne(await monitoring(), 'PrometheusRule');
      const dir = await mkdtemp(join(tmpdir(), 'ocr-rules-'));
      const file = join(dir, 'rules.yaml');
      await writeFile(file, stringify({ groups: rule.spec.groups }));
      const result = await runTool('promtool', ['check', 'rules', file]).finally(() => rm(dir, { recursive: true, force: true }));
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.match(result.stdout, /SUCCESS: 5 rules found/);
    });
  });

  void describe('RBAC', () => {
    const variants: [string, RenderOptions][] = [
      ['default values', {}],
      ['the full values file', { valuesFiles: [FULL_VALUES] }],
      ['KEDA and all namespaces', { set: { 'keda.enabled': true } }],
    ];
    for (const [name, options] of variants) {
      void it(`grants no wildcard group, resource, verb or name with ${name}`, async () => {
        const rules = (await render(options)).filter((m) => RBAC_KINDS.has(m.kind)).flatMap((m) => m.rules as Rule[]);
        assert.ok(rules.length > 0);
        for (const rule of rules) {
          for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames'] as const) {
            assert.equal(rule[field]?.includes('*') ?? false, false, `wildcard in ${field}: ${JSON.stringify(rule)}`);
          }
        }
      });
    }

    void it('lets the operator read pipelines, write only their status, read Secrets and create (never change) them, and watch pods', async () => {
      const rules = operatorRules(await render());
      assert.deepEqual(verbsOn(rules, 'ocrplatform.io', 'ocrpipelines'), ['list', 'watch']);
      assert.deepEqual(verbsOn(rules, 'ocrplatform.io', 'ocrpipelines/status'), ['patch']);
      assert.deepEqual(verbsOn(rules, '', 'secrets'), ['create', 'get', 'list', 'watch']);
      assert.deepEqual(verbsOn(rules, '', 'events'), ['create']);
      assert.deepEqual(verbsOn(rules, '', 'pods'), ['list', 'watch']);
      for (const [group, resource] of [
        ['apps', 'deployments'],
        ['', 'services'],
        ['autoscaling', 'horizontalpodautoscalers'],
        ['policy', 'poddisruptionbudgets'],
        ['networking.k8s.io', 'networkpolicies'],
      ]) {
        assert.deepEqual(verbsOn(rules, group!, resource!), ['create', 'delete', 'list', 'patch', 'watch'], `${group}/${resource}`);
      }
    });

    void it('may update the finalizers of pipelines, which blockOwnerDeletion on children needs', async () => {
      assert.deepEqual(verbsOn(operatorRules(await render()), 'ocrplatform.io', 'ocrpipelines/finalizers'), ['update']);
    });

    void it('grants nothing the operator does not use', async () => {
      const rules = operatorRules(await render({ set: { 'keda.enabled': true } }));
      const granted = rules.flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).map((res) => `${g}/${res}`)));
      const used = [
        'ocrplatform.io/ocrpipelines',
        'ocrplatform.io/ocrpipelines/status',
        'ocrplatform.io/ocrpipelines/finalizers',
        'apps/deployments',
        '/services',
        'autoscaling/horizontalpodautoscalers',
        'policy/poddisruptionbudgets',
        'networking.k8s.io/networkpolicies',
        'keda.sh/scaledobjects',
        '/secrets',
        '/events',
        '/pods',
        'coordination.k8s.io/leases',
      ];
      assert.deepEqual([...new Set(granted)].sort(), used.sort());
    });

    void it("limits Lease updates to the operator's own Lease", async () => {
      const lease = findOne(await render(), 'Role', '-leader-election');
      const update = lease.rules.find((r: Rule) => r.verbs.includes('update'));
      assert.deepEqual(update.resourceNames, ['ocr-platform-operator']);
    });
  });

  void describe('values schema', () => {
    const mistakes: [string, Record<string, unknown>, RegExp][] = [
      ['a mistyped top-level key', { replicaCont: 3 }, /replicaCont/],
      ['a mistyped nested key', { 'image.tga': 'x' }, /tga/],
      ['a string where a number belongs', { replicaCount: 'two' }, /replicaCount/],
      ['a value outside an enum', { logLevel: 'verbose' }, /logLevel/],
      ['a lease duration of zero seconds', { 'leaderElection.leaseDurationSeconds': 0 }, /leaseDurationSeconds/],
    ];
    for (const [name, set, message] of mistakes) {
      void it(`fails helm template on ${name}`, async () => {
        const stderr = await renderError({ set });
        assert.match(stderr, /values don't meet the specifications of the schema/);
        assert.match(stderr, message);
      });
    }
  });
});

/** RBAC objects of the operator itself, leaving out the user roles aggregated into view/edit. */
function operatorRoleManifests(manifests: Manifest[]): Manifest[] {
  return manifests.filter((m) => RBAC_KINDS.has(m.kind) && !m.metadata.name.endsWith('-view') && !m.metadata.name.endsWith('-edit'));
}
