import { performance } from 'node:perf_hooks';

// Full buckets are looked for at most this often; between sweeps a bucket costs ~100 bytes.
const SWEEP_EVERY_MS = 10_000;

/**
 * A token bucket per key (a token's id): each holds up to `burst` requests (a second's worth,
 * `rate`) and refills at `rate` a second. A refused request takes nothing, so a client that
 * keeps retrying is still served at `rate`. Kept in this process's memory: behind a balancer,
 * a token may make `rate` requests a second to each process. A bucket that has filled up again
 * says nothing a new one would not, so it is dropped: memory follows the tokens active in the
 * last seconds, which are tokens that authenticated, not anything a stranger can mint.
 */
export function createRateLimiter(rate: number) {
  const burst = rate;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let swept = performance.now();

  const level = (bucket: { tokens: number; at: number }, now: number) =>
    Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);

  function sweep(now: number) {
    if (now - swept < SWEEP_EVERY_MS) return;
    swept = now;
    for (const [key, bucket] of buckets) if (level(bucket, now) >= burst) buckets.delete(key);
  }

  return {
    /** Counts one request of `key`: 0 when it may go ahead, else the whole seconds to wait (at least 1). */
    take(key: string): number {
      const now = performance.now();
      sweep(now);
      const bucket = buckets.get(key);
      const tokens = bucket ? level(bucket, now) : burst;
      if (tokens >= 1) {
        buckets.set(key, { tokens: tokens - 1, at: now });
        return 0;
      }
      buckets.set(key, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / rate));
    },
  };
}
