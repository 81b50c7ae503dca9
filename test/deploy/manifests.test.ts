/**
 * The Kubernetes manifests (deploy/kubernetes): every file parses; every built overlay validates
 * against the Kubernetes JSON schemas (kubernetes-models, generated from the API's OpenAPI
 * document) and, strictly, against its TypeScript types (an unknown or misspelt field is an
 * error); and the fields operators rely on are what docs/operations.md says. Where kubectl is
 * installed the overlays are also built by `kubectl kustomize` and must equal our build.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../packages/server/src/config/schema.js';
import { build, readYaml, strategicMerge, type Manifest } from './kustomize.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const K8S = join(ROOT, 'deploy/kubernetes');
const BUILDS = ['base', 'overlays/production', 'overlays/production-userns'] as const;
const SECRET = 'code-interpreter-secrets';
const CAPABILITIES = ['SYS_ADMIN', 'SETUID', 'SETGID', 'SETPCAP', 'CHOWN', 'FOWNER', 'KILL'];
const SANDBOX_UIDS_IN_USERNS = 65_536;

type ModelClass = new (data: any) => { validate(): void };
/** apiVersion/kind → [module of its model and types, class and interface name]. */
const KINDS: Record<string, [string, string]> = {
  'v1/Namespace': ['kubernetes-models/v1/Namespace', 'Namespace'],
  'v1/ServiceAccount': ['kubernetes-models/v1/ServiceAccount', 'ServiceAccount'],
  'v1/Service': ['kubernetes-models/v1/Service', 'Service'],
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'Deployment'],
  'networking.k8s.io/v1/NetworkPolicy': [
    'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    'NetworkPolicy',
  ],
  'networking.k8s.io/v1/Ingress': ['kubernetes-models/networking.k8s.io/v1/Ingress', 'Ingress'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1/PodDisruptionBudget', 'PodDisruptionBudget'],
  'autoscaling/v2/HorizontalPodAutoscaler': [
    'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    'HorizontalPodAutoscaler',
  ],
  'node.k8s.io/v1/RuntimeClass': ['kubernetes-models/node.k8s.io/v1/RuntimeClass', 'RuntimeClass'],
  'monitoring.coreos.com/v1/ServiceMonitor': [
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
    'ServiceMonitor',
  ],
};
const KUSTOMIZE_KINDS = new Set(['Kustomization', 'Component']);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** Files that `patches:` entries name: partial objects, not resources of their own. */
function patchFiles(): Set<string> {
  const out = new Set<string>();
  for (const file of yamlFiles(K8S)) {
    const [doc] = readYaml(file);
    if (!KUSTOMIZE_KINDS.has(doc?.kind)) continue;
    for (const p of doc.patches ?? []) out.add(join(file, '..', p.path));
  }
  return out;
}

async function model(m: Manifest): Promise<ModelClass> {
  const entry = KINDS[`${m.apiVersion}/${m.kind}`];
  if (!entry) throw new Error(`${m.apiVersion}/${m.kind}: no schema known to this test; add it to KINDS`);
  const mod = (await import(entry[0])) as Record<string, ModelClass>;
  return mod[entry[1]]!;
}

/** One type-check of every build (plus a misspelt Deployment, to prove the check bites). */
let strictErrors: string[] | undefined;
function strictErrorsOf(tag: string): string[] {
  if (!strictErrors) {
    const typo = structuredClone(one(built.base, 'Deployment'));
    const c = typo.spec.template.spec.containers[0];
    c.readinesProbe = c.readinessProbe;
    strictErrors = strictTypeErrors([
      ...BUILDS.flatMap((b) => built[b].map((manifest) => ({ tag: b, manifest }))),
      { tag: 'typo', manifest: typo },
    ]);
  }
  return strictErrors.filter((e) => e.startsWith(`${tag}: `));
}

const built = Object.fromEntries(BUILDS.map((b) => [b, build(join(K8S, b))])) as Record<
  (typeof BUILDS)[number],
  Manifest[]
>;

