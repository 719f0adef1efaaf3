// The baseline: the same deliveries done the way a team would without Hookline, with
// graphile-worker 0.17 tuned as its performance guide recommends (graphile-tuning.mjs), in the
// bench's process. Jobs are added in batches of 1,000 with addJobs; the clock runs from the
// first addJobs call to the last receipt, as for Hookline.
import { makeWorkerUtils, run } from 'graphile-worker';
import { deliveryTask, preset, tunedPool } from './graphile-tuning.mjs';
import { type ReceiverProcess, round } from './lib.js';
import type { Throughput } from './throughput.js';

const BATCH = 1000;

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
  const pool = tunedPool(databaseUrl);
  const task = deliveryTask();

  // The producer's side (what an application's API would hold), and the schema installed
  // before the clock starts.
  const utils = await makeWorkerUtils({ preset, pgPool: pool });
  let runner: Awaited<ReturnType<typeof run>> | undefined;
  try {
    await utils.migrate();
    runner = await run({
      preset,
      pgPool: pool,
      taskList: { deliver: task.deliver },
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
    await task.close();
  }
}
