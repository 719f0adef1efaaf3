import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUT_MARKER } from '../../src/providers/text.js';
import {
  assertSlackMessage,
  slackContextTexts,
  slackSectionFields,
  slackSectionTexts,
} from '../helpers/platforms.js';
import { EVENT_ID, makeEvent, manyEvents, render, TABLE_URL } from './fixtures.js';

const HEADLINE = 'table snowflake_prod.sales.public.customers updated by john.doe';
const md = (text: string) => ({ type: 'mrkdwn', text });

describe('SLACK: Block Kit messages', () => {
  it('says what happened, to which entity, by whom, when and what changed, with a link', () => {
    const { json, url } = render('SLACK');
    assert.equal(url, undefined);
    assertSlackMessage(json);
    const link = `<${TABLE_URL}|`;
    assert.deepEqual(json, {
      text: HEADLINE,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: HEADLINE, emoji: true } },
        {
          type: 'section',
          fields: [
            md(`*Entity*\ntable ${link}snowflake_prod.sales.public.customers>`),
            md('*By*\njohn.doe'),
            // The time in the reader's zone, the ISO text as fallback.
            md('*When*\n<!date^1772706180^{date_short_pretty} {time_secs}|2026-03-05T10:23:00.000Z>'),
            md('*Event*\nentityUpdated'),
            md('*Level*\nWARN'),
            md('*Cluster*\nprod'),
            md('*Namespace*\nsales'),
          ],
        },
        { type: 'section', text: md('Customer information table') },
        {
          type: 'section',
          fields: [md('*tags*\n[] → [{"tagFQN":"PII.Sensitive"}]'), md('*retention*\n30d → 90d')],
        },
        { type: 'section', text: md(`:link: ${link}Open table>`) },
        { type: 'context', elements: [md('Hookline · alerts'), md(`Event evt_${EVENT_ID}`)] },
      ],
    });
  });

  it('escapes &, < and > in user text, so nothing in an event can mention a channel', () => {
    const { json } = render('SLACK', [
      makeEvent({
        actor: { name: '<!channel> & co', roles: [] },
        data: {
          url: `${TABLE_URL}?tab=schema&version=3`,
          description: 'Customers <b>and</b> prospects & leads',
        },
      }),
    ]);
    assertSlackMessage(json);
    assert.equal(
      json.text,
      'table snowflake_prod.sales.public.customers updated by &lt;!channel&gt; &amp; co',
    );
    assert.ok(slackSectionFields(json.blocks).includes('*By*\n&lt;!channel&gt; &amp; co'));
    assert.ok(
      slackSectionTexts(json.blocks).includes('Customers &lt;b&gt;and&lt;/b&gt; prospects &amp; leads'),
    );
    assert.ok(
      slackSectionTexts(json.blocks).includes(`:link: <${TABLE_URL}?tab=schema&amp;version=3|Open table>`),
      'an & in a link is escaped too',
    );
  });

  it('keeps an oversized event within every Block Kit limit, shortened with the marker', () => {
    const longFqn = `snowflake_prod.sales.public.${'customers_'.repeat(150)}`;
    const changedFields = Array.from({ length: 200 }, (_, i) => ({
      name: `column_${i}`,
      oldValue: `old <value> & ${i} `.repeat(60),
      newValue: `new value ${i} `.repeat(60),
    }));
    const { json, body } = render('SLACK', [
      makeEvent({
        entityFqn: longFqn,
        changedFields,
        data: { url: TABLE_URL, description: 'Customer data <&>. '.repeat(5400) },
      }),
    ]);
    assertSlackMessage(json);
    assert.ok(body.includes(CUT_MARKER));

    const [header] = json.blocks;
    assert.equal(header.text.text.length, 150);
    assert.ok(header.text.text.startsWith('table snowflake_prod.sales.public.customers_'));
    assert.ok(header.text.text.endsWith(CUT_MARKER), 'the header is cut with the marker');
    assert.ok(
      json.text.startsWith(`table ${longFqn} updated by john.doe`),
      'the fallback text has room for all of it',
    );

    const description = slackSectionTexts(json.blocks).find((t) =>
      t.startsWith('Customer data &lt;&amp;&gt;.'),
    );
    assert.ok(description?.endsWith(CUT_MARKER), 'the description is cut with the marker');
    assert.doesNotMatch(description ?? '', /&[a-z]{0,3}… \[truncated\]$/, 'no entity is split by the cut');

    const changes = slackSectionFields(json.blocks).filter((t) => t.startsWith('*column_'));
    assert.ok(changes.length > 0 && changes.length < 200);
    assert.ok(changes[0]?.startsWith('*column_0*\nold &lt;value&gt; &amp; 0'));
    assert.ok(
      changes.some((t) => t.includes(CUT_MARKER)),
      'long values are cut with the marker',
    );
    assert.ok(
      slackContextTexts(json.blocks).includes(`and ${200 - changes.length} more changed fields`),
      'the fields left out are counted',
    );
    assert.ok(slackSectionFields(json.blocks).includes('*By*\njohn.doe'), 'who did it is still there');
  });

  it('leaves out a link too long to work once cut', () => {
    const long = `${TABLE_URL}?q=${'x'.repeat(2100)}`;
    const { json, body } = render('SLACK', [makeEvent({ data: { url: long } })]);
    assertSlackMessage(json);
    assert.equal(body.includes('?q=x'), false);
    assert.ok(
      slackSectionFields(json.blocks).includes('*Entity*\ntable snowflake_prod.sales.public.customers'),
    );
  });

  it('sends a batch as one message with a section per event', () => {
    const { json } = render('SLACK', manyEvents(15));
    assertSlackMessage(json);
    assert.equal(json.blocks[0].text.text, '15 events · alerts');
    assert.ok(json.text.startsWith('15 events: table sales.table0 updated by john.doe; table sales.table1'));
    const listed = slackSectionTexts(json.blocks);
    assert.equal(listed.length, 15, 'one section an event');
    assert.deepEqual(
      listed[3]?.split('\n'),
      [
        '*<https://catalog.example.com/table/table3|table sales.table3 updated by john.doe>*',
        'entityUpdated · <!date^1772706180^{date_short_pretty} {time_secs}|2026-03-05T10:23:00.000Z> · WARN',
        '• *tags*: [] → [{"tagFQN":"PII.Sensitive"}]',
        '• *retention*: 30d → 90d',
      ],
      'its headline linked to its table, its time and level, and its changes',
    );
    assert.deepEqual(
      slackContextTexts(json.blocks),
      ['Hookline · alerts'],
      'all 15 fit, so nothing is left out',
    );
  });

  it('lists as many events of a large batch as Slack allows, then "and N more"', () => {
    const { json } = render('SLACK', manyEvents(60));
    assertSlackMessage(json);
    assert.equal(json.blocks[0].text.text, '60 events · alerts');
    const listed = slackSectionTexts(json.blocks);
    // Each section gets 300 characters at least, and the texts stay under 10,000 in all.
    assert.equal(listed.length, 39);
    assert.ok(
      slackContextTexts(json.blocks).includes('and 21 more events'),
      'the events left out are counted',
    );
  });

  it('stops at 50 blocks when the events are short enough to fit more', () => {
    const { json } = render(
      'SLACK',
      manyEvents(60, () => ({ changedFields: [], data: {} })),
    );
    assertSlackMessage(json);
    assert.equal(json.blocks.length, 50);
    assert.equal(slackSectionTexts(json.blocks).length, 47, 'less the header, "and N more" and the footer');
    assert.ok(slackContextTexts(json.blocks).includes('and 13 more events'));
  });
});
