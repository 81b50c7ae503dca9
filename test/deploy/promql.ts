/** Just enough PromQL reading to list the metric names an expression uses. */
import { createMetrics } from '../../packages/server/src/observability/metrics.js';

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** Metric names an expression selects (functions, keywords, labels and Grafana variables excluded). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ') // Grafana variables
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const m of stripped.matchAll(/\d[\w.]*|[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0];
    const next = stripped.slice(m.index! + name.length).trimStart();
    if (next.startsWith('(')) continue; // a function or an aggregation
    if (KEYWORDS.has(name.toLowerCase())) continue;
    if (/^\d/.test(name)) continue; // a number or a duration
    names.add(name);
  }
  return [...names];
}

/** Every series name the server exports (histograms as _bucket, _sum and _count). */
export async function exportedMetricNames(): Promise<{ all: Set<string>; own: string[] }> {
  const metrics = createMetrics();
  const all = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    all.add(m.name);
    // prom-client types this as an enum, but the value is the type's name.
    if ((m.type as unknown as string) === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) all.add(m.name + s);
  }
  // The metrics metrics.ts declares itself (not prom-client's default process metrics).
  const own = Object.values(metrics)
    .map((v) => (v as { name?: unknown }).name)
    .filter((n): n is string => typeof n === 'string');
  return { all, own };
}