function one(resources: Manifest[], kind: string): Manifest {
  const found = resources.filter((r) => r.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!;
}

function includes(labels: Record<string, string> | undefined, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function quantity(q: string | number): number {
  const m = /^([\d.]+)(m|Ki|Mi|Gi|Ti)?$/.exec(String(q));
  if (!m) throw new Error(`unparsed quantity ${q}`);
  const scale: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m[1]) * (m[2] ? scale[m[2]]! : 1);
}

function durationS(v: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(v);
  if (!m) throw new Error(`unparsed duration ${v}`);
  return Number(m[1]) * ({ ms: 1e-3, s: 1, m: 60 }[m[2] ?? 'ms'] ?? 1e-3);
}

/**
 * Type-checks the objects as object literals of their kinds' TypeScript interfaces: excess
 * property checks catch unknown fields at any depth, which the JSON schemas (open objects) allow.
 */
function strictTypeErrors(objects: { tag: string; manifest: Manifest }[]): string[] {
  const file = join(ROOT, 'test/deploy/__manifests__.generated.ts');
  const imports = Object.values(KINDS).map(([mod, name]) => `import type { I${name} } from '${mod}';`);
  const lines = objects.map(({ manifest: o }, i) => {
    const [, name] = KINDS[`${o.apiVersion}/${o.kind}`]!;
    return `export const m${i}: I${name} = ${JSON.stringify(o)};`;
  });
  const source = [...imports, ...lines].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, source, lang) : getSourceFile.call(host, name, lang, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const o = objects[line - imports.length];
    const what = o ? `${o.tag}: ${o.manifest.kind}/${o.manifest.metadata.name}` : (d.file?.fileName ?? '');
    return `${what}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('manifest files', () => {
  const patches = patchFiles();
  const files = yamlFiles(K8S);

  it('exist for the base, the production overlays and the user-namespace component', () => {
    const rel = files.map((f) => relative(K8S, f));
    for (const f of [
      'base/kustomization.yaml',
      'base/deployment.yaml',
      'base/service.yaml',
      'base/networkpolicy.yaml',
      'base/poddisruptionbudget.yaml',
      'base/horizontalpodautoscaler.yaml',
      'overlays/production/kustomization.yaml',
      'overlays/production/servicemonitor.yaml',
      'overlays/production-userns/kustomization.yaml',
      'components/user-namespaces/kustomization.yaml',
    ])
      expect(rel).toContain(f);
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))(
    '%s parses and names its apiVersion, kind and name',
    (_, file) => {
      const docs = readYaml(file); // throws on a syntax error, naming the file
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        expect(typeof doc.apiVersion, `${file}: apiVersion`).toBe('string');
        expect(typeof doc.kind, `${file}: kind`).toBe('string');
        if (KUSTOMIZE_KINDS.has(doc.kind)) {
          expect(doc.apiVersion).toMatch(/^kustomize\.config\.k8s\.io\//);
          continue;
        }
        expect(typeof doc.metadata?.name, `${file}: metadata.name`).toBe('string');
        expect(
          KINDS[`${doc.apiVersion}/${doc.kind}`],
          `${file}: ${doc.apiVersion} ${doc.kind} is a known kind`,
        ).toBeDefined();
        if (!patches.has(file)) expect(doc.metadata.labels?.['app.kubernetes.io/name']).toBeDefined();
      }
    },
  );
});

describe.each(BUILDS)('built %s', (name) => {
  const resources = built[name];
  const deployment = () => one(resources, 'Deployment');
  const pod = () => deployment().spec.template.spec;
  const container = () => {
    const containers = pod().containers as any[];
    expect(containers).toHaveLength(1);
    return containers[0];
  };
  const env = () => Object.fromEntries((container().env as any[]).map((e) => [e.name, e]));
  const envValue = (key: string) => env()[key]?.value ?? CONFIG_KEYS.find((k) => k.env === key)?.default;

  it('validates against the Kubernetes schemas', async () => {
    for (const r of resources) {
      const Model = await model(r);
      expect(() => new Model(r).validate(), `${r.kind}/${r.metadata.name}`).not.toThrow();
    }
  });

  it('has no field its kind does not define (strict types)', () => {
    expect(strictErrorsOf(name)).toEqual([]);
    expect(strictErrorsOf('typo').join('\n')).toMatch(/readinesProbe"?' does not exist in type 'IContainer'/);
  }, 60_000);

  it('has the server, its Service, NetworkPolicy, PodDisruptionBudget and HorizontalPodAutoscaler', () => {
    for (const kind of [
      'ServiceAccount',
      'Deployment',
      'Service',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'HorizontalPodAutoscaler',
    ])
      one(resources, kind);
  });

  it('selects the Deployment pods consistently everywhere', () => {
    const labels = deployment().spec.template.metadata.labels;
    const selector = deployment().spec.selector.matchLabels;
    expect(includes(labels, selector)).toBe(true);
    expect(includes(labels, one(resources, 'Service').spec.selector)).toBe(true);
    expect(includes(labels, one(resources, 'PodDisruptionBudget').spec.selector.matchLabels)).toBe(true);
    expect(includes(labels, one(resources, 'NetworkPolicy').spec.podSelector.matchLabels)).toBe(true);
    expect(
      pod().topologySpreadConstraints.every((t: any) => includes(labels, t.labelSelector.matchLabels)),
    ).toBe(true);
    const hpa = one(resources, 'HorizontalPodAutoscaler').spec.scaleTargetRef;
    expect(hpa).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment().metadata.name });
    expect(pod().serviceAccountName).toBe(one(resources, 'ServiceAccount').metadata.name);
  });

  it('exposes the API and metrics ports the config uses, by name', () => {
    const ports = Object.fromEntries((container().ports as any[]).map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ http: Number(envValue('PORT')), metrics: Number(envValue('METRICS_PORT')) });
    const service = one(resources, 'Service');
    for (const p of service.spec.ports) expect(ports[p.targetPort], `Service port ${p.name}`).toBe(p.port);
    expect(service.spec.ports.map((p: any) => p.name).sort()).toEqual(['http', 'metrics']);
  });

  it('probes liveness on /health, readiness on /ready and start-up on /health', () => {
    const c = container();
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(60);
  });

  it('sets CPU and memory requests and limits, with room for every sandbox in the memory limit', () => {
    const { requests, limits } = container().resources;
    for (const r of ['cpu', 'memory']) {
      expect(requests[r], `requests.${r}`).toBeDefined();
      expect(limits[r], `limits.${r}`).toBeDefined();
      expect(quantity(limits[r])).toBeGreaterThanOrEqual(quantity(requests[r]));
    }
    const sandboxes = Number(envValue('ENGINE_MAX_SANDBOXES')) * Number(envValue('ENGINE_DEFAULT_MEMORY'));
    expect(quantity(limits.memory)).toBeGreaterThanOrEqual((sandboxes + 1024) * 2 ** 20);
  });

  it('takes DATABASE_URL, REDIS_URL, API_KEY_SECRET and JWT_SECRET from the Secret', () => {
    const e = env();
    for (const [name, key] of [
      ['DATABASE_URL', 'database-url'],
      ['REDIS_URL', 'redis-url'],
      ['API_KEY_SECRET', 'api-key-secret'],
      ['JWT_SECRET', 'jwt-secret'],
    ])
      expect(e[name!]?.valueFrom?.secretKeyRef, name).toEqual({ name: SECRET, key });
  });

  it('sets only environment variables the server reads', () => {
    const known = new Set([...CONFIG_KEYS.map((k) => k.env), 'NODE_ENV', 'CODEINT_PREPARE']);
    for (const name of Object.keys(env())) expect(known, name).toContain(name);
    expect(envValue('NODE_ENV')).toBe('production');
  });

  it('gives the engine root with exactly the documented capabilities, and nothing privileged', () => {
    const sc = container().securityContext;
    expect(sc.privileged).toBe(false);
    expect(sc.runAsUser).toBe(0);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.capabilities.drop).toEqual(['ALL']);
    expect([...sc.capabilities.add].sort()).toEqual([...CAPABILITIES].sort());
    expect(pod().securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod().securityContext.appArmorProfile).toEqual({ type: 'Unconfined' });
    expect(pod().automountServiceAccountToken).toBe(false);
    expect(pod().hostNetwork ?? false).toBe(false);
    expect(pod().hostPID ?? false).toBe(false);
  });

  it('mounts writable volumes where the engine and server write', () => {
    const mounts = Object.fromEntries((container().volumeMounts as any[]).map((m) => [m.mountPath, m.name]));
    const volumes = Object.fromEntries((pod().volumes as any[]).map((v) => [v.name, v]));
    for (const path of [envValue('ENGINE_RUN_DIR'), envValue('DATA_DIR'), '/tmp']) {
      expect(mounts[path], path).toBeDefined();
      expect(volumes[mounts[path]].emptyDir, path).toBeDefined();
    }
  });

  it('drains within the termination grace period', () => {
    const preStop = Number(container().lifecycle.preStop.exec.command[1]);
    const grace = durationS(String(envValue('SHUTDOWN_GRACE_PERIOD')));
    expect(pod().terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + grace + 5);
  });

  it('lets in only the ingress controller (API) and monitoring (metrics); lets out only PostgreSQL, Redis and DNS', () => {
    const np = one(resources, 'NetworkPolicy').spec;
    expect([...np.policyTypes].sort()).toEqual(['Egress', 'Ingress']);
    const ingress = np.ingress.map((r: any) => ({
      ports: r.ports.map((p: any) => p.port),
      from: r.from.map((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']),
    }));
    expect(ingress).toEqual([
      { ports: [3000], from: ['ingress-nginx'] },
      { ports: [9090], from: ['monitoring'] },
    ]);
    expect(np.ingress[0].from[0].podSelector).toBeDefined();
    const egress = np.egress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort();
    expect(egress).toEqual(['TCP/53', 'TCP/5432', 'TCP/6379', 'UDP/53']);
    expect(np.egress.every((r: any) => r.to?.length > 0)).toBe(true);
  });

  it('keeps one pod of several up during disruptions, and scales down slowly', () => {
    expect(one(resources, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    const hpa = one(resources, 'HorizontalPodAutoscaler').spec;
    expect(hpa.minReplicas).toBe(deployment().spec.replicas);
    expect(hpa.maxReplicas).toBeGreaterThan(hpa.minReplicas);
    expect(hpa.metrics[0].resource.name).toBe('cpu');
    expect(hpa.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(600);
    expect(hpa.behavior.scaleDown.policies).toEqual([{ type: 'Pods', value: 1, periodSeconds: 600 }]);
  });
});

describe('production', () => {
  const prod = built['overlays/production'];
  const deployment = one(prod, 'Deployment');

  it('runs 3 replicas of the registry image in its own namespace', () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0].image).toBe(
      'registry.example.com/code-interpreter:0.1.0',
    );
    for (const r of prod) {
      if (r.kind === 'Namespace') continue;
      expect(r.metadata.namespace, `${r.kind}/${r.metadata.name}`).toBe('code-interpreter');
    }
    const ns = one(prod, 'Namespace');
    expect(ns.metadata.name).toBe('code-interpreter');
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  it('scrapes the metrics port with a ServiceMonitor', () => {
    const sm = one(prod, 'ServiceMonitor');
    const service = one(prod, 'Service');
    expect(includes(service.metadata.labels, sm.spec.selector.matchLabels)).toBe(true);
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
  });

  it('routes each credential to one pod at the ingress, streams SSE unbuffered', () => {
    const ingress = one(prod, 'Ingress');
    const a = ingress.metadata.annotations as Record<string, string>;
    expect(a['nginx.ingress.kubernetes.io/upstream-hash-by']).toContain('$http_x_api_key');
    expect(a['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    expect(backend).toEqual({ name: one(prod, 'Service').metadata.name, port: { name: 'http' } });
  });
});

describe('production with user namespaces', () => {
  const userns = built['overlays/production-userns'];
  const pod = one(userns, 'Deployment').spec.template.spec;

  it('runs the pod in its own user namespace with an unmasked /proc and a cgroup-writable runtime', () => {
    expect(pod.hostUsers).toBe(false);
    expect(pod.containers[0].securityContext.procMount).toBe('Unmasked');
    expect(pod.runtimeClassName).toBe(one(userns, 'RuntimeClass').metadata.name);
  });

  it('keeps every sandbox uid inside the 65536 uids the pod maps', () => {
    const env = Object.fromEntries((pod.containers[0].env as any[]).map((e) => [e.name, e.value]));
    const base = Number(env.ENGINE_UID_BASE);
    expect(base + Number(env.ENGINE_MAX_SANDBOXES)).toBeLessThan(SANDBOX_UIDS_IN_USERNS - 1);
    // the image's own accounts: root, system users, node (1000), codeint (990), nobody (65534)
    expect(base).toBeGreaterThan(1000);
  });

  it('differs from production only in those settings', () => {
    const strip = (m: Manifest) => JSON.stringify(m);
    const prod = built['overlays/production'].filter((r) => r.kind !== 'Deployment').map(strip);
    const others = userns.filter((r) => r.kind !== 'Deployment' && r.kind !== 'RuntimeClass').map(strip);
    expect(others.sort()).toEqual(prod.sort());
  });
});

describe('the kustomize builder of this test', () => {
  it('merges maps, lists by merge key (patch items first), and replaces other lists', () => {
    const base = {
      a: { b: 1, c: [1, 2] },
      env: [
        { name: 'X', value: '1' },
        { name: 'Y', value: '2' },
      ],
    };
    const patch = {
      a: { c: [3] },
      env: [
        { name: 'Y', value: '3' },
        { name: 'Z', value: '4' },
      ],
    };
    expect(strategicMerge(base, patch, '')).toEqual({
      a: { b: 1, c: [3] },
      env: [
        { name: 'Y', value: '3' },
        { name: 'Z', value: '4' },
        { name: 'X', value: '1' },
      ],
    });
    expect(strategicMerge({ a: 1, b: 2 }, { b: null }, '')).toEqual({ a: 1 });
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  it.skipIf(kubectl.status !== 0).each(BUILDS)('builds %s exactly as kubectl kustomize does', (name) => {
    const out = spawnSync('kubectl', ['kustomize', join(K8S, name)], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    const theirs = parseAllDocuments(out.stdout).map((d) => d.toJS() as Manifest);
    const key = (m: Manifest) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
    const byKey = (list: Manifest[]) => Object.fromEntries(list.map((m) => [key(m), m]));
    expect(byKey(built[name])).toEqual(byKey(theirs));
  });
});
