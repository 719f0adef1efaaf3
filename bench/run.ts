// `npm run bench`: every scenario prints one JSON line as it finishes, and a Markdown table of
// them all comes at the end. Scenarios run on the default database (`embedded`: no
// DATABASE_URL, the PostgreSQL server Hookline runs itself, in a new data directory each run),
// on in-memory PGlite (`pglite`, what the tests use) and, when BENCH_DATABASE_URL (or
// DATABASE_URL) names a PostgreSQL server, on it too (each run in a database it creates and
// drops). The receiver is a process of its own; so is each Hookline server.
//
// BENCH_SCALE (default 1) scales the event counts down for a quick look, e.g. 0.1.
// BENCH_ONLY=throughput,latency,drain-query,memory,idle-memory,fanout,matching,api-read,live-logs,backlog,abuse
// picks scenarios; BENCH_BACKENDS=embedded,pglite,postgres picks backends.
import { hooklineAbuse } from './abuse.js';
import { hooklineApiRead } from './api-read.js';
import { hooklineBacklog } from './backlog.js';
import { defaultMemory, queryWhileDraining } from './embedded.js';
import { type EngineRun, graphileEngine, hooklineEngine } from './engine.js';
import { senderCost } from './sender.js';
import { retentionDrop } from './retention.js';
import { hooklineFanOut } from './fanout.js';
import { idleMemory } from './idle-memory.js';
import { hooklineLatency } from './latency.js';
import { hooklineLiveLogs } from './live-logs.js';
import { buildHookline, EMBEDDED, freshDatabase, startReceiverProcess } from './lib.js';
import { benchMatching } from './matching.js';
import { hooklineThroughput, undiciLimit } from './throughput.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const only = process.env.BENCH_ONLY?.split(',');
const wanted = (name: string) => !only || only.includes(name);
const postgresUrl = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
const pickedBackends = process.env.BENCH_BACKENDS?.split(',');
const backends: [string, string][] = (
  [['embedded', EMBEDDED], ['pglite', 'memory://'], ...(postgresUrl ? [['postgres', postgresUrl]] : [])] as [
    string,
    string,
  ][]
).filter(([name]) => !pickedBackends || pickedBackends.includes(name));
// The issue asks for PGlite figures for throughput and latency only; the live-logs and backlog
// scenarios take minutes there (PGlite shares the server's thread), so they run on PostgreSQL
// when it is given.
const serverBackends = postgresUrl ? backends.filter(([name]) => name === 'postgres') : backends;

interface Row {
  scenario: string;
  backend: string;
  figure: string;
  hookline: string;
  limit?: string;
  baseline?: string;
  target: string;
}
const rows: Row[] = [];
const line = (result: Record<string, unknown>) => console.log(JSON.stringify(result));
const n = (count: number) => Math.max(1, Math.round(count * scale));

/** graphile-worker (a dev dependency of the benchmarks only) needs PostgreSQL. */
async function graphileBaseline(events: number, receiver: Awaited<ReturnType<typeof startReceiverProcess>>) {
  if (!postgresUrl) return null;
  const { graphileThroughput } = await import('./graphile.js');
  const database = await freshDatabase(postgresUrl);
  try {
    return await graphileThroughput(database.url, receiver, events, (i: number) =>
      JSON.stringify({ eventType: 'bench.throughput', entityId: `e-${i}`, data: { n: i } }),
    );
  } finally {
    await database.drop();
  }
}

/** Throughput to one webhook per backend, when that scenario ran: the backlog's drain is held to it. */
const throughputOneWebhook = new Map<string, number>();

