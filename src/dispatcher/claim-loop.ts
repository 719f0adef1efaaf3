import { reconnectDelay } from '../db/client.js';

/** The timers the loop sleeps on (the real ones unless a test passes its own). */
export interface LoopTimers {
  set(wake: () => void, ms: number): unknown;
  clear(timer: unknown): void;
}

const realTimers: LoopTimers = {
  set: (wake, ms) => setTimeout(wake, ms),
  clear: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};

export interface ClaimLoopDeps<Ask, Claimed> {
  /** What a round may claim now, or null when every slot is taken (nothing to claim for). */
  ask(): Ask | null;
  /** Claims due deliveries within `ask`. */
  claim(ask: Ask): Promise<Claimed[]>;
  /** Takes what a round claimed; called after every claim that answered, even with nothing. */
  onClaimed(ask: Ask, claimed: Claimed[]): void;
  /** The earliest time a delivery is due, if any is known. */
  nextDueAt(): Promise<Date | null>;
  /** Safety-net poll; wakes and timers for known due times do the real waking. */
  pollMs: number;
  logger: Record<'error' | 'warn' | 'info' | 'debug', (fields: object, message: string) => void>;
  /** The wait after `failures` failed rounds in a row (default: the database's reconnect delay). */
  backoff?: (failures: number) => number;
  timers?: LoopTimers;
  now?: () => number;
}

export interface ClaimLoop {
  readonly running: boolean;
  /** Rounds may run from now on (the first one on the next `wake`). */
  start(): void;
  /** Runs a round now, or once more after the one running. */
  wake(): void;
  /** No more rounds; resolves once the round running, if any, is over. */
  stop(): Promise<void>;
}

/**
 * The claim loop: one round at a time, claiming again while rounds find something, then asleep
 * until a wake, the earliest known due time or the poll interval, whichever comes first. A
 * round that fails (the database is unreachable) is tried again after a growing wait.
 */
export function createClaimLoop<Ask, Claimed>(deps: ClaimLoopDeps<Ask, Claimed>): ClaimLoop {
  const { pollMs, logger } = deps;
  const backoff = deps.backoff ?? reconnectDelay;
  const timers = deps.timers ?? realTimers;
  const now = deps.now ?? Date.now;

  let running = false;
  /** Rounds are running: a wake asks for one more (`again`) instead of running one beside them. */
  let pumping = false;
  let again = false;
  /** Settles when the rounds running are over. */
  let rounds: Promise<void> = Promise.resolve();
  let timer: unknown;
  /** Failed rounds in a row (the database is unreachable): the wait before the next one grows. */
  let failures = 0;

  const wake = () => {
    if (!running) return;
    if (pumping) {
      again = true;
      return;
    }
    void pump();
  };

  async function pump() {
    pumping = true;
    let over = () => {};
    rounds = new Promise((resolve) => (over = resolve));
    let failed = false;
    let full = false;
    try {
      do {
        again = false;
        full = !(await round());
      } while (again && running);
    } catch (error) {
      failed = true;
      failures++;
      const retryInMs = backoff(failures);
      // Once per outage at error level, then quietly: a down database would flood the log.
      if (failures === 1) logger.error({ err: error, retryInMs }, 'cannot claim deliveries; backing off');
      else logger.debug({ err: error, retryInMs, failures }, 'still cannot claim deliveries');
    } finally {
      pumping = false;
      over();
    }
    if (!failed && failures > 0) {
      logger.info({ failures }, 'claiming deliveries again');
      failures = 0;
    }
    if (failed) schedule(backoff(failures));
    // Every slot busy: the next request to finish wakes the loop, so there is nothing to read.
    else if (full) schedule(pollMs);
    else await arm();
  }

  /** Returns false when there was no room to claim for. */
  async function round(): Promise<boolean> {
    const ask = deps.ask();
    if (ask === null) return false;
    const claimed = await deps.claim(ask);
    deps.onClaimed(ask, claimed);
    // Something was due, so more may be: claim again until a round finds nothing.
    if (claimed.length) again = true;
    return true;
  }

  function schedule(delay: number) {
    timers.clear(timer);
    if (running) timer = timers.set(wake, delay);
  }

  /** Sleeps until the earliest known due time, but never longer than the poll interval. */
  async function arm() {
    if (!running) return;
    let delay = pollMs;
    try {
      const next = await deps.nextDueAt();
      if (next) delay = Math.max(0, Math.min(pollMs, next.getTime() - now() + 5));
    } catch (error) {
      logger.warn({ err: error }, 'could not read the next due time');
    }
    schedule(delay);
  }

  return {
    get running() {
      return running;
    },
    start() {
      running = true;
    },
    wake,
    async stop() {
      running = false;
      timers.clear(timer);
      await rounds;
    },
  };
}
