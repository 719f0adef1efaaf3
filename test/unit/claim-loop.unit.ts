import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClaimLoopDeps, createClaimLoop, type LoopTimers } from '../../src/dispatcher/claim-loop.js';
import { deferred } from './deferred.js';

/**
 * Timers that never fire by themselves: each sleep the loop arms is recorded, and `slept()`
 * resolves with the next one, which is how a test knows the loop has gone to sleep.
 */
function fakeTimers() {
  const armed: { wake: () => void; ms: number; cleared: boolean }[] = [];
  let waiter: ((ms: number) => void) | undefined;
  const timers: LoopTimers = {
    set(wake, ms) {
      const timer = { wake, ms, cleared: false };
      armed.push(timer);
      waiter?.(ms);
      waiter = undefined;
      return timer;
    },
    clear(timer) {
      if (timer) (timer as { cleared: boolean }).cleared = true;
    },
  };
  return {
    timers,
    armed,
    slept: () => new Promise<number>((resolve) => (waiter = resolve)),
    /** Fires the last sleep armed, as its timer would. */
    fire() {
      const timer = armed.at(-1);
      assert.ok(timer && !timer.cleared, 'a sleep is armed');
      timer.wake();
    },
  };
}

function fakeLogger() {
  const lines: [string, string][] = [];
  const log = (level: string) => (_fields: object, message: string) => void lines.push([level, message]);
  return {
    lines,
    logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') },
  };
}

const NOW = 1_000_000;

/** A loop with room (unless `ask` says otherwise) whose claim answers `rounds` in turn, then nothing. */
function loopWith(rounds: (number[] | Error)[], overrides: Partial<ClaimLoopDeps<string, number>> = {}) {
  const time = fakeTimers();
  const log = fakeLogger();
  const claims: string[] = [];
  const taken: number[][] = [];
  let nextDueReads = 0;
  const loop = createClaimLoop<string, number>({
    ask: () => 'room',
    async claim(ask) {
      claims.push(ask);
      const answer = rounds.shift() ?? [];
      if (answer instanceof Error) throw answer;
      return answer;
    },
    onClaimed: (_ask, claimed) => void taken.push(claimed),
    async nextDueAt() {
      nextDueReads++;
      return null;
    },
    pollMs: 2000,
    logger: log.logger,
    timers: time.timers,
    now: () => NOW,
    ...overrides,
  });
  return { loop, time, log, claims, taken, nextDueReads: () => nextDueReads };
}

describe('claim loop: rounds', () => {
  it('claims again while a round claims something, then sleeps until the poll', async () => {
    const t = loopWith([[1, 2, 3], [4], []]);
    t.loop.start();
    const slept = t.time.slept();
    t.loop.wake();
    assert.equal(await slept, 2000);
    assert.equal(t.claims.length, 3);
    assert.deepEqual(t.taken, [[1, 2, 3], [4], []]);
    assert.equal(t.nextDueReads(), 1);
  });

  it('does not claim while every slot is taken, and reads no due time: it sleeps for the poll', async () => {
    const t = loopWith([[1]], { ask: () => null });
    t.loop.start();
    const slept = t.time.slept();
    t.loop.wake();
    assert.equal(await slept, 2000);
    assert.equal(t.claims.length, 0);
    assert.deepEqual(t.taken, []);
    assert.equal(t.nextDueReads(), 0);
  });

  it('stops claiming once a round finds no room, though the round before claimed something', async () => {
    let room = 2;
    const t = loopWith([[1], [2], [3]], { ask: () => (room-- > 0 ? 'room' : null) });
    t.loop.start();
    const slept = t.time.slept();
    t.loop.wake();
    assert.equal(await slept, 2000);
    assert.deepEqual(t.taken, [[1], [2]]);
  });

  it('sleeps until 5 ms after the next due time, 0 for one past, and never longer than the poll', async () => {
    const sleeps: number[] = [];
    for (const due of [NOW + 300, NOW - 50, NOW + 60_000]) {
      const t = loopWith([], { nextDueAt: async () => new Date(due) });
      t.loop.start();
      const slept = t.time.slept();
      t.loop.wake();
      sleeps.push(await slept);
    }
    assert.deepEqual(sleeps, [305, 0, 2000]);
  });

  it('sleeps for the poll, with a warning, when the due time cannot be read', async () => {
    const t = loopWith([], { nextDueAt: () => Promise.reject(new Error('gone')) });
    t.loop.start();
    const slept = t.time.slept();
    t.loop.wake();
    assert.equal(await slept, 2000);
    assert.deepEqual(t.log.lines, [['warn', 'could not read the next due time']]);
  });

  it('does nothing before start, and a sleep that ends runs a round', async () => {
    const t = loopWith([[1]]);
    t.loop.wake();
    assert.equal(t.claims.length, 0);
    t.loop.start();
    let slept = t.time.slept();
    t.loop.wake();
    await slept;
    assert.equal(t.claims.length, 2);
    slept = t.time.slept();
    t.time.fire();
    await slept;
    assert.equal(t.claims.length, 3);
  });
});

