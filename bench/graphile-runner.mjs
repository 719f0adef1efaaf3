// graphile-worker's runner for the engine scenario, in a process of its own started after the
// enqueue, as Hookline's `--role worker` is: both drains are timed from their process's spawn,
// and both processes start with nothing compiled yet. In the bench's own process, where earlier
// rounds had compiled its code, its third round drained 23% faster than its first in one run;
// in a process of its own, three rounds read within 2% of each other. Plain JavaScript, so that
// its start carries no loader (Hookline's worker runs compiled JavaScript too). Tuned as the
// bench's other graphile-worker runs are.
import { Logger, run } from 'graphile-worker';
import pg from 'pg';
import { Agent, request } from 'undici';

const concurrency = Number(process.env.CONCURRENCY);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: concurrency + 1 });
pool.on('error', () => {});
pool.on('connect', (client) => client.on('error', () => {}));
const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
const runner = await run({
  preset: {
    worker: {
      concurrentJobs: concurrency,
      localQueue: { size: 500 },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
      logger: new Logger(() => () => {}),
    },
  },
  pgPool: pool,
  taskList: {
    deliver: async (payload) => {
      const res = await request(payload.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload.body,
        dispatcher: agent,
      });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
    },
  },
  parsedCronItems: [],
  noHandleSignals: true,
});
process.send?.({ serving: true });
process.on('message', async (message) => {
  if (message?.op !== 'stop') return;
  await runner.stop();
  await pool.end();
  await agent.close();
  process.exit(0);
});
