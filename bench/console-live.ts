// The console's live log under load: `node --import tsx bench/console-live.ts`.
//
// A built Hookline server (on BENCH_DATABASE_URL's PostgreSQL when given, else in-memory
// PGlite) sends to a receiver process that answers 200 at once. Headless Chromium opens the
// console's live log (graphql-ws, every webhook); events are then published for SECONDS
// seconds so that about RATE attempts a second are recorded (10 webhooks each take every
// event). The page is probed from inside: every gap between two animation frames (a page that
// freezes stops painting) and every long task (> 50 ms, PerformanceObserver), the messages it
// received, and the rows in its DOM. Prints one JSON line. Bounded: publishing stops after
// SECONDS, waiting for the rest after 60 s more.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '../test/helpers/browser.js';
import { buildConsole } from '../test/helpers/console.js';
import {
  buildHookline,
  createWebhooksInBatches,
  freshDatabase,
  gql,
  round,
  startHookline,
  startReceiverProcess,
  TOKEN,
} from './lib.js';

const RATE = Number(process.env.RATE ?? 1000);
const SECONDS = Number(process.env.SECONDS ?? 10);
const WEBHOOKS = 10;
const postgresUrl = process.env.BENCH_DATABASE_URL;

buildHookline();
await buildConsole();
const receiver = await startReceiverProcess();
const database = postgresUrl ? await freshDatabase(postgresUrl) : { url: 'memory://', drop: async () => {} };
const hookline = await startHookline(database.url, {
  HOOKLINE_WEBHOOK_CONCURRENCY: '32',
  HOOKLINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'hookline-bench-')),
});
const chrome = await launchBrowser();
try {
  await createWebhooksInBatches(hookline.url, WEBHOOKS, (i) => ({
    name: `live-${i}`,
    webhookType: 'GENERIC',
    eventFilters: [{ eventTypes: ['bench.console'] }],
    config: { endpoint: `${receiver.url}/live` },
  }));
  const page = await chrome.page();
  await page.goto(`${hookline.url}/#token=${encodeURIComponent(TOKEN)}`);
  await page.waitForSelector('[data-testid=webhooks]');
  await page.goto(`${hookline.url}/#/live`);
  await page.waitForFunction(
    () => document.querySelector('[data-testid=transport]')?.textContent === 'graphql-ws',
  );
  // Probes inside the page: frame gaps and long tasks, from now on.
  // As text: tsx would wrap named functions in a helper (__name) that the page does not have.
  await page.evaluate(`
    window.probe = { gaps: [], longTasks: [] };
    let last = performance.now();
    const frame = (now) => { window.probe.gaps.push(now - last); last = now; requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.probe.longTasks.push(e.duration);
    }).observe({ entryTypes: ['longtask'] });
  `);

  await receiver.reset();
  const perEvent = WEBHOOKS;
  const eventsPerTick = Math.max(1, Math.round(RATE / perEvent / 10)); // every 100 ms
  const ticks = SECONDS * 10;
  const started = Date.now();
  for (let t = 0; t < ticks; t++) {
    const due = started + t * 100;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    void gql(
      hookline.url,
      `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
      {
        inputs: Array.from({ length: eventsPerTick }, (_, i) => ({
          eventType: 'bench.console',
          entityId: `${t}-${i}`,
        })),
      },
    );
  }
  const expected = ticks * eventsPerTick * perEvent;
  await receiver.waitFor(expected, 60_000).catch(() => {});
  const sent = (await receiver.stats()).count;
  const deadline = Date.now() + 60_000;
  let received = 0;
  while (Date.now() < deadline) {
    received = Number(await page.$eval('[data-testid=live-stats]', (el) => el.getAttribute('data-received')));
    if (received >= sent) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const seconds = (Date.now() - started) / 1000;
  const probe = (await page.evaluate(`(() => {
    const gaps = [...window.probe.gaps].sort((a, b) => a - b);
    return {
      frames: gaps.length,
      p99Gap: gaps[Math.floor(gaps.length * 0.99)] ?? 0,
      maxGap: gaps.at(-1) ?? 0,
      longTasks: window.probe.longTasks.length,
      longTaskMs: window.probe.longTasks.reduce((a, b) => a + b, 0),
      rowsInDom: document.querySelectorAll('[data-testid=live-row]').length,
      shown: Number(document.querySelector('[data-testid=live-stats]')?.getAttribute('data-shown')),
      heapMb: (performance.memory?.usedJSHeapSize ?? 0) / 1e6,
    };
  })()`)) as {
    frames: number;
    p99Gap: number;
    maxGap: number;
    longTasks: number;
    longTaskMs: number;
    rowsInDom: number;
    shown: number;
    heapMb: number;
  };
  const error = await page.$eval('.error', (el) => el.textContent).catch(() => null);
  const resubscribed = Number(
    await page.$eval('[data-testid=live-stats]', (el) => el.getAttribute('data-resubscribed')),
  );
  console.log(
    JSON.stringify({
      scenario: 'console live log',
      backend: postgresUrl ? 'postgres' : 'pglite',
      askedPerSecond: RATE,
      attemptsSent: sent,
      attemptsPerSecond: round(sent / SECONDS, 0),
      receivedByPage: received,
      seconds: round(seconds, 1),
      frames: probe.frames,
      frameGapMs: { p99: round(probe.p99Gap, 0), max: round(probe.maxGap, 0) },
      longTasks: probe.longTasks,
      longTaskMs: round(probe.longTaskMs, 0),
      rowsInDom: probe.rowsInDom,
      entriesKept: probe.shown,
      heapMb: round(probe.heapMb, 0),
      resubscribed,
      pageError: error,
      pageErrors: chrome.errors,
      blocked: chrome.blocked.length,
    }),
  );
} finally {
  await chrome.close();
  await hookline.stop();
  await receiver.stop();
  await database.drop();
}
