import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigError, parseTenants } from '@latchkey/config';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';

/**
 * The Helm chart (k8s/helm/latchkey), rendered with helm itself: what reaches the cluster. helm and
 * kubernetes-validate are found or installed by tools/infra/ensure-tools.mjs (`npm test` does it before
 * jest); without them these tests fail, they are never skipped.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CHART = join(ROOT, 'k8s', 'helm', 'latchkey');
const TWO_TENANTS = join(import.meta.dirname, 'two-tenants.values.yaml');
const ALL_FEATURES = join(import.meta.dirname, 'all-features.values.yaml');
const SERVICES = ['gateway', 'identity', 'token', 'delegation', 'device-registry', 'policy'];
const BACKENDS = SERVICES.filter((name) => name !== 'gateway');
/** Environment variables that carry secrets: always from a Secret, never a literal value. */
const SECRET_ENV = ['DATABASE_URL', 'LATCHKEY_KEK', 'LATCHKEY_GATEWAY_KEY', 'NATS_TOKEN'];

interface ToolsModule {
  ensureHelm(): { path: string };
  ensureKubernetesValidate(): { path: string };
}
const tools = (await import(pathToFileURL(join(ROOT, 'tools', 'infra', 'ensure-tools.mjs')).href)) as ToolsModule;

const helm = tools.ensureHelm().path;

// ---------------------------------------------------------------------------------------------------

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered Kubernetes objects are checked field by field */
type K8sObject = Record<string, any>;

