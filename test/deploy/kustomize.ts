/**
 * A small kustomize, enough for deploy/kubernetes: `resources` (files and folders), `components`,
 * `patches` (strategic merge, by path), `namespace` and `images`. Any other field is an error, so
 * a kustomization that starts using more fails here loudly instead of being half-built. Where
 * kubectl is installed the test also compares this build with `kubectl kustomize`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: any;
};

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'patches',
  'namespace',
  'images',
]);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'RuntimeClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'PriorityClass',
  'StorageClass',
  'CustomResourceDefinition',
]);
/** List fields merged by a key in a strategic merge patch (the Kubernetes API's patchMergeKey). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'name',
  ports: 'containerPort',
  tolerations: 'key',
};

/** Every YAML document of a file (empty documents dropped). */
export function readYaml(file: string): any[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS();
    })
    .filter((d) => d != null);
}

export function kustomizationFile(dir: string): string {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${dir}: no kustomization.yaml`);
}

function isMap(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strategic merge: maps merge, lists with a merge key merge by it, other lists and scalars replace. */
export function strategicMerge(base: any, patch: any, field = ''): any {
  if (patch === null) return undefined;
  if (isMap(base) && isMap(patch)) {
    const out: Record<string, any> = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      const merged = strategicMerge(base[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  const key = MERGE_KEYS[field];
  if (Array.isArray(base) && Array.isArray(patch) && key) {
    // kustomize's order: the patch's items (merged into their originals), then the other originals.
    const patched = patch.map((p) => {
      const original = base.find((b) => isMap(b) && b[key] === p[key]);
      return original ? strategicMerge(original, p) : p;
    });
    const rest = base.filter((b) => !patch.some((p) => isMap(b) && b[key] === p[key]));
    return [...patched, ...rest];
  }
  return structuredClone(patch);
}

function id(m: Manifest): string {
  return `${m.kind}/${m.metadata.name}`;
}

function applyPatches(resources: Manifest[], dir: string, patches: unknown, where: string): Manifest[] {
  if (patches === undefined) return resources;
  if (!Array.isArray(patches)) throw new Error(`${where}: patches must be a list`);
  let out = resources;
  for (const entry of patches) {
    if (!isMap(entry) || typeof entry.path !== 'string' || Object.keys(entry).some((k) => k !== 'path'))
      throw new Error(`${where}: only "patches: - path: FILE" (strategic merge) is supported`);
    for (const patch of readYaml(resolve(dir, entry.path)) as Manifest[]) {
      const target = out.find((r) => r.kind === patch.kind && r.metadata.name === patch.metadata?.name);
      if (!target) throw new Error(`${where}: patch ${entry.path} matches no resource (${id(patch)})`);
      out = out.map((r) => (r === target ? (strategicMerge(r, patch) as Manifest) : r));
    }
  }
  return out;
}

function setImages(resources: Manifest[], images: unknown, where: string): Manifest[] {
  if (images === undefined) return resources;
  if (!Array.isArray(images)) throw new Error(`${where}: images must be a list`);
  return resources.map((r) => {
    const pod = r.spec?.template?.spec;
    if (!pod) return r;
    const copy = structuredClone(r);
    for (const c of [
      ...(copy.spec.template.spec.containers ?? []),
      ...(copy.spec.template.spec.initContainers ?? []),
    ]) {
      const [name, tag] = String(c.image).split(':');
      const rule = images.find((i: any) => i.name === name);
      if (!rule) continue;
      c.image = `${rule.newName ?? name}:${rule.newTag ?? tag}`;
    }
    return copy;
  });
}

interface Loaded {
  file: string;
  k: Record<string, unknown>;
  resources: Manifest[];
}

/** Reads a kustomization (or component) and gathers its resources, before its own transformations. */
function load(dir: string, kind: string): Loaded {
  const file = kustomizationFile(dir);
  const k = readYaml(file)[0] as Record<string, unknown>;
  if (k.kind !== kind) throw new Error(`${file}: expected kind ${kind}, got ${String(k.kind)}`);
  for (const field of Object.keys(k)) {
    if (!SUPPORTED.has(field)) throw new Error(`${file}: field "${field}" is not supported by this builder`);
  }
  const resources: Manifest[] = [];
  for (const entry of (k.resources as string[] | undefined) ?? []) {
    const path = resolve(dir, entry);
    resources.push(...(statSync(path).isDirectory() ? build(path) : (readYaml(path) as Manifest[])));
  }
  return { file, k, resources };
}

/** Builds the kustomization in `dir` into its list of resources. */
export function build(dir: string): Manifest[] {
  const { file, k, resources: loaded } = load(dir, 'Kustomization');
  let resources = loaded;
  // A component adds its resources and patches the ones gathered so far.
  for (const entry of (k.components as string[] | undefined) ?? []) {
    const component = load(resolve(dir, entry), 'Component');
    if (component.k.namespace !== undefined || component.k.images !== undefined)
      throw new Error(`${component.file}: only resources and patches are supported in a component`);
    resources = applyPatches(
      [...resources, ...component.resources],
      resolve(dir, entry),
      component.k.patches,
      component.file,
    );
  }
  resources = applyPatches(resources, dir, k.patches, file);
  if (typeof k.namespace === 'string') {
    const namespace = k.namespace;
    resources = resources.map((r) =>
      CLUSTER_SCOPED.has(r.kind) ? r : { ...r, metadata: { ...r.metadata, namespace } },
    );
  }
  resources = setImages(resources, k.images, file);
  const seen = new Set<string>();
  for (const r of resources) {
    const key = `${id(r)}@${r.metadata.namespace ?? ''}`;
    if (seen.has(key)) throw new Error(`${file}: ${key} is defined twice`);
    seen.add(key);
  }
  return resources;
}
