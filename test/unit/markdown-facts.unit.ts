import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutEscaped, factsOf, linkTarget, subjectOf } from '../../src/providers/markdown.js';
import { summarize } from '../../src/providers/summary.js';
import { CUT_MARKER, escapeMarkdown } from '../../src/providers/text.js';
import { makeEvent } from './fixtures.js';

describe('the markdown helpers the DingTalk, Feishu, WeCom and Teams messages share', () => {
  it('names the subject by type and FQN, or id, or nothing', () => {
    assert.equal(subjectOf(summarize(makeEvent())), 'table snowflake_prod.sales.public.customers');
    assert.equal(subjectOf(summarize(makeEvent({ entityFqn: null }))), 'table t-42');
    assert.equal(subjectOf(summarize(makeEvent({ entityType: null, entityId: null, entityFqn: null }))), '');
  });

  it('percent-encodes the parentheses that would end a markdown link target', () => {
    assert.equal(
      linkTarget('https://w.example.com/wiki/Foo_(bar)'),
      'https://w.example.com/wiki/Foo_%28bar%29',
    );
  });

  it('cuts source text before escaping it, so no escape is split, and leaves the marker unescaped', () => {
    assert.equal(cutEscaped('a_b', 10, escapeMarkdown), 'a\\_b');
    const cut = cutEscaped('[x]'.repeat(20), 18, escapeMarkdown);
    assert.equal(cut, `\\[x\\]\\[x${CUT_MARKER}`);
  });

  it('lists the facts in order, leaving out those the event lacks, and the level when asked', () => {
    assert.deepEqual(factsOf(summarize(makeEvent())), [
      ['Event', 'entityUpdated'],
      ['Entity', 'table snowflake_prod.sales.public.customers'],
      ['By', 'john.doe'],
      ['When', '2026-03-05T10:23:00.000Z'],
      ['Level', 'WARN'],
      ['Cluster', 'prod'],
      ['Namespace', 'sales'],
    ]);
    const bare = makeEvent({
      entityType: null,
      entityId: null,
      entityFqn: null,
      actor: null,
      cluster: null,
      namespace: null,
    });
    assert.deepEqual(factsOf(summarize(bare), { level: false }), [
      ['Event', 'entityUpdated'],
      ['When', '2026-03-05T10:23:00.000Z'],
    ]);
  });
});
