// What every scenario shares: a fresh database, the receiver process, a Hookline process of
// the bin, GraphQL over HTTP, and percentiles.
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

export const TOKEN = 'bench-admin-token-0123456789';
export const SECRET = 'whsec_YmVuY2gtc2lnbmluZy1zZWNyZXQtMDEyMzQ1Njc4OQ==';

export async function gql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Creates `count` webhooks through createWebhooks, 100 a call; `input(i)` describes the i-th. Returns their ids in order. */
export async function createWebhooksInBatches(
  url: string,
  count: number,
  input: (i: number) => Record<string, unknown>,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 100) {
    const data = await gql(
      url,
      `mutation($inputs: [CreateWebhookInput!]!) { createWebhooks(inputs: $inputs) { id } }`,
      { inputs: Array.from({ length: Math.min(100, count - i) }, (_, j) => input(i + j)) },
    );
    ids.push(...(data.createWebhooks as { id: string }[]).map((w) => w.id));
  }
  return ids;
}

/** Publishes `count` events through publishEvents, `size` a call; `input(i)` describes the i-th. */
export async function publishInBatches(
  url: string,
  count: number,
  size: number,
  input: (i: number) => Record<string, unknown>,
): Promise<void> {
  for (let i = 0; i < count; i += size) {
    await gql(url, `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`, {
      inputs: Array.from({ length: Math.min(size, count - i) }, (_, j) => input(i + j)),
    });
  }
}

/**
 * Publishes `count` events one by one at `perSecond`, each on schedule whether or not earlier
 * publishes have answered (an open-loop load); `input(i)` is called when the i-th is sent.
 * Resolves with the publish rate reached, below the asked one when the server could not take it.
 */
export async function publishPaced(
  url: string,
  count: number,
  perSecond: number,
  input: (i: number) => Record<string, unknown>,
): Promise<number> {
  const started = Date.now();
  const publishing = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // Open loop, but bounded: a server that cannot take the rate makes the publisher wait
    // rather than pile up connections until they time out (the achieved rate shows it).
    if (publishing.size >= 200) await Promise.race(publishing);
    const publish = gql(url, `mutation($input: PublishEventInput!) { publishEvent(input: $input) { id } }`, {
      input: input(i),
    }).finally(() => publishing.delete(publish));
    publishing.add(publish);
  }
  await Promise.all(publishing);
  return count / ((Date.now() - started) / 1000);
}

/** A metric of a Hookline server's /metrics, summed over all its labels. */
export async function metricSum(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const [, value] of text.matchAll(new RegExp(`^${name}(?:\\{.*\\})? (\\S+)$`, 'gm')))
    sum += Number(value);
  return sum;
}

/**
 * The bench's name for Hookline's default (no DATABASE_URL: the embedded PostgreSQL server in
 * HOOKLINE_DATA_DIR); `freshDatabase` turns it into `embedded://<a new data directory>`.
 */
export const EMBEDDED = 'embedded://';

/**
 * A fresh database per run: `memory://` is new each time; on PostgreSQL one is created and
 * dropped; for the embedded default, a new data directory (initdb at first start), removed after.
 */
export async function freshDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (adminUrl === 'memory://') return { url: adminUrl, drop: async () => {} };
  if (adminUrl === EMBEDDED) {
    const dir = await mkdtemp(join(tmpdir(), 'hookline-bench-'));
    // As root the server runs as the postgres user, which must be able to enter it.
    await chmod(dir, 0o755);
    return { url: `${EMBEDDED}${dir}`, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const name = `hookline_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

export interface ReceiverStats {
  count: number;
  first: number;
  last: number;
  latencies: number[];
}

export interface ReceiverProcess {
  url: string;
  reset(): Promise<void>;
  stats(): Promise<ReceiverStats>;
  /** Resolves once `n` requests arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs: number): Promise<void>;
  /** Stops listening and destroys open connections: senders get connection refused. */
  down(): Promise<void>;
  /** Listens again, on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

export interface BenchProcess<Hello> {
  /** The first message the process sends, once it is ready. */
  hello: Hello;
  /** Sends `command` with an id and resolves with the reply of that id (`{ id, value }` or `{ id, error }`). */
  ask<T>(command: { op: string } & Record<string, unknown>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** One of the bench's own helper processes (a `.ts` file here), spoken to over IPC. */
export async function forkBenchProcess<Hello>(file: string): Promise<BenchProcess<Hello>> {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const hello = await new Promise<Hello>((resolve, reject) => {
    child.once('message', (m: Hello) => resolve(m));
    child.once('exit', () => reject(new Error(`${file} exited before it was ready`)));
  });
  let next = 0;
  const ask = <T>(command: { op: string } & Record<string, unknown>, timeoutMs = 30_000) =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`${file}: ${command.op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: { id?: number; value: T; error?: string }) => {
        if (m.id !== id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        if (m.error !== undefined) reject(new Error(`${file}: ${command.op}: ${m.error}`));
        else resolve(m.value);
      };
      child.on('message', onMessage);
      child.send({ ...command, id });
    });
  return { hello, ask, stop: () => stopChild(child) };
}

