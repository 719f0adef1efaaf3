import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliveryReport } from './dispatcher/deliver.js';

export interface Metrics {
  registry: Registry;
  /** Counts a recorded request's attempts by outcome and times it. */
  recordReport(report: DeliveryReport): void;
}

/** One registry per process; `/metrics` serves it as Prometheus text. */
export interface Probes {
  openSubscriptions?: () => number;
  queue?: () => Promise<{ due: number; oldestDueSeconds: number; inFlight: number }>;
  /** The database pool: its size, and whether the database answers right now. */
  database?: { poolMax: number; reachable: () => Promise<boolean>; statements?: () => number };
}

export function createMetrics(probes: Probes = {}): Metrics {
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
      for (const a of report.attempts) attempts.inc({ status: a.status, error_kind: a.errorKind ?? 'none' });
      duration.observe(first.durationMs / 1000);
    },
  };
}