buildHookline();
const receiver = await startReceiverProcess();
try {
  if (wanted('throughput')) {
    const events = n(20_000);
    const limit = await undiciLimit(receiver, events);
    line({ scenario: 'throughput', side: 'limit (plain undici)', ...limit });
    const baseline = await graphileBaseline(events, receiver);
    if (baseline)
      line({ scenario: 'throughput', side: 'baseline (graphile-worker)', backend: 'postgres', ...baseline });
    for (const [backend, url] of backends) {
      for (const webhooks of [1, 50]) {
        // Hookline tuned like the baseline: 32 requests at once to the one webhook (default 4).
        // Embedded PGlite is one connection in the server's own thread: a tenth of the events
        // keeps its run to a couple of minutes.
        const count = backend === 'pglite' ? Math.round(events / 10) : events;
        const result = await hooklineThroughput(url, receiver, count, webhooks, {
          HOOKLINE_WEBHOOK_CONCURRENCY: '32',
        });
        line({ scenario: 'throughput', side: 'hookline', backend, webhooks, ...result });
        if (webhooks === 1) throughputOneWebhook.set(backend, result.perSecond);
        rows.push({
          scenario: `throughput, ${webhooks} webhook${webhooks > 1 ? 's' : ''}`,
          backend,
          figure: 'deliveries/s',
          hookline: String(result.perSecond),
          limit: `${limit.perSecond} (${Math.round((100 * result.perSecond) / limit.perSecond)}%)`,
          baseline: baseline
            ? `${baseline.perSecond} (${(result.perSecond / baseline.perSecond).toFixed(2)}x)`
            : 'not run',
          target: '>= 40% of limit, >= 2x baseline',
        });
      }
    }
    const embedded = throughputOneWebhook.get('embedded');
    const onPostgres = throughputOneWebhook.get('postgres');
    if (embedded && onPostgres) {
      rows.push({
        scenario: 'throughput to one webhook, the default against PostgreSQL',
        backend: 'embedded',
        figure: '% of the PostgreSQL figure of this run',
        hookline: `${Math.round((100 * embedded) / onPostgres)}% (${embedded} / ${onPostgres})`,
        target: '>= 50%',
      });
    }
  }
  if (wanted('latency')) {
    for (const [backend, url] of backends) {
      const result = await hooklineLatency(url, receiver, 200, Math.max(1, Math.round(20 * scale)), {
        HOOKLINE_WEBHOOK_CONCURRENCY: '32',
      });
      line({ scenario: 'latency', backend, perSecond: 200, ...result });
      rows.push({
        scenario: `latency at 200 events/s (reached ${result.achievedPerSecond})`,
        backend,
        figure: 'publish-to-receipt ms p50 / p90 / p99 / max',
        hookline: `${result.p50} / ${result.p90} / ${result.p99} / ${result.max}`,
        target: backend === 'embedded' ? 'rate reached, p50 <= 10, p99 <= 50' : 'p50 <= 5, p99 <= 25',
      });
    }
  }
  if (wanted('drain-query')) {
    // Not on memory://: the backlog is published by one process and drained by the next.
    for (const [backend, url] of backends.filter(([name]) => name !== 'pglite')) {
      const events = n(10_000);
      // Hookline's defaults, as a new user runs it (4 requests at once to the one webhook).
      const result = await queryWhileDraining(url, receiver, events);
      line({ scenario: 'drain-query', backend, ...result });
      rows.push({
        scenario: `a simple query, one after another, while a backlog of ${events.toLocaleString('en')} events drains to one webhook (${result.drainPerSecond}/s, from the start of the process)`,
        backend,
        figure: 'ms p50 / p99, draining (max) -> quiet after',
        hookline: `${result.draining.p50} / ${result.draining.p99} (${result.draining.max}) -> ${result.quiet.p50} / ${result.quiet.p99}`,
        target: 'draining p99 <= 100',
      });
    }
  }
  if (wanted('memory') && backends.some(([name]) => name === 'embedded')) {
    const result = await defaultMemory(EMBEDDED, receiver);
    line({ scenario: 'memory', backend: 'embedded', ...result });
    rows.push({
      scenario: `memory of the default, Hookline and every postgres process (${result.idle.processes} idle); first start ${result.firstStartMs} ms, start on existing data ${result.restartMs} ms`,
      backend: 'embedded',
      figure: 'MB PSS (RSS): idle / first start peak',
      hookline: `${result.idle.pssMb} (${result.idle.rssMb}) / ${result.firstStartPeak.pssMb} (${result.firstStartPeak.rssMb})`,
      target: 'idle <= 250, first start <= 450',
    });
  }
  if (wanted('idle-memory')) {
    for (const [backend, url] of backends.filter(([name]) => name !== 'pglite')) {
      const { first, again } = await idleMemory(url);
      line({ scenario: 'idle-memory', backend, first, again });
      const mb = (m: { rssMb: number; pssMb: number }) => `${m.rssMb} (${m.pssMb})`;
      rows.push({
        scenario: `idle memory 5 s after healthy, ${backend === 'embedded' ? `Hookline and every process it started (${again.idle.processes})` : 'the Hookline process'}`,
        backend,
        figure: 'MB RSS (PSS): idle / idle after the first start / first start peak',
        hookline: `${mb(again.idle)} / ${mb(first.idle)} / ${mb(first.startPeak)}`,
        target: backend === 'embedded' ? 'idle <= 250, first start <= 450' : 'idle <= 120',
      });
    }
  }
  if (wanted('sender')) {
    const result = await senderCost(receiver, n(20_000));
    line({ scenario: 'sender', ...result });
    rows.push({
      scenario: 'one webhook request, 32 at a time',
      backend: '-',
      figure: 'CPU us per request of the sending process',
      hookline: String(result.hooklineSenderCpuUs),
      limit: String(result.plainUndiciCpuUs),
      target: '<= plain undici request',
    });
  }
  if (wanted('fanout') && postgresUrl) {
    const result = await hooklineFanOut(postgresUrl, receiver, 1000);
    line({ scenario: 'fanout', backend: 'postgres', ...result });
    rows.push({
      scenario: 'fan-out to 1,000 webhooks',
      backend: 'postgres',
      figure: 'ms until all received (first)',
      hookline: `${result.allReceivedMs} (${result.firstReceivedMs})`,
      target: '<= 1000',
    });
  }
  if (wanted('api-read') && postgresUrl) {
    const results = await hooklineApiRead(postgresUrl, receiver, 10_000, n(200));
    for (const r of results) line({ scenario: 'api-read', backend: 'postgres', webhooks: 10_000, ...r });
    rows.push({
      scenario: 'API read, webhooks(first: 10 / 50) { health deliveries(first: 5) }, 10,000 webhooks',
      backend: 'postgres',
      figure: 'requests/s; SQL statements per request',
      hookline: results.map((r) => `${r.perSecond}/s; ${r.statementsPerRequest}`).join(' / '),
      target: 'statements constant in page size',
    });
  }
  if (wanted('live-logs')) {
    for (const [backend, url] of serverBackends) {
      const result = await hooklineLiveLogs(url, receiver, {
        webhooks: 100,
        perWebhook: 5,
        perSecond: 200,
        seconds: Math.max(1, Math.round(20 * scale)),
      });
      line({ scenario: 'live-logs', backend, perSecond: 200, ...result });
      rows.push({
        scenario: `live logs, ${result.subscribers} subscribers on ${result.webhooks} webhooks, 200 events/s (reached ${result.achievedPerSecond}; ${result.received} of ${result.expected} messages)`,
        backend,
        figure: 'attempt-to-message ms p50 / p90 / p99 / max (first second, not counted: p99)',
        hookline: `${result.p50} / ${result.p90} / ${result.p99} / ${result.max} (${result.firstSecondP99})`,
        target: 'p99 <= 100',
      });
    }
  }
  if (wanted('backlog')) {
    for (const [backend, url] of serverBackends) {
      // As for throughput: a tenth of the events on embedded PGlite.
      const events = n(backend === 'pglite' ? 10_000 : 100_000);
      const result = await hooklineBacklog(url, receiver, events, { HOOKLINE_WEBHOOK_CONCURRENCY: '32' });
      line({ scenario: 'backlog', backend, ...result });
      const throughput = throughputOneWebhook.get(backend);
      rows.push({
        scenario: `backlog of ${events.toLocaleString('en')} to a receiver down, then up (${result.triedBeforeUp} tried before${
          result.complete ? '' : `; only ${result.drained} drained in the time allowed`
        })`,
        backend,
        figure: 'peak RSS MB (at start / with the backlog complete); drain deliveries/s',
        hookline: `${result.peakRssMb} (${result.rssAtStartMb} / ${result.rssAtBacklogMb}); ${result.drainPerSecond}${
          throughput ? ` (${Math.round((100 * result.drainPerSecond) / throughput)}% of throughput)` : ''
        }`,
        target: 'RSS <= 300 MB; drain >= throughput',
      });
    }
  }
  if (wanted('matching')) {
    // It runs the server in this process on a database it creates; the embedded server is
    // PostgreSQL, measured as such when BENCH_DATABASE_URL is given.
    for (const [backend, url] of backends.filter(([name]) => name !== 'embedded')) {
      const results = await benchMatching(url);
      const at = (size: number) => results.find((r) => r.webhooks === size)?.eventsPerSecond ?? Number.NaN;
      rows.push({
        scenario: 'matching, publishEvent one at a time',
        backend,
        figure: 'events/s with 10 / 1,000 / 10,000 webhooks',
        hookline: `${at(10)} / ${at(1000)} / ${at(10_000)} (${Math.round((100 * at(10_000)) / at(10))}%)`,
        target: '10,000 >= 50% of 10',
      });
    }
  }
  if (wanted('engine') && postgresUrl) {
    // Alternating rounds, medians reported (the machine's other load moves single runs).
    const events = n(50_000);
    const rounds = Number(process.env.BENCH_ENGINE_ROUNDS ?? 3);
    const ours: EngineRun[] = [];
    const theirs: EngineRun[] = [];
    for (let r = 0; r < rounds; r++) {
      const h = await hooklineEngine(postgresUrl, receiver, events);
      line({ scenario: 'engine', side: 'hookline', backend: 'postgres', round: r + 1, events, ...h });
      ours.push(h);
      const g = await graphileEngine(postgresUrl, receiver, events);
      line({
        scenario: 'engine',
        side: 'baseline (graphile-worker)',
        backend: 'postgres',
        round: r + 1,
        events,
        ...g,
      });
      theirs.push(g);
    }
    const median = (runs: EngineRun[], key: keyof EngineRun) => {
      const sorted = runs.map((x) => x[key] ?? 0).sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)] as number;
    };
    const figures: [keyof EngineRun, string, string, boolean][] = [
      ['enqueuePerSecond', 'enqueue, events/s (publishEvents / addJobs of 1,000)', '>= 1.0x baseline', true],
      [
        'drainPerSecond',
        'drain, deliveries/s (worker started after the enqueue)',
        '>= 1.0x baseline (aim 1.5x)',
        true,
      ],
      ['endToEndPerSecond', 'end to end, deliveries/s', '>= 1.0x baseline (aim 1.5x)', true],
      ['processCpuUs', 'CPU of the delivering process, us per delivery', '<= baseline', false],
      ['postgresCpuUs', 'CPU of PostgreSQL, us per delivery', '<= baseline', false],
      [
        'bytesPerDelivery',
        'PostgreSQL bytes kept per delivery (graphile-worker deletes its jobs)',
        '<= 2,500 (aim 2,000)',
        false,
      ],
    ];
    for (const [key, figure, target, higher] of figures) {
      const h = median(ours, key);
      const g = median(theirs, key);
      rows.push({
        scenario: `engine, ${events.toLocaleString('en')} events of 1 KB, median of ${rounds}`,
        backend: 'postgres',
        figure,
        hookline:
          key === 'bytesPerDelivery' ? `${h} (${median(ours, 'bytesAfterVacuum')} after VACUUM)` : String(h),
        baseline: g ? `${g} (${(higher ? h / g : g / h).toFixed(2)}x)` : String(g),
        target,
      });
    }
    for (const workers of (process.env.BENCH_ENGINE_WORKERS ?? '').split(',').filter(Boolean).map(Number)) {
      const h = await hooklineEngine(postgresUrl, receiver, events, workers);
      line({ scenario: 'engine', side: 'hookline', backend: 'postgres', workers, events, ...h });
      rows.push({
        scenario: `engine drain with ${workers} worker process${workers > 1 ? 'es' : ''}`,
        backend: 'postgres',
        figure: 'deliveries/s; CPU us per delivery (processes / PostgreSQL)',
        hookline: `${h.drainPerSecond}; ${h.processCpuUs} / ${h.postgresCpuUs}`,
        target: 'docs/scaling.md',
      });
    }
  }
  if (wanted('retention') && postgresUrl) {
    const result = await retentionDrop(postgresUrl, receiver, n(1_000_000));
    line({ scenario: 'retention', backend: 'postgres', ...result });
    rows.push({
      scenario: `retention: a day of ${result.rows.toLocaleString('en')} finished deliveries dropped while events are published one at a time`,
      backend: 'postgres',
      figure: 'drop ms; publish-to-receipt ms p50 / p99 / max before, and during the drop',
      hookline: `${result.dropMs}; ${result.before.p50} / ${result.before.p99} / ${result.before.max}, ${result.during.p50} / ${result.during.p99} / ${result.during.max} (${result.during.count} events)`,
      target: 'drop < 1000 ms; no wait during it',
    });
  }
  if (wanted('abuse')) {
    // The attack is CPU on the server's thread, whatever the database: PostgreSQL when given,
    // so that PGlite's own work on that thread does not blur the figure.
    const [backend, url] = serverBackends[0] as [string, string];
    const result = await hooklineAbuse(url, 4, Math.max(2, Math.round(15 * scale)));
    line({ scenario: 'abuse', backend, ...result });
    rows.push({
      scenario: `a simple query while 4 clients loop documents built to slow validation (${Object.entries(
        result.attacks,
      )
        .map(([answer, count]) => `${count} x ${answer}`)
        .join(', ')})`,
      backend,
      figure: 'ms p50 / p99, quiet -> attacked; peak RSS MB',
      hookline: `${result.quiet.p50} / ${result.quiet.p99} -> ${result.attacked.p50} / ${result.attacked.p99} (p99 ${(
        result.attacked.p99 / result.quiet.p99
      ).toFixed(1)}x); ${result.peakRssMb}`,
      target: 'attacked p99 <= 2x quiet p99',
    });
  }
} finally {
  await receiver.stop();
}

console.log(
  '\n| scenario | backend | figure | Hookline | limit (plain undici) | baseline (graphile-worker) | target |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.scenario} | ${r.backend} | ${r.figure} | ${r.hookline} | ${r.limit ?? ''} | ${r.baseline ?? ''} | ${r.target} |`,
  );
}
