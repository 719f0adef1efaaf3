import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBatcher } from '../../src/dispatcher/batcher.js';
import { writtenOneByOne } from '../../src/dispatcher/recorder.js';
import { deferred } from './deferred.js';

/** A batcher whose first batch starts when the test says (`start()`), and whose writes it answers. */
function batcherWith(write: (inputs: number[]) => Promise<string[]>) {
  const starts: (() => void)[] = [];
  const writes: number[][] = [];
  const record = createBatcher<number, string>({
    write(inputs) {
      writes.push(inputs);
      return write(inputs);
    },
    oneByOne: writtenOneByOne,
    defer: (start) => void starts.push(start),
  });
  return { record, starts, writes };
}

const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error: error.message }),
  );

const connectionLost = () => Object.assign(new Error('connection lost'), { code: 'ECONNRESET' });

describe('recorder batching: what goes in a batch', () => {
  it('writes what arrived before the batch started as one batch, answering each in order', async () => {
    const b = batcherWith(async (inputs) => inputs.map((i) => `#${i}`));
    const answers = [b.record(1), b.record(2), b.record(3)];
    assert.equal(b.starts.length, 1, 'one start for the three');
    assert.deepEqual(b.writes, [], 'nothing written before it starts');
    b.starts[0]?.();
    assert.deepEqual(await Promise.all(answers), ['#1', '#2', '#3']);
    assert.deepEqual(b.writes, [[1, 2, 3]]);
  });

  it('puts what arrives while a batch is written in the next batch, without another start', async () => {
    const first = deferred<string[]>();
    const b = batcherWith((inputs) =>
      inputs[0] === 1 ? first.promise : Promise.resolve(inputs.map(String)),
    );
    const one = b.record(1);
    b.starts[0]?.();
    const later = [b.record(2), b.record(3), b.record(4)];
    assert.equal(b.starts.length, 1);
    first.resolve(['1']);
    assert.deepEqual(await Promise.all([one, ...later]), ['1', '2', '3', '4']);
    assert.deepEqual(b.writes, [[1], [2, 3, 4]]);
  });

  it('starts anew once the queue is written: the next input waits for its own start', async () => {
    const b = batcherWith(async (inputs) => inputs.map(String));
    const one = b.record(1);
    b.starts[0]?.();
    await one;
    // Every promise settled: the writer has found its queue empty.
    await new Promise((resolve) => setImmediate(resolve));
    const two = b.record(2);
    assert.equal(b.starts.length, 2);
    b.starts[1]?.();
    assert.equal(await two, '2');
    assert.deepEqual(b.writes, [[1], [2]]);
  });
});

describe('recorder batching: a batch that fails', () => {
  it('is written again one by one, so that only the bad input fails', async () => {
    const b = batcherWith(async (inputs) => {
      if (inputs.includes(2)) throw new Error('bad recording');
      return inputs.map(String);
    });
    const answers = [1, 2, 3].map((i) => settle(b.record(i)));
    b.starts[0]?.();
    assert.deepEqual(await Promise.all(answers), [
      { value: '1' },
      { error: 'bad recording' },
      { value: '3' },
    ]);
    assert.deepEqual(b.writes, [[1, 2, 3], [1], [2], [3]]);
  });

  it('of one is not written again', async () => {
    const b = batcherWith(async () => {
      throw new Error('bad recording');
    });
    const answer = settle(b.record(1));
    b.starts[0]?.();
    assert.deepEqual(await answer, { error: 'bad recording' });
    assert.deepEqual(b.writes, [[1]]);
  });

  it('for a lost connection fails every input at once, and the next batch is still written', async () => {
    let down = true;
    const first = deferred<string[]>();
    const b = batcherWith((inputs) => {
      if (down) return first.promise;
      return Promise.resolve(inputs.map(String));
    });
    const failed = [1, 2].map((i) => settle(b.record(i)));
    b.starts[0]?.();
    const next = b.record(3);
    down = false;
    first.reject(connectionLost());
    assert.deepEqual(await Promise.all(failed), [{ error: 'connection lost' }, { error: 'connection lost' }]);
    assert.equal(await next, '3');
    assert.deepEqual(b.writes, [[1, 2], [3]]);
  });

  it('counts a connection error by its code, also when it is the cause of another error', () => {
    assert.equal(writtenOneByOne(connectionLost()), false);
    assert.equal(writtenOneByOne(new Error('wrapped', { cause: connectionLost() })), false);
    assert.equal(writtenOneByOne(Object.assign(new Error('admin shutdown'), { code: '57P01' })), false);
    assert.equal(writtenOneByOne(Object.assign(new Error('unique violation'), { code: '23505' })), true);
    assert.equal(writtenOneByOne(new Error('no code')), true);
  });
});
