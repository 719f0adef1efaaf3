// Abuse: the p99 of a simple query (`{ me { role } }`, one at a time) for `seconds`, first
// alone, then while 4 clients loop over documents built to make validation expensive (each
// refused before graphql-js validates it). Both phases on one server, one after the other.
import { forkBenchProcess, gql, startHookline, summary, TOKEN } from './lib.js';

export interface Abuse {
  quiet: ReturnType<typeof summary> & { requests: number };
  attacked: ReturnType<typeof summary> & { requests: number };
  attacks: Record<string, number>;
  /** The server's resident memory at its peak, start to end: parsed documents are cached. */
  peakRssMb: number;
}

async function pings(url: string, seconds: number) {
  const latencies: number[] = [];
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const started = performance.now();
    await gql(url, '{ me { role } }');
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { ...summary(latencies), requests: latencies.length };
}

export async function hooklineAbuse(databaseUrl: string, clients: number, seconds: number): Promise<Abuse> {
  const hookline = await startHookline(databaseUrl);
  const attackers = await forkBenchProcess<{ ready: true }>('./attacker-process.ts');
  try {
    // Warm: the first requests compile the server's code paths.
    await pings(hookline.url, 2);
    const quiet = await pings(hookline.url, seconds);
    await attackers.ask({ op: 'start', url: hookline.url, token: TOKEN, clients });
    const attacked = await pings(hookline.url, seconds);
    const attacks = await attackers.ask<Record<string, number>>({ op: 'stop' }, 120_000);
    return { quiet, attacked, attacks, peakRssMb: Math.round(hookline.peakRss() / 1024 / 1024) };
  } finally {
    await attackers.stop();
    await hookline.stop();
  }
}
