// graphile-worker as the benchmarks run it, tuned as its performance guide recommends
// (https://worker.graphile.org/docs/performance: a local queue, complete/fail batch delays of
// 0, a pool sized to the concurrency), with one job per delivery whose task POSTs the body with
// undici. One place for the throughput baseline (graphile.ts, in the bench's process) and the
// engine's runner (graphile-runner.mjs, a process of its own). Plain JavaScript so that the
// runner can import it without a loader; graphile-tuning.d.mts gives its types.
import { Logger } from 'graphile-worker';
import pg from 'pg';
import { Agent, request } from 'undici';

export const CONCURRENCY = 32;

/** Errors and warnings only: graphile-worker logs every worker start and stop at info. */
export const quietLogger = new Logger((scope) => (level, message) => {
  if (level === 'error' || level === 'warning') {
    console.error(`[graphile-worker${scope.label ? `:${scope.label}` : ''}] ${level}: ${message}`);
  }
});

export const preset = {
  worker: {
    concurrentJobs: CONCURRENCY,
    localQueue: { size: 500 },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
    logger: quietLogger,
  },
};

/**
 * A pool of ours (one client more than the workers, as the guide says), so that it ends when
 * the run does: the database is dropped (with force) right after, and an idle client of a pool
 * left open was cut off with an unhandled error that ended the bench.
 */
export function tunedPool(connectionString, max = CONCURRENCY + 1) {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** The undici agent the task sends with, and the task: a job's payload is `{ url, body }`. */
export function deliveryTask() {
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  const deliver = async (payload) => {
    const { url, body } = payload;
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      dispatcher: agent,
    });
    await res.body.dump();
    // A non-2xx answer fails the job, so that graphile-worker retries it with its backoff.
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode} from ${url}`);
  };
  return { deliver, close: () => agent.close() };
}
