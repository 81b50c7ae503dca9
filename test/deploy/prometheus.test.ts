/**
 * deploy/prometheus/alerts.yml: valid for Prometheus (promtool check rules), each alert firing and
 * staying silent as alerts.test.yml expects (promtool test rules), the seed's three alerts with the
 * seed's expressions, only metrics the server exports, and a runbook entry for every alert.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { exportedMetricNames, metricNames } from './promql.js';
import { promtool } from './promtool.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RULES = join(ROOT, 'deploy/prometheus/alerts.yml');
const TESTS = join(ROOT, 'deploy/prometheus/alerts.test.yml');
/** Series from other exporters that the availability alerts use. */
const EXTERNAL = new Set(['up', 'kube_pod_status_ready']);

/** The seed's alerts (best-practices guide, "监控告警规则"), expressions verbatim. */
const SEED = {
  HighErrorRate: {
    expr: 'rate(http_requests_total{status=~"5.."}[5m]) > 0.1',
    for: '2m',
    severity: 'critical',
  },
  HighLatency: {
    expr: 'histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 1',
    for: '5m',
    severity: 'warning',
  },
  SandboxCreationFailure: {
    expr: 'rate(sandbox_creation_failures_total[5m]) > 0.05',
    for: '2m',
    severity: 'critical',
  },
};

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules: Rule[] = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

/** GitHub's heading anchors. */
function anchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );
}

describe('Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status, r.output).toBe(0);
  });

  it('pass their unit tests (promtool test rules)', () => {
    const r = promtool(['test', 'rules', TESTS]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });

  it("keep the seed's HighErrorRate, HighLatency and SandboxCreationFailure as they were", () => {
    for (const [name, seed] of Object.entries(SEED)) {
      const rule = rules.find((r) => r.alert === name);
      expect(rule, name).toBeDefined();
      expect(rule!.expr.trim()).toBe(seed.expr);
      expect(rule!.for).toBe(seed.for);
      expect(rule!.labels?.severity).toBe(seed.severity);
    }
  });

  it('cover the warm pool, OOM kills, timeouts, capacity, PostgreSQL, Redis and readiness', () => {
    const exprs = rules.map((r) => r.expr).join('\n');
    for (const needle of [
      'sandbox_pool_ready',
      'sandbox_oom_kills_total',
      'executions_total{status="timeout"}',
      'sandbox_capacity_remaining',
      'dependency_errors_total{dependency="database"}',
      'dependency_errors_total{dependency="redis"}',
      'kube_pod_status_ready',
    ])
      expect(exprs).toContain(needle);
  });

  it('use only metrics the server exports (or up and kube-state-metrics)', async () => {
    const { all } = await exportedMetricNames();
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names)
        expect(all.has(name) || EXTERNAL.has(name), `${rule.alert}: ${name}`).toBe(true);
    }
  });

  it('each have a severity, a summary, a description and a runbook entry in docs/operations.md', () => {
    const docs = anchors(readFileSync(join(ROOT, 'docs/operations.md'), 'utf8'));
    for (const rule of rules) {
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      const url = rule.annotations?.runbook_url ?? '';
      expect(url, rule.alert).toMatch(/^docs\/operations\.md#/);
      expect(docs, `${rule.alert}: ${url}`).toContain(url.split('#')[1]);
    }
  });

  it('each have at least one unit test', () => {
    const tests = parse(readFileSync(TESTS, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string }[] }[];
    };
    const tested = new Set(tests.tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)));
    for (const rule of rules) expect(tested, rule.alert).toContain(rule.alert);
  });
});

describe('metricNames', () => {
  it('lists selected metrics, not functions, labels, keywords or variables', () => {
    expect(
      metricNames(
        'sum by (le, route) (rate(http_request_duration_seconds_bucket{route!~".*/x", job=~"$job"}[$__rate_interval])) > 1 and on (instance) up offset 5m',
      ).sort(),
    ).toEqual(['http_request_duration_seconds_bucket', 'up']);
  });
});
