/**
 * Tests of the Helm chart's templates, over `helm template` output (helm from $HELM). Run by the
 * deploy step of CI (`scripts/deploy-check.sh`), which builds helm first; not by the unit tier.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { isForeignSetting, loadSettings, rootDir } from '../settings.js';

const chart = path.join(rootDir, 'charts/turnpike');
const helm = process.env['HELM'] ?? 'helm';
const SERVICES = ['router', 'connector', 'billing', 'analytics', 'gateway'];

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
};
type Container = {
  name: string;
  args?: string[];
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
  }>;
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  startupProbe?: unknown;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  resources?: { requests?: object; limits?: object };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
};
type PodSpec = {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: unknown[];
};

function render(args: string[]): { ok: boolean; text: string; docs: Manifest[] } {
  const r = spawnSync(helm, ['template', 'tp', chart, ...args], { encoding: 'utf8' });
  const text = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) return { ok: false, text, docs: [] };
  const docs = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
  return { ok: true, text: r.stdout, docs };
}
const values = (name: string) => ['-f', path.join(chart, `ci/${name}-values.yaml`)];
const external = render(values('external'));
const bundled = render(values('bundled'));
const full = render(values('full'));

const find = (docs: Manifest[], kind: string, name: string) => {
  const m = docs.find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(m, `${kind} ${name}`);
  return m;
};
const podOf = (m: Manifest) => (m.spec as { template: { spec: PodSpec } }).template.spec;
const envOf = (c: Container) => new Map((c.env ?? []).map((e) => [e.name, e]));

test('the chart renders for external, bundled and fully optional values', () => {
  for (const r of [external, bundled, full]) assert.ok(r.ok, r.text.slice(0, 2000));
});

test('the default values alone name what an install must give: external Postgres and Kafka', () => {
  const r = render([]);
  assert.equal(r.ok, false);
  assert.match(r.text, /postgres\.url/);
  const noKafka = render(['--set', 'postgres.url=postgres://u:p@db:5432/t']);
  assert.equal(noKafka.ok, false);
  assert.match(noKafka.text, /kafka\.brokers/);
});

test('values.schema.json: a typo or a wrong type in values fails helm template', () => {
  for (const [set, want] of [
    ['gateway.replicaz=3', /replicaz/],
    ['kafka.sasl.mechanism=gssapi', /mechanism/],
    ['kafka.topics.overrides.llm\\.requests\\.v1.partitons=3', /partitons/],
    ['gateway.drainSeconds=soon', /drainSeconds/],
    ['config.log_level=debug', /log_level|pattern/],
  ] as const) {
    const r = render([...values('external'), '--set', set]);
    assert.equal(r.ok, false, `${set} was accepted`);
    assert.match(r.text, want);
  }
});

test('one Deployment per service: probes on the health routes, drain, preStop, security, spread', () => {
  for (const s of SERVICES) {
    const d = find(external.docs, 'Deployment', `tp-turnpike-${s}`);
    const pod = podOf(d);
    const c = pod.containers[0]!;
    assert.deepEqual(c.args, [s]);
    assert.equal(c.livenessProbe?.httpGet?.path, '/health/live');
    assert.equal(c.readinessProbe?.httpGet?.path, '/health/ready');
    assert.ok(c.startupProbe);
    const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
    assert.ok(preStop > 0, 'a preStop pause before the drain');
    const drainMs = Number(envOf(c).get('SHUTDOWN_GRACE_MS')?.value);
    // The pause, the drain and the service's own hard stop (10 s after the drain) fit the grace.
    assert.ok(
      (pod.terminationGracePeriodSeconds ?? 30) >= preStop + drainMs / 1000 + 10,
      `${s}: grace ${pod.terminationGracePeriodSeconds} < ${preStop} + ${drainMs / 1000} + 10`,
    );
    if (s === 'gateway' || s === 'connector') assert.ok(drainMs >= 60_000, `${s} drains streams`);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
    assert.ok(c.resources?.requests && c.resources.limits);
    assert.equal(pod.topologySpreadConstraints?.length, 2);
    assert.equal(envOf(c).get('HTTP_HOST')?.value, '0.0.0.0');
    find(external.docs, 'PodDisruptionBudget', `tp-turnpike-${s}`);
    find(external.docs, 'Service', `tp-turnpike-${s}`);
  }
});

test('secrets are never in plain text outside a Secret, and there is no ConfigMap', () => {
  assert.equal(full.docs.filter((d) => d.kind === 'ConfigMap').length, 0);
  const plain = [
    'postgres://turnpike:secret@postgres.example.internal:5432/turnpike?sslmode=require',
    'from-values',
    'sk-test',
  ];
  for (const r of [external, full]) {
    const nonSecret = r.docs.filter((d) => d.kind !== 'Secret').map((d) => JSON.stringify(d));
    for (const p of plain)
      assert.ok(!nonSecret.some((t) => t.includes(p)), `${p} outside a Secret`);
  }
  const secret = find(external.docs, 'Secret', 'tp-turnpike-secrets');
  assert.equal(
    Buffer.from(secret.data!['database-url']!, 'base64').toString(),
    plain[0],
    'the database URL given in values is in the chart Secret',
  );
  assert.match(Buffer.from(secret.data!['admin-token']!, 'base64').toString(), /^adm-.{40}$/);
  assert.match(
    Buffer.from(secret.data!['master-key']!, 'base64').toString(),
    /^helm-1:[A-Za-z0-9+/=]{44}$/,
  );
  assert.equal(secret.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
});

test('existing Secrets are referenced, not copied', () => {
  const own = find(full.docs, 'Secret', 'tp-turnpike-secrets');
  for (const k of ['admin-token', 'master-key', 'database-url'])
    assert.ok(!(k in (own.data ?? {})), k);
  assert.ok('providers' in own.data! && 'kafka-sasl-password' in own.data!);
  const gw = podOf(find(full.docs, 'Deployment', 'tp-turnpike-gateway')).containers[0]!;
  assert.deepEqual(envOf(gw).get('GATEWAY_ADMIN_TOKEN')?.valueFrom?.secretKeyRef, {
    name: 'turnpike-admin',
    key: 'token',
  });
  assert.deepEqual(envOf(gw).get('DATABASE_URL')?.valueFrom?.secretKeyRef, {
    name: 'turnpike-db',
    key: 'url',
  });
  const connector = podOf(find(full.docs, 'Deployment', 'tp-turnpike-connector'));
  const env = envOf(connector.containers[0]!);
  assert.equal(env.get('CONNECTOR_MASTER_KEY_FILE')?.value, '/etc/turnpike/master-key/master.key');
  assert.equal(
    env.get('CONNECTOR_PROVIDERS_FILE')?.value,
    '/etc/turnpike/providers/providers.json',
  );
  const volumes = (
    connector as unknown as {
      volumes: Array<{
        name: string;
        secret?: { secretName: string; items?: Array<{ key: string }> };
      }>;
    }
  ).volumes;
  const mk = volumes.find((v) => v.name === 'master-key')!;
  assert.deepEqual(
    [mk.secret?.secretName, mk.secret?.items?.[0]?.key],
    ['turnpike-master-key', 'keys'],
  );
});

test('Kafka TLS and SASL/SCRAM reach every service and job as the shared settings', () => {
  for (const s of SERVICES) {
    const env = envOf(podOf(find(full.docs, 'Deployment', `tp-turnpike-${s}`)).containers[0]!);
    assert.equal(env.get('KAFKA_SSL')?.value, 'true');
    assert.equal(env.get('KAFKA_SSL_CA_FILE')?.value, '/etc/turnpike/kafka-tls/ca.crt');
    assert.equal(env.get('KAFKA_SSL_CERT_FILE')?.value, '/etc/turnpike/kafka-tls/tls.crt');
    assert.equal(env.get('KAFKA_SASL_MECHANISM')?.value, 'scram-sha-256');
    assert.equal(env.get('KAFKA_SASL_PASSWORD_FILE')?.value, '/etc/turnpike/kafka-sasl/password');
    assert.equal(
      env.get('OTEL_EXPORTER_OTLP_ENDPOINT')?.value,
      'http://otel-collector.observability:4318',
    );
  }
  const topics = podOf(find(full.docs, 'Job', 'tp-turnpike-topics')).containers[0]!;
  assert.equal(envOf(topics).get('KAFKA_SASL_USERNAME')?.value, 'turnpike');
});

test('hooks: Secret, then topics, then migrations, before install/upgrade with external infrastructure', () => {
  const weight = (m: Manifest) => Number(m.metadata.annotations?.['helm.sh/hook-weight']);
  const secret = find(external.docs, 'Secret', 'tp-turnpike-secrets');
  const topics = find(external.docs, 'Job', 'tp-turnpike-topics');
  const migrate = find(external.docs, 'Job', 'tp-turnpike-migrate');
  for (const m of [secret, topics, migrate])
    assert.equal(
      m.metadata.annotations?.['helm.sh/hook'],
      'pre-install,pre-upgrade',
      m.metadata.name,
    );
  assert.ok(weight(secret) < weight(topics) && weight(topics) < weight(migrate));
  assert.deepEqual(
    podOf(migrate).containers.map((c) => c.args),
    SERVICES.map((s) => ['migrate', s]),
  );
  assert.deepEqual(podOf(topics).containers[0]!.args, ['topics']);
  // The services leave the topics to the job.
  const gw = envOf(podOf(find(external.docs, 'Deployment', 'tp-turnpike-gateway')).containers[0]!);
  assert.equal(gw.get('KAFKA_TOPICS_ENSURE')?.value, 'false');
  assert.equal(gw.get('KAFKA_TOPICS_REPLICATION_FACTOR')?.value, '3');
  const fullTopics = envOf(podOf(find(full.docs, 'Job', 'tp-turnpike-topics')).containers[0]!);
  assert.deepEqual(JSON.parse(fullTopics.get('KAFKA_TOPICS')!.value!), {
    'llm.attempts.v1': { config: { 'min.insync.replicas': '2' }, retentionMs: 86400000 },
    'llm.requests.v1': { partitions: 24 },
  });
});

test('bundled Kafka and Postgres for trials: StatefulSets, wired in, jobs after the install', () => {
  find(bundled.docs, 'StatefulSet', 'tp-turnpike-kafka');
  find(bundled.docs, 'StatefulSet', 'tp-turnpike-postgres');
  const env = envOf(podOf(find(bundled.docs, 'Deployment', 'tp-turnpike-billing')).containers[0]!);
  assert.equal(env.get('KAFKA_BROKERS')?.value, 'tp-turnpike-kafka:9092');
  assert.equal(env.get('KAFKA_TOPICS_ENSURE')?.value, 'true');
  assert.equal(env.get('KAFKA_TOPICS_REPLICATION_FACTOR')?.value, '1');
  assert.equal(
    env.get('DATABASE_URL')?.value,
    'postgres://turnpike:$(TURNPIKE_PG_PASSWORD)@tp-turnpike-postgres:5432/turnpike',
  );
  assert.ok(!bundled.docs.some((d) => d.metadata.name === 'tp-turnpike-topics'));
  const migrate = find(bundled.docs, 'Job', 'tp-turnpike-migrate');
  assert.equal(migrate.metadata.annotations?.['helm.sh/hook'], 'post-install,pre-upgrade');
  assert.equal(
    find(bundled.docs, 'Secret', 'tp-turnpike-secrets').metadata.annotations?.['helm.sh/hook'],
    undefined,
  );
  assert.ok(!external.docs.some((d) => d.kind === 'StatefulSet'));
});

test('autoscaling: the gateway on CPU and in-flight streams, the connector on in-flight generations', () => {
  const hpa = (name: string) =>
    find(full.docs, 'HorizontalPodAutoscaler', `tp-turnpike-${name}`).spec as {
      metrics: Array<{ type: string; pods?: { metric: { name: string } } }>;
      maxReplicas: number;
    };
  assert.deepEqual(
    hpa('gateway').metrics.map((m) => m.pods?.metric.name ?? m.type),
    ['Resource', 'turnpike_gateway_generations_in_flight'],
  );
  assert.deepEqual(
    hpa('connector').metrics.map((m) => m.pods?.metric.name ?? m.type),
    ['Resource', 'turnpike_connector_generations_in_flight'],
  );
  // Each gateway admits against balance/N: N is the most replicas the autoscaler may run.
  const gw = envOf(podOf(find(full.docs, 'Deployment', 'tp-turnpike-gateway')).containers[0]!);
  assert.equal(gw.get('GATEWAY_REPLICAS')?.value, String(hpa('gateway').maxReplicas));
  assert.equal(
    (find(full.docs, 'Deployment', 'tp-turnpike-gateway').spec as { replicas?: number }).replicas,
    undefined,
  );
  assert.ok(
    !external.docs.some(
      (d) => d.kind === 'HorizontalPodAutoscaler' && d.metadata.name.endsWith('billing'),
    ),
  );
});

test('ServiceMonitor (valid for the Prometheus Operator) and NetworkPolicies when asked for', () => {
  const sm = find(full.docs, 'ServiceMonitor', 'tp-turnpike');
  new ServiceMonitor(sm as never).validate();
  assert.ok(!external.docs.some((d) => d.kind === 'ServiceMonitor' || d.kind === 'NetworkPolicy'));
  const policies = full.docs.filter((d) => d.kind === 'NetworkPolicy');
  assert.equal(policies.length, SERVICES.length);
  assert.equal(bundled.docs.filter((d) => d.kind === 'NetworkPolicy').length, 0);
});

test('helm test calls the gateway with the admin token', () => {
  const pod = find(external.docs, 'Pod', 'tp-turnpike-test-gateway');
  assert.equal(pod.metadata.annotations?.['helm.sh/hook'], 'test');
  const c = (pod.spec as unknown as PodSpec).containers[0]!;
  assert.deepEqual(c.args, ['check-gateway']);
  assert.equal(envOf(c).get('TURNPIKE_URL')?.value, 'http://tp-turnpike-gateway:80');
});

test('every setting the chart gives a service is one of its config class; every kind has a vendored schema', async () => {
  const settings = await loadSettings();
  for (const r of [external, bundled, full])
    for (const d of r.docs.filter((x) => x.kind === 'Deployment' || x.kind === 'Job')) {
      for (const c of podOf(d).containers) {
        const process =
          c.args?.[0] === 'migrate'
            ? c.args[1]!
            : c.args?.[0] === 'topics'
              ? 'topics'
              : c.args?.[0];
        if (!process || !(process in settings)) continue;
        const known = settings[process as keyof typeof settings];
        for (const e of c.env ?? [])
          assert.ok(
            e.name in known || isForeignSetting(e.name) || e.name === 'TURNPIKE_PG_PASSWORD',
            `${d.metadata.name}/${c.name}: ${e.name} is no setting of ${process}`,
          );
      }
    }
  const vendored = new Set(readdirSync(path.join(chart, 'ci/schemas')));
  for (const d of full.docs.concat(bundled.docs)) {
    if (d.kind === 'ServiceMonitor') continue;
    const [group, version] = d.apiVersion.includes('/')
      ? d.apiVersion.split('/')
      : ['', d.apiVersion];
    const file = `${d.kind.toLowerCase()}-${(group || version!).split('.')[0]}${group ? `-${version}` : ''}.json`;
    assert.ok(vendored.has(file), `${d.kind} ${d.apiVersion}: no ${file}`);
  }
});
