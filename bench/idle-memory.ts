// `idle-memory`: what an operator sees right after `npm start`, before any traffic: the built
// server started as a child process, /healthz answered, then 5 s of nothing. RSS is the sum of
// the resident sets of Hookline and every process it started (the embedded PostgreSQL server's
// postmaster, background processes and backends), what `ps` and most dashboards show; PSS (a
// page shared between processes counted once) is given beside it.
import { freshDatabase, startHookline, type TreeMemory, treeMemory } from './lib.js';

export interface IdleMemory {
  /** Peak while starting, from spawn to healthy (initdb and migrations on a new data directory). */
  startPeak: TreeMemory;
  /** 5 s after healthy. */
  idle: TreeMemory;
  startMs: number;
}

async function healthy(url: string) {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${url}/healthz`).catch(() => null))?.ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}/healthz never answered`);
}

async function measure(databaseUrl: string, env: Record<string, string>): Promise<IdleMemory> {
  const server = await startHookline(databaseUrl, env);
  try {
    await healthy(server.url);
    const startPeak = server.peakMemory();
    await new Promise((r) => setTimeout(r, 5000));
    return { startPeak, idle: treeMemory(server.pid), startMs: server.startMs };
  } finally {
    await server.stop();
  }
}

/**
 * On a fresh database: the first start (on the embedded default, a new data directory: initdb),
 * then a second start on the same data, each measured 5 s after healthy.
 */
export async function idleMemory(
  adminUrl: string,
  env: Record<string, string> = {},
): Promise<{ first: IdleMemory; again: IdleMemory }> {
  const database = await freshDatabase(adminUrl);
  try {
    const first = await measure(database.url, env);
    const again = await measure(database.url, env);
    return { first, again };
  } finally {
    await database.drop();
  }
}
