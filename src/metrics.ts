import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliveryReport } from './dispatcher/deliver.js';

export interface Metrics {
  registry: Registry;
  /** Counts a recorded request's attempts by outcome and times it. */
  recordReport(report: DeliveryReport): void;
}

/** One registry per process; `/metrics` serves it as Prometheus text. */
export function createMetrics(probes: { openSubscriptions?: () => number } = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hookline_' });
  const attempts = new Counter({
    name: 'hookline_delivery_attempts_total',
    help: 'Delivery attempts recorded by this process, by the status they led to and error kind.',
    labelNames: ['status', 'error_kind'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hookline_delivery_attempt_duration_seconds',
    help: 'Time from sending a request to its outcome.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  new Gauge({
    name: 'hookline_open_subscriptions',
    help: 'GraphQL subscriptions (graphql-ws and SSE) open on this process.',
    registers: [registry],
    collect() {
      this.set(probes.openSubscriptions?.() ?? 0);
    },
  });
  return {
    registry,
    recordReport(report) {
      const [first] = report.attempts;
      if (!first) return;
      for (const a of report.attempts) attempts.inc({ status: a.status, error_kind: a.errorKind ?? 'none' });
      duration.observe(first.durationMs / 1000);
    },
  };
}
