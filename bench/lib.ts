// What every scenario shares: a fresh database, the receiver process, a Hookline process of
// the bin, GraphQL over HTTP, and percentiles.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

/** Creates `count` webhooks through createWebhooks, 100 a call; `input(i)` describes the i-th. */
export async function createWebhooksInBatches(
  url: string,
  count: number,
  input: (i: number) => Record<string, unknown>,
): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    await gql(url, `mutation($inputs: [CreateWebhookInput!]!) { createWebhooks(inputs: $inputs) { id } }`, {
      inputs: Array.from({ length: Math.min(100, count - i) }, (_, j) => input(i + j)),
    });
  }
}

/** A fresh database per run: `memory://` is new each time; on PostgreSQL one is created and dropped. */
export async function freshDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (adminUrl === 'memory://') return { url: adminUrl, drop: async () => {} };
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
  stop(): Promise<void>;
}

export async function startReceiverProcess(): Promise<ReceiverProcess> {
  const child = fork(fileURLToPath(new URL('./receiver-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', () => reject(new Error('the receiver exited')));
  });
  let next = 0;
  const ask = <T>(command: Record<string, unknown>, timeoutMs = 30_000) =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`receiver: ${command.op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: { id?: number; value: T }) => {
        if (m.id !== id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m.value);
      };
      child.on('message', onMessage);
      child.send({ ...command, id });
    });
  return {
    url: `http://127.0.0.1:${port}`,
    reset: () => ask<void>({ op: 'reset' }),
    stats: () => ask<ReceiverStats>({ op: 'stats' }),
    waitFor: (n, timeoutMs) => ask<void>({ op: 'wait', n }, timeoutMs),
    stop: () => stopChild(child),
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
  /** Peak resident set size seen so far, in bytes (sampled every 100 ms). */
  peakRss(): number;
  stop(): Promise<void>;
}

/** `hookline serve` as a user runs it, on `databaseUrl`, with `env` added. */
export async function startHookline(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<HooklineProcess> {
  const bin = fileURLToPath(new URL('../bin/hookline.js', import.meta.url));
  // BENCH_PROFILE=dir writes a CPU profile of each Hookline process there (node --cpu-prof).
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const child = spawn(process.execPath, [...profile, bin, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOOKLINE_ADMIN_TOKEN: TOKEN,
      HOOKLINE_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (out.length > 100_000) return;
      out += d;
      const match = /"url":"(http:\/\/[^"]+)\/graphql","msg":"listening"/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`hookline exited (${code}) before listening:\n${out}`)));
  });
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, residentBytes(child.pid as number));
    } catch {}
  }, 100);
  return {
    url,
    peakRss: () => peak,
    async stop() {
      clearInterval(sampler);
      await stopChild(child);
    },
  };
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

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