export async function startReceiverProcess(): Promise<ReceiverProcess> {
  const receiver = await forkBenchProcess<{ port: number }>('./receiver-process.ts');
  return {
    url: `http://127.0.0.1:${receiver.hello.port}`,
    reset: () => receiver.ask<void>({ op: 'reset' }),
    stats: () => receiver.ask<ReceiverStats>({ op: 'stats' }),
    waitFor: (n, timeoutMs) => receiver.ask<void>({ op: 'wait', n }, timeoutMs),
    down: () => receiver.ask<void>({ op: 'down' }),
    up: () => receiver.ask<void>({ op: 'up' }),
    stop: receiver.stop,
  };
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

export interface HooklineProcess {
  url: string;
  /** The Hookline process's id (its embedded server's processes are its descendants). */
  pid: number;
  /** Milliseconds from spawn to "listening". */
  startMs: number;
  /** Peak of `memory()` seen so far, per field (sampled every 100 ms). */
  peakMemory(): TreeMemory;
  /** Peak resident set size seen so far, in bytes (sampled every 100 ms). */
  peakRss(): number;
  /** Resident set size now, in bytes. */
  rss(): number;
  stop(): Promise<void>;
}

/**
 * Compiles `src` to `dist` (`npm run build`), so that the servers run the code as it is now,
 * compiled, as `npm start` and the `hookline` bin do.
 */
export function buildHookline(): void {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const project = fileURLToPath(new URL('../tsconfig.build.json', import.meta.url));
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
}

/** `hookline serve` as a deployment runs it (the built code), on `databaseUrl`, with `env` added. */
export async function startHookline(
  databaseUrl: string,
  env: Record<string, string> = {},
  role: 'all' | 'api' | 'worker' = 'all',
): Promise<HooklineProcess> {
  // BENCH_HOOKLINE_BIN=<path of a cli.js> runs another build (an earlier commit's) for a before/after.
  const bin = process.env.BENCH_HOOKLINE_BIN ?? fileURLToPath(new URL('../bin/hookline.js', import.meta.url));
  // BENCH_PROFILE=dir writes a CPU profile of each Hookline process there (node --cpu-prof).
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const database = databaseUrl.startsWith(EMBEDDED)
    ? { HOOKLINE_DATA_DIR: join(databaseUrl.slice(EMBEDDED.length), 'data') }
    : { DATABASE_URL: databaseUrl };
  const spawned = performance.now();
  let peakTree: TreeMemory = { processes: 0, rssMb: 0, pssMb: 0 };
  const sampleTree = () => {
    const now = treeMemory(child.pid as number);
    peakTree = {
      processes: Math.max(peakTree.processes, now.processes),
      rssMb: Math.max(peakTree.rssMb, now.rssMb),
      pssMb: Math.max(peakTree.pssMb, now.pssMb),
    };
  };
  const child = spawn(process.execPath, [...profile, bin, 'serve', '--role', role], {
    env: {
      PATH: process.env.PATH ?? '',
      ...database,
      PORT: '0',
      HOOKLINE_ADMIN_TOKEN: TOKEN,
      HOOKLINE_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  // The whole first start, initdb included, is sampled for the peak.
  const startSampler = setInterval(() => {
    try {
      sampleTree();
    } catch {}
  }, 50);
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (out.length > 100_000) return;
      out += d;
      const match =
        /"url":"(http:\/\/[^"]+)\/graphql","msg":"listening"/.exec(out) ??
        /"url":"(http:\/\/[^"]+)","msg":"serving health and metrics"/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`hookline exited (${code}) before listening:\n${out}`)));
  }).finally(() => clearInterval(startSampler));
  const startMs = Math.round(performance.now() - spawned);
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, residentBytes(child.pid as number));
      sampleTree();
    } catch {}
  }, 100);
  return {
    url,
    pid: child.pid as number,
    startMs,
    peakMemory: () => peakTree,
    peakRss: () => peak,
    rss: () => residentBytes(child.pid as number),
    async stop() {
      clearInterval(sampler);
      await stopChild(child);
    },
  };
}

export interface TreeMemory {
  processes: number;
  /** Sum of the processes' resident sets: pages shared between them counted in each. */
  rssMb: number;
  /** Sum of proportional set sizes: a shared page counted once, split between its sharers. */
  pssMb: number;
}

/**
 * Memory of a process and all its descendants (Hookline, its postgres server and backends)
 * from /proc (Linux): RSS from statm, PSS from smaps_rollup.
 */
export function treeMemory(rootPid: number): TreeMemory {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {}
  }
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const pids = [rootPid]; pids.length;) {
    const pid = pids.pop() as number;
    pids.push(...(children.get(pid) ?? []));
    try {
      rss += residentBytes(pid);
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
      processes++;
    } catch {}
  }
  return { processes, rssMb: round(rss / 2 ** 20, 0), pssMb: round(pss / 2 ** 20, 0) };
}

/** Resident set size of a process, from /proc (Linux). */
function residentBytes(pid: number): number {
  const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
  return pages * 4096;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** p50, p90, p99 and max of `values` (sorted in place), to 0.1. */
export function summary(values: number[]): { p50: number; p90: number; p99: number; max: number } {
  const sorted = values.sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
  };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
