import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HooklineEvent } from '../../src/core/event.js';
import { compactBody, expandBody } from '../../src/deliveries/body.js';
import { decodeColumns } from '../../src/db/columns.js';
import { events } from '../../src/db/schema.js';
import { makeEvent, makeWebhook, render } from './fixtures.js';

/** The event as the history reads it back: its JSON columns parsed again from their text. */
const readBack = (event: HooklineEvent): HooklineEvent =>
  JSON.parse(JSON.stringify(event), (key, value) =>
    key === 'occurredAt' || key === 'createdAt' ? new Date(value) : value,
  );

const renderFor = (event: HooklineEvent) => {
  const webhook = makeWebhook({ webhookType: 'GENERIC' });
  return { webhook, body: render('GENERIC', [event], { webhook }).body };
};

describe('stored request bodies', () => {
  it('keeps a GENERIC envelope as the webhook name, and makes the same bytes again from the event', () => {
    const event = makeEvent({
      data: { name: 'orders "gold" ✓', tags: ['PII'], rows: [1, 2, 3], note: 'x'.repeat(80) },
    });
    const { webhook, body } = renderFor(event);
    const stored = compactBody(body, event, webhook.name);
    assert.equal(stored, `\u0002${webhook.name}`);
    assert.equal(expandBody(stored, readBack(event)), body);
  });

  it('keeps the body whole when it is not the envelope under that name', () => {
    const event = makeEvent({ data: { short: true } });
    const { webhook, body } = renderFor(event);
    assert.equal(compactBody(body, event, `${webhook.name}-renamed`), body, 'another name');
    assert.equal(compactBody(`${body} `, event, webhook.name), `${body} `, 'another text');
    assert.equal(
      compactBody(body, readBack(event), webhook.name),
      body,
      'an envelope never made of this event',
    );
  });

  it('leaves the event data out of a body that carries it verbatim, and puts it back', () => {
    const event = makeEvent({ data: { order: 'ord_1', note: 'y'.repeat(100) } });
    const body = `{"wrapped":${JSON.stringify(event.data)},"by":"template"}`;
    const stored = compactBody(body, event, 'any');
    assert.ok(stored.startsWith('\u0001') && !stored.includes('yyyy'));
    assert.equal(expandBody(stored, readBack(event)), body);
  });

  it("sends and makes again an event's data as the text stored, read as text", () => {
    // As jsonb printed it: an event stored before its data became `json` keeps this text.
    const text = '{"name": "orders", "tags": ["PII"], "note": "' + 'n'.repeat(80) + '"}';
    const event = makeEvent();
    const row = {
      ...Object.fromEntries(Object.entries(event).map(([key, value]) => [`e.${key}`, value])),
      'e.data': text,
    };
    // The claim and the history's read decode the same row, each on its own.
    const asRead = () => decodeColumns(events, row, 'e', ['data']) as HooklineEvent;
    const claimed = asRead();
    const { webhook, body } = renderFor(claimed);
    assert.ok(body.endsWith(`"data":${text}}`), 'the stored text, not serialised again');
    assert.deepEqual((claimed.data as { tags: string[] }).tags, ['PII']);
    const stored = compactBody(body, claimed, webhook.name);
    assert.equal(stored, `\u0002${webhook.name}`);
    assert.equal(expandBody(stored, asRead()), body);
  });

  it('shows no body once the event is erased', () => {
    const event = makeEvent({ data: { note: 'z'.repeat(100) } });
    const { webhook, body } = renderFor(event);
    assert.equal(expandBody(compactBody(body, event, webhook.name), { ...readBack(event), data: null }), '');
    assert.equal(expandBody(compactBody(body, event, webhook.name), null), '');
  });
});
