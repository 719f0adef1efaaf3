import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFits, BodyTooLarge, budget, documentsBody } from '../../src/providers/budget.js';
import { firstThatFits, type Limits } from '../../src/providers/tiers.js';

describe('the request body limit', () => {
  it('measures a body in UTF-8 bytes, exactly', () => {
    assert.doesNotThrow(() => assertFits('数'.repeat(10), 30));
    assert.throws(() => assertFits('数'.repeat(10), 29), BodyTooLarge);
  });

  it('counts what a renderer adds and stops once it passes the limit', () => {
    const spent = budget(10);
    spent.spend(6);
    spent.spend(4);
    assert.throws(
      () => spent.spend(1),
      (error: BodyTooLarge) => error.maxBytes === 10,
    );
  });

  it('builds the one document, or {"events":[…]} of them, as JSON.stringify would', () => {
    const docs = [{ a: 1 }, 'two', undefined];
    assert.equal(documentsBody(docs.slice(0, 1), { batched: false, maxBytes: 100 }), '{"a":1}');
    assert.equal(documentsBody(docs, { batched: true, maxBytes: 100 }), JSON.stringify({ events: docs }));
    assert.equal(documentsBody([], { batched: false, maxBytes: 100 }), 'null');
  });

  it('refuses a batch whose documents pass the limit before building the rest', () => {
    let made = 0;
    function* documents() {
      for (;;) {
        made += 1;
        yield 'x'.repeat(100);
      }
    }
    assert.throws(() => documentsBody(documents(), { batched: true, maxBytes: 1000 }), BodyTooLarge);
    assert.equal(made, 10, 'the tenth document passes 1000 and nothing more is made');
  });
});

describe('firstThatFits: the most generous tier whose message fits', () => {
  const tiers = [10, 5, 2].map((events) => ({ events }) as Limits);
  const build = (l: Limits) => 'x'.repeat(l.events);

  it('takes the first tier that fits, and the last one when none does', () => {
    assert.equal(
      firstThatFits(tiers, build, (m) => m.length <= 20),
      'x'.repeat(10),
    );
    assert.equal(
      firstThatFits(tiers, build, (m) => m.length <= 6),
      'x'.repeat(5),
    );
    assert.equal(
      firstThatFits(tiers, build, (m) => m.length <= 1),
      'x'.repeat(2),
    );
  });
});
