// graphile-worker's runner for the engine scenario, in a process of its own started after the
// enqueue, as Hookline's `--role worker` is: both drains are timed from their process's spawn,
// and both processes start with nothing compiled yet. In the bench's own process, where earlier
// rounds had compiled its code, its third round drained 23% faster than its first in one run;
// in a process of its own, three rounds read within 2% of each other. Plain JavaScript, so that
// its start carries no loader (Hookline's worker runs compiled JavaScript too).
import { run } from 'graphile-worker';
import { deliveryTask, preset, tunedPool } from './graphile-tuning.mjs';

const pool = tunedPool(process.env.DATABASE_URL);
const task = deliveryTask();
const runner = await run({
  preset,
  pgPool: pool,
  taskList: { deliver: task.deliver },
  parsedCronItems: [],
  noHandleSignals: true,
});
process.send?.({ serving: true });
process.on('message', async (message) => {
  if (message?.op !== 'stop') return;
  await runner.stop();
  await pool.end();
  await task.close();
  process.exit(0);
});
