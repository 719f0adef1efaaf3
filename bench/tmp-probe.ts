import { gql, publishInBatches, SECRET, startHookline, startReceiverProcess } from './lib.js';
import { orderPayload } from './engine.js';
import postgres from 'postgres';
const admin = postgres('postgres://postgres@127.0.0.1:5432/test', { max: 1, onnotice: () => {} });
await admin.unsafe('drop database if exists eng_probe with (force)');
await admin.unsafe('create database eng_probe');
await admin.end();
const url = 'postgres://postgres@127.0.0.1:5432/eng_probe';
const receiver = await startReceiverProcess();
const prof = process.env.BENCH_PROFILE;
if (!process.env.PROF_API) delete process.env.BENCH_PROFILE;
const api = await startHookline(url, { HOOKLINE_WEBHOOK_CONCURRENCY: '32' }, 'api');
await gql(api.url, `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`, {
  input: {
    name: 'engine',
    webhookType: 'GENERIC',
    eventFilters: [{ eventTypes: ['order.paid'] }],
    config: { endpoint: `${receiver.url}/engine`, secretKey: SECRET },
  },
});
const N = Number(process.env.N ?? 5000);
let t = performance.now();
await publishInBatches(api.url, N, 1000, (i) => ({
  eventType: 'order.paid',
  entityType: 'order',
  entityId: `ord_${i}`,
  data: orderPayload(i),
}));
console.log('enqueue', Math.round(N / ((performance.now() - t) / 1000)));
await api.stop();
await receiver.reset();
if (prof && !process.env.PROF_API) process.env.BENCH_PROFILE = prof;
else delete process.env.BENCH_PROFILE;
if (process.env.LOGSQL) {
  const a = postgres(url, { max: 1 });
  await a.unsafe("alter database eng_probe set session_preload_libraries = 'auto_explain'");
  await a.unsafe('alter database eng_probe set auto_explain.log_min_duration = 0');
  await a.unsafe('alter database eng_probe set auto_explain.log_analyze = on');
  await a.unsafe('alter database eng_probe set auto_explain.log_buffers = on');
  await a.end();
}
t = Date.now();
const worker = await startHookline(url, { HOOKLINE_WEBHOOK_CONCURRENCY: '32' }, 'worker');
console.log('worker up', Date.now() - t);
await receiver.waitFor(N, 600_000);
const { last, first } = await receiver.stats();
console.log(
  'drain',
  Math.round(N / ((last - t) / 1000)),
  'first at',
  first - t,
  'after first',
  Math.round(N / ((last - first) / 1000)),
);
await new Promise((r) => setTimeout(r, 1000));
await worker.stop();
await receiver.stop();