describe('claim loop: one round at a time', () => {
  it('a wake during a round runs one more round after it, never one beside it', async () => {
    const answers = [deferred<number[]>(), deferred<number[]>()];
    let running = 0;
    let most = 0;
    let claims = 0;
    const t = loopWith([], {
      async claim() {
        running++;
        most = Math.max(most, running);
        try {
          return await (answers[claims++] as ReturnType<typeof deferred<number[]>>).promise;
        } finally {
          running--;
        }
      },
    });
    t.loop.start();
    const slept = t.time.slept();
    t.loop.wake();
    t.loop.wake();
    t.loop.wake();
    assert.equal(claims, 1);
    // The first round finds nothing, but wakes came meanwhile: one more round.
    answers[0]?.resolve([]);
    answers[1]?.resolve([]);
    await slept;
    assert.equal(claims, 2);
    assert.equal(most, 1);
  });

  it('stop waits for the round running, and no sleep is armed after it', async () => {
    const answer = deferred<number[]>();
    const t = loopWith([], { claim: () => answer.promise });
    t.loop.start();
    t.loop.wake();
    let stopped = false;
    const stopping = t.loop.stop().then(() => (stopped = true));
    await Promise.resolve();
    assert.equal(stopped, false);
    answer.resolve([1]);
    await stopping;
    assert.equal(t.loop.running, false);
    assert.deepEqual(t.taken, [[1]], 'no round after the stop, though this one claimed');
    assert.equal(t.time.armed.length, 0);
  });
});

/** Starts and wakes the loop, and returns its next `n` sleeps, firing each one's timer but the last. */
async function sleepsAfterWake(t: ReturnType<typeof loopWith>, n: number): Promise<number[]> {
  t.loop.start();
  const sleeps: number[] = [];
  let slept = t.time.slept();
  t.loop.wake();
  for (let i = 1; i < n; i++) {
    sleeps.push(await slept);
    slept = t.time.slept();
    t.time.fire();
  }
  sleeps.push(await slept);
  return sleeps;
}

describe('claim loop: an unreachable database', () => {
  it('backs off 250, 500, 1000 ms, logs the outage once as an error, then once when it is over', async () => {
    const down = new Error('connection refused');
    const t = loopWith([down, down, down, [7], []]);
    const sleeps = await sleepsAfterWake(t, 4);
    assert.deepEqual(sleeps, [250, 500, 1000, 2000]);
    assert.equal(t.claims.length, 5);
    assert.deepEqual(t.taken, [[7], []]);
    assert.deepEqual(t.log.lines, [
      ['error', 'cannot claim deliveries; backing off'],
      ['debug', 'still cannot claim deliveries'],
      ['debug', 'still cannot claim deliveries'],
      ['info', 'claiming deliveries again'],
    ]);
  });

  it('starts the next outage at the first wait again', async () => {
    const down = new Error('connection refused');
    const t = loopWith([down, down, [], down]);
    const sleeps = await sleepsAfterWake(t, 4);
    assert.deepEqual(sleeps, [250, 500, 2000, 250]);
    assert.deepEqual(
      t.log.lines.map(([level]) => level),
      ['error', 'debug', 'info', 'error'],
    );
  });
});
