import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reconnectDelay } from '../../src/db/client.js';

describe('reconnectDelay: the pause before trying the database again', () => {
  it('starts at 250 ms and doubles with each failure, up to 10 s', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 100].map(reconnectDelay),
      [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000],
    );
  });

  it('waits the first pause for zero or fewer failures rather than less', () => {
    assert.equal(reconnectDelay(0), 250);
    assert.equal(reconnectDelay(-3), 250);
  });
});
