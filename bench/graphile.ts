// The baseline: the same deliveries done the way a team would without Hookline, with
// graphile-worker 0.17: one job per delivery whose task POSTs the body with undici, tuned as
// graphile-worker's performance guide recommends (https://worker.graphile.org/docs/performance:
// a local queue, complete/fail batch delays of 0, a pool sized to the concurrency). Jobs are
// added in batches of 1,000 with addJobs; the clock runs from the first addJobs call to the
// last receipt, as for Hookline.
import { Logger, makeWorkerUtils, run, type RunnerOptions, type Task } from 'graphile-worker';
import pg from 'pg';
import { Agent, request } from 'undici';
import { type ReceiverProcess, round } from './lib.js';
import type { Throughput } from './throughput.js';

const CONCURRENCY = 32;
const BATCH = 1000;

/** Errors and warnings only: graphile-worker logs every worker start and stop at info. */
const quietLogger = new Logger((scope) => (level, message) => {
  const severity: string = level;
  if (severity === 'error' || severity === 'warning') {
    console.error(`[graphile-worker${scope.label ? `:${scope.label}` : ''}] ${severity}: ${message}`);
  }
});

interface Delivery {
  url: string;
  body: string;
}

/**
 * graphile-worker baseline: `events` jobs (one per delivery), each POSTing `body(i)` with undici
 * to `${receiver.url}/graphile`, added in batches of 1,000; counts from the first addJobs call
 * to the last receipt at the receiver.
 */
export async function graphileThroughput(
  databaseUrl: string,
  receiver: ReceiverProcess,
  events: number,
  body: (i: number) => string,
): Promise<Throughput> {
  // The guide's configuration: concurrency 24, pool 25; one client more than the workers. The
  // pool is ours so that it ends here: the database is dropped (with force) right after, and an
  // idle client of a pool left open was cut off with an unhandled error that ended the bench.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: CONCURRENCY + 1 });
  pool.on('error', () => {});
  const preset: RunnerOptions['preset'] = {
    worker: {
      concurrentJobs: CONCURRENCY,
      localQueue: { size: 500 },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
      logger: quietLogger,
    },
  };
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  const deliver: Task = async (payload) => {
    const { url, body } = payload as Delivery;
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

  // The producer's side (what an application's API would hold), and the schema installed
  // before the clock starts.
  const utils = await makeWorkerUtils({ preset, pgPool: pool });
  let runner: Awaited<ReturnType<typeof run>> | undefined;
  try {
    await utils.migrate();
    runner = await run({
      preset,
      pgPool: pool,
      taskList: { deliver },
      parsedCronItems: [], // no crontab file to look for
      noHandleSignals: true, // the benchmark's process owns its signals
    });
    // Should the runner stop on its own (a fatal error), fail instead of waiting 10 minutes.
    const stopped = runner.promise.then(() => {
      throw new Error('graphile-worker stopped before every delivery arrived');
    });
    stopped.catch(() => {});

    const url = `${receiver.url}/graphile`;
    await receiver.reset();
    const started = Date.now();
    for (let i = 0; i < events; i += BATCH) {
      await utils.addJobs(
        Array.from({ length: Math.min(BATCH, events - i) }, (_, j) => ({
          identifier: 'deliver',
          payload: { url, body: body(i + j) } satisfies Delivery,
        })),
      );
    }
    await Promise.race([receiver.waitFor(events, 600_000), stopped]);
    const { last } = await receiver.stats();
    const seconds = (last - started) / 1000;
    return { deliveries: events, seconds: round(seconds, 2), perSecond: round(events / seconds, 0) };
  } finally {
    // stop() only rejects when the runner already stopped itself, whose error is thrown above.
    await runner?.stop().catch(() => {});
    await utils.release();
    await pool.end();
    await agent.close();
  }
}
