/**
 * deploy/grafana/code-interpreter.json: valid JSON, panels for what operators watch, every query
 * parseable PromQL (promtool, after Grafana's variables are filled in) over metrics the server
 * exports, and every metric of metrics.ts shown somewhere.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { exportedMetricNames, metricNames } from './promql.js';
import { promtool } from './promtool.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FILE = join(ROOT, 'deploy/grafana/code-interpreter.json');

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
}
const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; definition?: string }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const variableQueries = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => ({
    panel: `variable $${v.name}`,
    expr: v.definition!.replace(/^label_values\((.*),\s*\w+\)$/, '$1'),
  }));

describe('Grafana dashboard', () => {
  it('is a dashboard with a uid, a title and a Prometheus data source variable', () => {
    expect(dashboard.uid).toBe('code-interpreter');
    expect(dashboard.title).toBe('Code Interpreter');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
    for (const p of panels) expect(p.datasource?.uid, p.title).toBe('${datasource}');
  });

  it('shows requests, latency percentiles, sandboxes, pool, executions, errors, create duration, OOM kills and capacity', () => {
    const all = queries.map((q) => q.expr).join('\n');
    for (const q of [0.5, 0.95, 0.99])
      expect(all).toContain(
        `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket`,
      );
    for (const needle of [
      'sum by (route, status) (rate(http_requests_total',
      'sandboxes_active',
      'sandbox_pool_ready',
      'sum by (status) (rate(executions_total',
      'errors_total',
      'sandbox_create_duration_seconds_bucket',
      'sandbox_oom_kills_total',
      'sandbox_capacity_remaining',
      'dependency_errors_total',
    ])
      expect(all).toContain(needle);
  });

  it('queries only metrics the server exports, and shows every metric of metrics.ts', async () => {
    const { all, own } = await exportedMetricNames();
    const used = new Set<string>();
    for (const q of [...queries, ...variableQueries]) {
      const names = metricNames(q.expr);
      expect(names.length, q.panel).toBeGreaterThan(0);
      for (const name of names) {
        expect(all.has(name), `${q.panel}: ${name}`).toBe(true);
        used.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    for (const name of own) expect(used, `a panel for ${name}`).toContain(name);
  });

  it('has only PromQL that Prometheus parses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'codeint-grafana-'));
    try {
      const fill = (expr: string) =>
        expr.replace(/\$__rate_interval|\$__interval/g, '5m').replace(/\$\{?\w+\}?/g, '.*');
      const rules = [...queries, ...variableQueries].map((q, i) => ({
        record: `grafana:q${i}`,
        expr: fill(q.expr),
      }));
      const file = join(dir, 'queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'grafana', rules }] }));
      const r = promtool(['check', 'rules', file]);
      expect(r.status, r.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
