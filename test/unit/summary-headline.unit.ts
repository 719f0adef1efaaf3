import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { andMore, summarize } from '../../src/providers/summary.js';
import { CUT_MARKER } from '../../src/providers/text.js';
import { EVENT_ID, makeEvent, TABLE_URL } from './fixtures.js';

describe('summarize: what every chat message says about an event', () => {
  it('sums up an entity change: headline, entity, who, when, changes, text and link', () => {
    assert.deepEqual(summarize(makeEvent()), {
      eventId: `evt_${EVENT_ID}`,
      eventType: 'entityUpdated',
      headline: 'table snowflake_prod.sales.public.customers updated by john.doe',
      entity: { type: 'table', id: 't-42', fqn: 'snowflake_prod.sales.public.customers', url: TABLE_URL },
      actor: 'john.doe',
      at: '2026-03-05T10:23:00.000Z',
      level: 'WARN',
      cluster: 'prod',
      namespace: 'sales',
      changes: [
        { name: 'tags', oldValue: '[]', newValue: '[{"tagFQN":"PII.Sensitive"}]' },
        { name: 'retention', oldValue: '30d', newValue: '90d' },
      ],
      text: 'Customer information table',
    });
  });

  const headlines: [string, Parameters<typeof makeEvent>[0], string][] = [
    [
      'a creation',
      { eventType: 'entityCreated' },
      'table snowflake_prod.sales.public.customers created by john.doe',
    ],
    [
      'a soft delete',
      { eventType: 'entitySoftDeleted' },
      'table snowflake_prod.sales.public.customers soft-deleted by john.doe',
    ],
    [
      'a deletion without actor',
      { eventType: 'entityDeleted', actor: null },
      'table snowflake_prod.sales.public.customers deleted',
    ],
    ['the id when there is no FQN', { entityFqn: null }, 'table t-42 updated by john.doe'],
    [
      'an update of no entity',
      { entityType: null, entityId: null, entityFqn: null },
      'entity updated by john.doe',
    ],
    [
      'a custom event type',
      { eventType: 'order.placed', entityType: 'order', entityFqn: 'o-1' },
      'order.placed: order o-1 by john.doe',
    ],
    [
      'a custom type alone',
      { eventType: 'job.done', entityType: null, entityId: null, entityFqn: null, actor: null },
      'job.done',
    ],
    ['the test event', { eventType: 'hookline.test' }, 'Test event from Hookline'],
  ];
  for (const [name, overrides, headline] of headlines) {
    it(`heads ${name}: "${headline}"`, () => {
      assert.equal(summarize(makeEvent(overrides)).headline, headline);
    });
  }

  it('takes the link from url, href, link or entityUrl, only when it is an http(s) URL', () => {
    const link = (data: unknown) => summarize(makeEvent({ data })).entity.url;
    assert.equal(link({ href: 'https://a.example.com/x' }), 'https://a.example.com/x');
    assert.equal(link({ entityUrl: 'http://b.example.com' }), 'http://b.example.com');
    assert.equal(
      link({ url: 'javascript:alert(1)', link: 'https://c.example.com' }),
      'https://c.example.com',
    );
    assert.equal(link({ url: 'https://a.example.com/with space' }), null);
    assert.equal(link('not an object'), null);
  });

  it('takes the text from message, description, summary or text, the first one set', () => {
    const text = (data: unknown) => summarize(makeEvent({ data })).text;
    assert.equal(text({ message: 'm', description: 'd' }), 'm');
    assert.equal(text({ message: '', summary: 's' }), 's');
    assert.equal(text({ text: 42 }), null);
    assert.equal(text(null), null);
  });

  it('shows a missing old or new value as — and cuts a long one with the marker', () => {
    const [change] = summarize(
      makeEvent({ changedFields: [{ name: 'description', newValue: 'y'.repeat(500) }] }),
    ).changes;
    assert.deepEqual(change, {
      name: 'description',
      oldValue: '—',
      newValue: `${'y'.repeat(287)}${CUT_MARKER}`,
    });
  });

  it('counts what did not fit as "and N more"', () => {
    assert.equal(andMore(3), 'and 3 more');
    assert.equal(andMore(12, 'more events'), 'and 12 more events');
  });
});
