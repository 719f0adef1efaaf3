import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { defaultLabelLimits, type LabelLimits } from './config.js';
import type { DeliveryReport } from './core/delivery.js';
import { encodeGlobalId } from './ids.js';

export interface Metrics {
  registry: Registry;
  /** Counts a recorded request's attempts by outcome and times it. */
  recordReport(report: DeliveryReport): void;
  /** Counts and times a GraphQL request over HTTP (graphql/operation-metrics.ts). */
  recordOperation(operation: OperationRecord): void;
}

export interface OperationRecord {
  /** The operation's name; null for an anonymous one. Ignored unless `outcome` is ok or error. */
  name: string | null;
  type: 'query' | 'mutation' | 'subscription' | null;
  /** `ok`: executed without errors; `error`: executed, with errors; `rejected`: not executed. */
  outcome: 'ok' | 'error' | 'rejected';
  seconds: number;
}

/**
 * The first `max` distinct values seen by this process keep their own label value; any later
 * one is `(other)`, which no operation name or webhook id can be. A label never has more than
 * `max + 1` values, whatever clients send or however many webhooks there are; which ones are
 * kept depends on the order this process met them, until it restarts.
 */
export function boundedLabel(max: number): (value: string) => string {
  const kept = new Set<string>();
  return (value) => {
    if (kept.has(value)) return value;
    if (kept.size >= max) return OTHER;
    kept.add(value);
    return value;
  };
}

export const OTHER = '(other)';

/** One registry per process; `/metrics` serves it as Prometheus text. */
export interface Probes {
  openSubscriptions?: () => number;
  queue?: () => Promise<{ due: number; oldestDueSeconds: number; inFlight: number }>;
  /** The database pool: its size, and whether the database answers right now. */
  database?: { poolMax: number; reachable: () => Promise<boolean>; statements?: () => number };
}

export function createMetrics(probes: Probes = {}, limits: LabelLimits = defaultLabelLimits): Metrics {
  const registry = new Registry();
  // Under their standard names (process_*, nodejs_*), which Node.js dashboards look for.
  collectDefaultMetrics({ register: registry });
  const webhookLabel = boundedLabel(limits.webhooks);
  const operationLabel = boundedLabel(limits.operationNames);
  const attempts = new Counter({
    name: 'hookline_delivery_attempts_total',
    help: 'Delivery attempts recorded by this process, by webhook (the first HOOKLINE_METRICS_WEBHOOKS, the rest "(other)"), the status they led to and error kind.',
    labelNames: ['webhook', 'status', 'error_kind'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hookline_delivery_attempt_duration_seconds',
    help: 'Time from sending a request to a webhook to its outcome, by webhook and the status of its (first) attempt.',
    labelNames: ['webhook', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const operationLabels = ['operation_name', 'operation_type', 'outcome'];
  const operations = new Counter({
    name: 'hookline_graphql_operations_total',
    help: 'GraphQL requests over HTTP, by operation name (the first HOOKLINE_METRICS_OPERATION_NAMES of documents that parsed and validated, the rest "(other)"; "(anonymous)"; "(rejected)" when not executed), type and outcome (ok, error, rejected).',
    labelNames: operationLabels,
    registers: [registry],
  });
  const operationDuration = new Histogram({
    name: 'hookline_graphql_operation_duration_seconds',
    help: 'Time from reading a GraphQL request to its result (a subscription: to its first message), by operation name, type and outcome.',
    labelNames: operationLabels,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
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
  new Gauge({
    name: 'hookline_db_pool_max',
    help: 'Connections this process may open to the database (PGlite: 1).',
    registers: [registry],
    collect() {
      this.set(probes.database?.poolMax ?? 0);
    },
  });
  let statementsReported = 0;
  new Counter({
    name: 'hookline_db_statements_total',
    help: 'SQL statements this process sent to PostgreSQL, BEGIN and COMMIT aside (not counted on embedded PGlite).',
    registers: [registry],
    collect() {
      const now = probes.database?.statements?.() ?? 0;
      this.inc(now - statementsReported);
      statementsReported = now;
    },
  });
  new Gauge({
    name: 'hookline_db_up',
    help: '1 when the database answered this scrape, 0 when it did not (the dispatcher is backing off).',
    registers: [registry],
    async collect() {
      this.set((await probes.database?.reachable()) ? 1 : 0);
    },
  });
  // One read of the queue per scrape, shared by its three gauges.
  let reading: Promise<{ due: number; oldestDueSeconds: number; inFlight: number }> | null = null;
  const queue = () => {
    reading ??= (probes.queue?.() ?? Promise.resolve({ due: 0, oldestDueSeconds: 0, inFlight: 0 }))
      // A scrape during a database outage still answers (hookline_db_up says why these are NaN).
      .catch(() => ({ due: Number.NaN, oldestDueSeconds: Number.NaN, inFlight: Number.NaN }))
      .finally(() =>
        setImmediate(() => {
          reading = null;
        }),
      );
    return reading;
  };
  const queueGauge = (name: string, help: string, pick: (q: Awaited<ReturnType<typeof queue>>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(pick(await queue()));
      },
    });
  queueGauge(
    'hookline_queue_due',
    'Deliveries due now, waiting for a dispatcher (all processes).',
    (q) => q.due,
  );
  queueGauge(
    'hookline_queue_oldest_due_seconds',
    'How long the oldest due delivery has waited.',
    (q) => q.oldestDueSeconds,
  );
  queueGauge(
    'hookline_queue_in_flight',
    'Deliveries claimed by a dispatcher and being sent (all processes).',
    (q) => q.inFlight,
  );
  return {
    registry,
    recordReport(report) {
      const [first] = report.attempts;
      if (!first) return;
      const webhook = webhookLabel(encodeGlobalId('Webhook', report.webhookId));
      for (const a of report.attempts)
        attempts.inc({ webhook, status: a.status, error_kind: a.errorKind ?? 'none' });
      duration.observe({ webhook, status: first.status }, first.durationMs / 1000);
    },
    recordOperation({ name, type, outcome, seconds }) {
      const labels = {
        // Names of documents that did not validate are whatever a client wrote: never a label.
        operation_name: outcome === 'rejected' ? '(rejected)' : name ? operationLabel(name) : '(anonymous)',
        operation_type: type ?? '(unknown)',
        outcome,
      };
      operations.inc(labels);
      operationDuration.observe(labels, seconds);
    },
  };
}