const scratch = mkdtempSync(join(tmpdir(), 'latchkey-chart-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function helmTemplate(valuesFiles: string[], extraArgs: string[] = []): string {
  return execFileSync(helm, ['template', 'latchkey', CHART, '--namespace', 'latchkey', ...valuesFiles.flatMap((file) => ['-f', file]), ...extraArgs], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function render(valuesFiles: string[], extraArgs: string[] = []): K8sObject[] {
  return parseAllDocuments(helmTemplate(valuesFiles, extraArgs))
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

/** helm's error for values that do not render (schema or template checks), or undefined when they do. */
function renderError(values: unknown): string | undefined {
  const file = join(scratch, `values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(values));
  try {
    helmTemplate([TWO_TENANTS, file]);
    return undefined;
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

const named = (objects: K8sObject[], kind: string) => new Map(objects.filter((o) => o.kind === kind).map((o) => [o.metadata.name as string, o]));
const componentOf = (object: K8sObject) => object.metadata.labels?.['app.kubernetes.io/component'] as string;
const byComponent = (objects: K8sObject[], kind: string) => new Map(objects.filter((o) => o.kind === kind).map((o) => [componentOf(o), o]));
const podSpecs = (objects: K8sObject[]) =>
  objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind)).map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, labels: o.spec.template.metadata.labels, spec: o.spec.template.spec }));
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);
const envOf = (container: K8sObject) => new Map<string, K8sObject>((container.env ?? []).map((entry: K8sObject) => [entry.name, entry]));

/**
 * Every one of the six services has a Deployment and a Service of the same name whose selector is the
 * Deployment's, matches its pod labels and no other workload's pods, and whose ports target named
 * container ports of those pods: for the gateway its HTTP port, for the others the health port their
 * probes use (probes and metrics only, ClusterIP). `without` lists services expected to have no Service.
 */
function expectServicePerDeployment(objects: K8sObject[], without: string[] = []): void {
  const workloads = podSpecs(objects);
  const deployments = byComponent(objects, 'Deployment');
  const services = byComponent(objects, 'Service');
  for (const name of SERVICES) {
    const deployment = deployments.get(name) as K8sObject;
    expect([name, deployment?.metadata.name]).toEqual([name, `latchkey-${name}`]);
    const service = services.get(name) as K8sObject;
    if (without.includes(name)) {
      expect([name, service]).toEqual([name, undefined]);
      continue;
    }
    expect([name, service?.metadata.name]).toEqual([name, `latchkey-${name}`]);
    const selector = service.spec.selector as Record<string, string>;
    expect([name, selector]).toEqual([name, deployment.spec.selector.matchLabels]);
    expect([name, workloads.filter((pod) => matches(selector, pod.labels)).map((pod) => pod.owner)]).toEqual([name, [`Deployment/latchkey-${name}`]]);
    const container = deployment.spec.template.spec.containers[0];
    const containerPorts = deployment.spec.template.spec.containers.flatMap((c: K8sObject) => c.ports ?? []);
    expect([name, service.spec.ports.length]).toEqual([name, 1]);
    for (const port of service.spec.ports) {
      // A named target that exists, and the Service port carries the same name (ServiceMonitor endpoints use it).
      expect([name, typeof port.targetPort, port.name]).toEqual([name, 'string', port.targetPort]);
      expect([name, containerPorts.filter((p: K8sObject) => p.name === port.targetPort && p.protocol === port.protocol).length]).toEqual([name, 1]);
    }
    // The port the probes (and /metrics) are served on.
    expect([name, service.spec.ports[0].targetPort]).toEqual([name, container.readinessProbe.httpGet.port]);
    if (name !== 'gateway') expect([name, service.spec.type, service.spec.ports[0].targetPort]).toEqual([name, 'ClusterIP', 'health']);
  }
}

// ---------------------------------------------------------------------------------------------------

describe('Helm chart, rendered with two tenants', () => {
  const objects = render([TWO_TENANTS]);
  const deployments = byComponent(objects, 'Deployment');

  it('case=should render the tenants into the ConfigMap the services read, valid for the services own parser', () => {
    const configMap = named(objects, 'ConfigMap').get('latchkey-tenants');
    expect(configMap).toBeDefined();
    const file = parseTenants(configMap?.data['tenants.yaml'], 'tenants.yaml of the ConfigMap');
    expect(file.tenants.map((tenant) => tenant.id)).toEqual(['demo', 'acme-fleet']);
    const acme = file.tenants[1];
    expect(acme).toMatchObject({ displayName: 'ACME Fleet', accessTokenTtlSeconds: 600, signingAlg: 'ES256', delegation: { tokenTtlSeconds: 120 } });
    expect(acme?.clients[0]).toMatchObject({ clientId: 'fleet-backend', secretFromEnv: 'ACME_FLEET_BACKEND_SECRET', roles: ['viewer'] });
    expect(acme?.policy?.data).toEqual({ bindings: { client: { 'fleet-backend': { roles: ['operator'] } } } });
    expect(file.tenants[0]?.clients.map((client) => client.clientId)).toEqual(['demo-service', 'demo-app']);

    // Every service mounts it at TENANTS_FILE, and rolls when it changes.
    for (const name of SERVICES) {
      const pod = deployments.get(name)?.spec.template;
      expect(pod.spec.volumes).toContainEqual({ name: 'tenants', configMap: { name: 'latchkey-tenants' } });
      expect(envOf(pod.spec.containers[0]).get('TENANTS_FILE')?.value).toBe('/etc/latchkey/tenants.yaml');
      expect(pod.metadata.annotations['checksum/tenants']).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('case=should run every pod non-root, read-only, without privileges, capabilities or a service-account token', () => {
    const pods = podSpecs(objects);
    expect(pods.map((pod) => pod.owner).sort()).toEqual([...SERVICES.map((name) => `Deployment/latchkey-${name}`), 'Job/latchkey-db-migrate'].sort());
    for (const { owner, spec } of pods) {
      expect([owner, spec.automountServiceAccountToken]).toEqual([owner, false]);
      expect([owner, spec.securityContext]).toEqual([owner, expect.objectContaining({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } })]);
      for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect([owner, container.securityContext]).toEqual([
          owner,
          { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
        ]);
        // The only writable path: an emptyDir at /tmp.
        const tmp = container.volumeMounts.find((mount: K8sObject) => mount.mountPath === '/tmp');
        expect(spec.volumes.find((volume: K8sObject) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
        expect([owner, container.resources.requests?.cpu, container.resources.requests?.memory, container.resources.limits?.memory].every(Boolean)).toBe(true);
      }
    }
    // Each service has a ServiceAccount of its own that does not mount a token either.
    const accounts = named(objects, 'ServiceAccount');
    for (const name of SERVICES) {
      expect(deployments.get(name)?.spec.template.spec.serviceAccountName).toBe(`latchkey-${name}`);
      expect(accounts.get(`latchkey-${name}`)?.automountServiceAccountToken).toBe(false);
    }
  });

  it('case=should give each service one NetworkPolicy: only the gateway reachable, from the ingress controller; egress to DNS, NATS and PostgreSQL only', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const dns = { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }] };
    const nats = { ports: [{ port: 4222, protocol: 'TCP' }], to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'nats' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nats' } } }] };
    const postgres = { ports: [{ port: 5432, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '10.20.0.0/24' } }] };

    for (const name of SERVICES) {
      const podLabels = deployments.get(name)?.spec.template.metadata.labels;
      const selecting = policies.filter((policy) => matches(policy.spec.podSelector.matchLabels, podLabels));
      expect([name, selecting.map((policy) => policy.metadata.name)]).toEqual([name, [`latchkey-${name}`]]);
      const { spec } = selecting[0] as K8sObject;
      expect(spec.policyTypes).toEqual(['Ingress', 'Egress']);
      if (name === 'gateway') {
        expect(spec.ingress).toEqual([
          {
            from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } } }],
            ports: [{ port: 'http', protocol: 'TCP' }],
          },
        ]);
        expect(spec.egress).toEqual([dns, nats]);
      } else {
        expect([name, spec.ingress]).toEqual([name, []]);
        expect(spec.egress).toEqual([dns, nats, postgres]);
      }
    }
    // The migration Job: PostgreSQL and DNS, nothing in.
    const migrate = policies.find((policy) => policy.metadata.name === 'latchkey-db-migrate');
    expect(migrate?.spec).toMatchObject({ policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [dns, postgres] });
    // Every pod of the release is selected by a policy.
    for (const { owner, labels } of podSpecs(objects)) expect([owner, policies.some((policy) => matches(policy.spec.podSelector.matchLabels, labels))]).toEqual([owner, true]);
    // Every service has a Service, but only the gateway's takes traffic: the backends' expose their health
    // port alone, which the policies above admit no one to (networkPolicy.healthFrom is empty here).
    expect([...named(objects, 'Service').keys()].sort()).toEqual(SERVICES.map((name) => `latchkey-${name}`).sort());
    for (const name of BACKENDS) expect([name, named(objects, 'Service').get(`latchkey-${name}`)?.spec.ports.map((port: K8sObject) => port.targetPort)]).toEqual([name, ['health']]);
  });

  it('case=should give each of the six services a Deployment and a Service selecting exactly its pods, on a named container port', () => {
    expectServicePerDeployment(objects);
    expect(named(objects, 'Service').get('latchkey-gateway')?.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    for (const name of BACKENDS) {
      expect(named(objects, 'Service').get(`latchkey-${name}`)?.spec).toEqual({
        type: 'ClusterIP',
        selector: { 'app.kubernetes.io/name': 'latchkey', 'app.kubernetes.io/instance': 'latchkey', 'app.kubernetes.io/component': name },
        ports: [{ name: 'health', port: 8081, targetPort: 'health', protocol: 'TCP' }],
      });
    }
  });

  it('case=should take the health Services port from healthPort, and drop one with services.<name>.service.enabled=false', () => {
    const moved = render([TWO_TENANTS], ['--set', 'healthPort=9464']);
    expectServicePerDeployment(moved);
    for (const name of BACKENDS) {
      expect([name, named(moved, 'Service').get(`latchkey-${name}`)?.spec.ports[0].port]).toEqual([name, 9464]);
      expect([name, byComponent(moved, 'Deployment').get(name)?.spec.template.spec.containers[0].ports[0].containerPort]).toEqual([name, 9464]);
    }
    const without = render([TWO_TENANTS], ['--set', 'services.token.service.enabled=false']);
    expectServicePerDeployment(without, ['token']);
    // No Service without its Deployment either.
    const noPolicy = render([TWO_TENANTS], ['--set', 'services.policy.enabled=false']);
    expect([...named(noPolicy, 'Service').keys()]).not.toContain('latchkey-policy');
  });

  it('case=should give each service a PodDisruptionBudget and a HorizontalPodAutoscaler that own the replica count', () => {
    const budgets = byComponent(objects, 'PodDisruptionBudget');
    const autoscalers = byComponent(objects, 'HorizontalPodAutoscaler');
    for (const name of SERVICES) {
      const deployment = deployments.get(name) as K8sObject;
      expect(budgets.get(name)?.spec).toEqual({ maxUnavailable: 1, selector: deployment.spec.selector });
      const hpa = autoscalers.get(name)?.spec;
      expect(hpa.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: `latchkey-${name}` });
      expect(hpa.minReplicas).toBeLessThanOrEqual(hpa.maxReplicas);
      expect(hpa.metrics[0].resource).toEqual({ name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } });
      // The HPA owns the replica count: an upgrade must not reset it.
      expect(deployment.spec.replicas).toBeUndefined();
    }
    expect(autoscalers.get('gateway')?.spec.minReplicas).toBe(2);
  });

  it('case=should probe the real health endpoints: /healthz for startup and liveness, /readyz for readiness', () => {
    for (const name of SERVICES) {
      const container = deployments.get(name)?.spec.template.spec.containers[0];
      const port = name === 'gateway' ? { name: 'http', containerPort: 3000, protocol: 'TCP' } : { name: 'health', containerPort: 8081, protocol: 'TCP' };
      expect(container.ports).toEqual([port]);
      expect(envOf(container).get(name === 'gateway' ? 'PORT' : 'HEALTH_PORT')?.value).toBe(String(port.containerPort));
      expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: port.name });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: port.name });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: port.name });
      expect(container.command).toEqual(['node', `apps/${name}/dist/main.js`]);
    }
  });

  it('case=should take every secret from an existing Secret by name and put none in the rendering', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const expected: Record<string, { name: string; key: string }> = {
      DATABASE_URL: { name: 'latchkey-database', key: 'url' },
      LATCHKEY_KEK: { name: 'latchkey-kek', key: 'kek' },
      LATCHKEY_GATEWAY_KEY: { name: 'latchkey-gateway', key: 'key' },
    };
    for (const { owner, spec } of podSpecs(objects)) {
      for (const [name, entry] of envOf(spec.containers[0])) {
        if (!SECRET_ENV.includes(name)) continue;
        expect([owner, name, entry.value, entry.valueFrom?.secretKeyRef]).toEqual([owner, name, undefined, expected[name]]);
      }
    }
    for (const name of BACKENDS) expect(envOf(deployments.get(name)?.spec.template.spec.containers[0]).has('DATABASE_URL')).toBe(true);
    expect(envOf(deployments.get('gateway')?.spec.template.spec.containers[0]).has('DATABASE_URL')).toBe(false);
    for (const name of ['token', 'identity']) expect(envOf(deployments.get(name)?.spec.template.spec.containers[0]).has('LATCHKEY_KEK')).toBe(true);
    // No connection string or key material anywhere in the text.
    const text = helmTemplate([TWO_TENANTS]);
    expect(text).not.toMatch(/postgres(ql)?:\/\//);
    expect(text).not.toMatch(/BEGIN .*(PRIVATE KEY|NKEY SEED)/);
  });

  it('case=should migrate once per release in a re-runnable hook Job, and make the services wait for their schema', () => {
    const job = named(objects, 'Job').get('latchkey-db-migrate') as K8sObject;
    expect(job.metadata.annotations).toEqual({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '0',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    expect(job.spec).toMatchObject({ backoffLimit: 4, activeDeadlineSeconds: 600 });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.containers[0].command).toEqual(['node', 'scripts/db-migrate.mjs']);
    for (const name of BACKENDS) {
      const container = deployments.get(name)?.spec.template.spec.containers[0];
      const wait = Number(envOf(container).get('SCHEMA_WAIT_TIMEOUT_SECONDS')?.value);
      expect(wait).toBeGreaterThan(0);
      // The service gives up (with a message) before the startup probe would kill it.
      const startup = container.startupProbe;
      expect(wait).toBeLessThan(startup.periodSeconds * startup.failureThreshold);
    }
  });

  it('case=should trust no proxy unless told, and not render an Ingress by default', () => {
    expect(envOf(deployments.get('gateway')?.spec.template.spec.containers[0]).get('TRUSTED_PROXIES')?.value).toBe('');
    expect(objects.filter((o) => o.kind === 'Ingress')).toEqual([]);
  });
});

describe('Helm chart, every option on', () => {
  const objects = render([ALL_FEATURES]);
  const deployments = byComponent(objects, 'Deployment');

  it('case=should expose the gateway through an Ingress with TLS and trust its controller for X-Forwarded-*', () => {
    const ingress = named(objects, 'Ingress').get('latchkey-gateway');
    expect(ingress?.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['auth.example.com'], secretName: 'latchkey-gateway-tls' }],
      rules: [{ host: 'auth.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'latchkey-gateway', port: { name: 'http' } } } }] } }],
    });
    expect(envOf(deployments.get('gateway')?.spec.template.spec.containers[0]).get('TRUSTED_PROXIES')?.value).toBe('10.42.0.0/16');
  });

  it('case=should mount the NATS credentials from their Secret and point every service at the dev NATS', () => {
    for (const name of SERVICES) {
      const spec = deployments.get(name)?.spec.template.spec;
      const env = envOf(spec.containers[0]);
      expect(env.get('NATS_CREDS_FILE')?.value).toBe('/var/run/secrets/nats/nats.creds');
      expect(env.get('NATS_URL')?.value).toBe('nats://latchkey-nats:4222');
      expect(spec.volumes).toContainEqual({ name: 'nats-credentials', secret: { secretName: 'latchkey-nats', defaultMode: 0o440, items: [{ key: 'nats.creds', path: 'nats.creds' }] } });
    }
    const nats = named(objects, 'StatefulSet').get('latchkey-nats') as K8sObject;
    expect(nats.spec.template.spec.containers[0].args).toEqual(['-js', '-sd', '/data', '-m', '8222']);
    expect(nats.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('2Gi');
    // The dev NATS follows the same pod rules, and only this release's pods may connect to it.
    const pod = nats.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const policy = named(objects, 'NetworkPolicy').get('latchkey-nats');
    expect(policy?.spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'latchkey', 'app.kubernetes.io/instance': 'latchkey' } } }], ports: [{ port: 'client', protocol: 'TCP' }] }]);
    expect(named(objects, 'NetworkPolicy').get('latchkey-token')?.spec.egress[1].to).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/component': 'nats', 'app.kubernetes.io/instance': 'latchkey', 'app.kubernetes.io/name': 'latchkey' } } },
    ]);
  });

  it('case=should use per-service and migration database Secrets, and fixed replicas without autoscaling', () => {
    const dbSecret = (container: K8sObject) => envOf(container).get('DATABASE_URL')?.valueFrom.secretKeyRef.name;
    expect(dbSecret(deployments.get('token')?.spec.template.spec.containers[0])).toBe('latchkey-database-token');
    expect(dbSecret(deployments.get('identity')?.spec.template.spec.containers[0])).toBe('latchkey-database');
    expect(dbSecret(named(objects, 'Job').get('latchkey-db-migrate')?.spec.template.spec.containers[0])).toBe('latchkey-database-owner');
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    expect(deployments.get('gateway')?.spec.replicas).toBe(2);
    // The health Services (on by default, with annotations), and the monitoring namespace allowed on the health port.
    expectServicePerDeployment(objects);
    expect(named(objects, 'Service').get('latchkey-policy')?.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8081' });
    expect(named(objects, 'Service').get('latchkey-policy')?.spec.ports).toEqual([{ name: 'health', port: 8081, targetPort: 'health', protocol: 'TCP' }]);
    expect(named(objects, 'NetworkPolicy').get('latchkey-policy')?.spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 'health', protocol: 'TCP' }] },
    ]);
  });
});

describe('values.schema.json: the services zod schema at helm install time', () => {
  // Each tenant is given to the services' parser AND to helm: both must agree.
  const cases: [string, unknown, boolean][] = [
    ['a valid tenant with an OAuth web client', { id: 'web', clients: [{ clientId: 'web', tokenEndpointAuthMethods: ['none'], grantTypes: ['authorization_code'], redirectUris: ['https://app.example.com/cb'] }] }, true],
    ['a tenant id with uppercase', { id: 'Acme' }, false],
    ['a redirect URI with a fragment', { id: 'acme', clients: [{ clientId: 'web', tokenEndpointAuthMethods: ['none'], grantTypes: ['authorization_code'], redirectUris: ['https://app.example.com/cb#x'] }] }, false],
    ['an authorization_code client without redirect URIs', { id: 'acme', clients: [{ clientId: 'web', tokenEndpointAuthMethods: ['none'], grantTypes: ['authorization_code'] }] }, false],
    ['a secret client without a secret', { id: 'acme', clients: [{ clientId: 'svc', grantTypes: ['client_credentials'] }] }, false],
    ['a client with two secrets', { id: 'acme', clients: [{ clientId: 'svc', secretFromEnv: 'S', secretHash: 'a'.repeat(64), grantTypes: ['client_credentials'] }] }, false],
    ['a private JWK', { id: 'acme', clients: [{ clientId: 'dev', tokenEndpointAuthMethods: ['private_key_jwt'], grantTypes: ['client_credentials'], jwks: { keys: [{ kty: 'EC', d: 'x' }] } }] }, false],
    ['an unsupported signing algorithm', { id: 'acme', signingAlg: 'HS256' }, false],
    ['a token lifetime out of range', { id: 'acme', accessTokenTtlSeconds: 5 }, false],
    ['an unknown tenant field', { id: 'acme', issuer: 'https://elsewhere.example.com' }, false],
    ['a reserved policy data key', { id: 'acme', policy: { data: { latchkey: {} } } }, false],
  ];

  it.each(cases)('case=should agree with the services on %s', (_what, tenant, valid) => {
    let servicesAccept = true;
    try {
      parseTenants(stringify({ tenants: [tenant] }));
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      servicesAccept = false;
    }
    const helmError = renderError({ tenants: [tenant] });
    expect({ servicesAccept, helmAccepts: helmError === undefined }).toEqual({ servicesAccept: valid, helmAccepts: valid });
    if (!valid) expect(helmError).toMatch(/values don't meet the specifications of the schema|at '\/tenants\/0/);
  });

  it('case=should refuse duplicate tenant ids and settings the gateway cannot run safely with', () => {
    expect(renderError({ tenants: [{ id: 'a' }, { id: 'a' }] })).toMatch(/duplicate tenant id a/);
    expect(renderError({ ingress: { enabled: true } })).toMatch(/ingress.trustedProxies is required/);
    expect(renderError({ gatewayKey: { existingSecret: '' } })).toMatch(/gatewayKey.existingSecret is required/);
    expect(renderError({ nats: { auth: { credentialsSecret: 'a', tokenSecret: 'b' } } })).toMatch(/not both/);
    expect(renderError({ services: { gatway: { enabled: true } } })).toMatch(/additional properties 'gatway' not allowed/);
  });
});

describe('offline validation against the Kubernetes OpenAPI schemas', () => {
  it('case=should validate every rendered object (kubernetes-validate --strict, Kubernetes 1.29 and 1.37)', () => {
    const validate = tools.ensureKubernetesValidate().path;
    const files = [TWO_TENANTS, ALL_FEATURES].map((values, index) => {
      const file = join(scratch, `rendered-${index}.yaml`);
      writeFileSync(file, helmTemplate([values]));
      return file;
    });
    const output = execFileSync(validate, ['--strict', '--quiet', '-k', '1.29.0', '-k', '1.37.0', ...files], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(output).not.toMatch(/ERROR/);
  }, 180_000);
});

describe('k8s/base (plain manifests)', () => {
  const BASE = join(ROOT, 'k8s', 'base');
  const kustomization = parseYaml(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8')) as K8sObject;
  // What `kubectl apply -k k8s/base` applies (kustomize adds no labels here: no commonLabels/labels).
  const objects = (kustomization.resources as string[]).flatMap((file) =>
    parseAllDocuments(readFileSync(join(BASE, file), 'utf8'))
      .map((document) => document.toJS() as K8sObject | null)
      .filter((object): object is K8sObject => object !== null),
  );

  it('case=should ship a tenants file the services accept', () => {
    const file = parseTenants(readFileSync(join(BASE, 'tenants.yaml'), 'utf8'), 'k8s/base/tenants.yaml');
    expect(file.tenants.map((tenant) => tenant.id)).toEqual(['demo']);
  });

  it('case=should give each of the six services a Deployment and a Service selecting exactly its pods, on a named container port', () => {
    expect(kustomization.labels ?? kustomization.commonLabels).toBeUndefined();
    expectServicePerDeployment(objects);
    for (const name of BACKENDS) {
      const deployment = byComponent(objects, 'Deployment').get(name) as K8sObject;
      expect([name, deployment.spec.template.spec.containers[0].ports]).toEqual([name, [{ name: 'health', containerPort: 8081, protocol: 'TCP' }]]);
      expect([name, byComponent(objects, 'Service').get(name)?.spec.ports]).toEqual([name, [{ name: 'health', port: 8081, targetPort: 'health', protocol: 'TCP' }]]);
      // The Service opens nothing: the backend's NetworkPolicy still admits no one.
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy' && matches(o.spec.podSelector.matchLabels, deployment.spec.template.metadata.labels));
      expect([name, policies.map((policy) => policy.spec.ingress)]).toEqual([name, [[]]]);
    }
  });
});

describe('docker-compose.yml in step with the chart', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as K8sObject;
  const objects = render([TWO_TENANTS]);

  it('case=should run the same six services from the same image with the same commands, read-only and with health checks', () => {
    for (const name of SERVICES) {
      const service = compose.services[name];
      expect([name, service.command]).toEqual([name, ['node', `apps/${name}/dist/main.js`]]);
      expect([name, service.read_only, service.cap_drop, service.security_opt]).toEqual([name, true, ['ALL'], ['no-new-privileges:true']]);
      expect([name, service.tmpfs]).toEqual([name, ['/tmp']]);
      expect(JSON.stringify(service.healthcheck.test)).toContain(name === 'gateway' ? '3000/readyz' : '8081/readyz');
    }
    expect(compose.services.migrate.command).toEqual(['node', 'scripts/db-migrate.mjs']);
    expect(compose.services.nats.command).toContain('-js');
  });

  it('case=should set the variables the chart sets (same names), secrets aside', () => {
    const deployments = byComponent(objects, 'Deployment');
    // Chart-only tuning and Kubernetes-only settings.
    const chartOnly = new Set(['NATS_REQUEST_TIMEOUT_MS', 'DATABASE_POOL_SIZE', 'NATS_CREDS_FILE', 'NATS_TOKEN']);
    for (const name of SERVICES) {
      const chartEnv = [...envOf(deployments.get(name)?.spec.template.spec.containers[0]).keys()].filter((key) => !chartOnly.has(key) && !key.startsWith('ACME_'));
      const composeEnv = Object.keys(compose.services[name].environment ?? {});
      expect([name, chartEnv.filter((key) => !composeEnv.includes(key)).sort()]).toEqual([name, []]);
      expect([name, composeEnv.filter((key) => !chartEnv.includes(key)).sort()]).toEqual([name, []]);
    }
  });
});
