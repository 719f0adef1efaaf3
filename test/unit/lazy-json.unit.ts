import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonText, jsonTextOf, lazyJson } from '../../src/json-text.js';

describe('lazyJson', () => {
  it('gives the text without parsing it, and the value parsed once when read', () => {
    const text = '{"b": 1, "a": [1, 2]}';
    const holder = lazyJson({ data: undefined as unknown }, 'data', text);
    assert.equal(jsonTextOf(holder, 'data'), text);
    assert.deepEqual(holder.data, { b: 1, a: [1, 2] });
    assert.equal(holder.data, holder.data, 'parsed once');
    // The value read keeps its text: serialising it gives the stored text again.
    assert.equal(jsonText(holder.data), text);
    assert.equal(JSON.stringify({ ...holder }), '{"data":{"b":1,"a":[1,2]}}');
  });

  it('forgets the text once the value is replaced', () => {
    const holder = lazyJson({ data: undefined as unknown }, 'data', '{"a":1}');
    holder.data = { a: 2 };
    assert.equal(jsonTextOf(holder, 'data'), '{"a":2}');
  });

  it('is null for null text, and jsonTextOf is null for a missing value', () => {
    assert.equal(lazyJson({ data: 1 as unknown }, 'data', null).data, null);
    assert.equal(jsonTextOf({ data: undefined }, 'data'), null);
    assert.equal(jsonTextOf({ data: [1] }, 'data'), '[1]');
  });
});
