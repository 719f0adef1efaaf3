import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUT_MARKER } from '../../src/providers/text.js';
import { chatCardOf, chatDecorated, chatParagraphs } from '../helpers/platforms.js';
import { EVENT_ID, makeEvent, manyEvents, render, TABLE_URL } from './fixtures.js';

const HEADLINE = 'table snowflake_prod.sales.public.customers updated by john.doe';
const fact = (topLabel: string, text: string, knownIcon: string) => ({
  decoratedText: { topLabel, text, startIcon: { knownIcon }, wrapText: true },
});

describe('GOOGLECHAT: cardsV2 messages', () => {
  it('says what happened, to which entity, by whom, when and what changed, with a link', () => {
    const { body, json } = render('GOOGLECHAT');
    chatCardOf(body);
    assert.deepEqual(json, {
      text: HEADLINE,
      cardsV2: [
        {
          cardId: `hookline-evt_${EVENT_ID}`,
          card: {
            header: { title: HEADLINE, subtitle: 'entityUpdated · 2026-03-05 10:23:00 UTC · alerts' },
            sections: [
              {
                widgets: [
                  fact('Entity', 'table snowflake_prod.sales.public.customers', 'DESCRIPTION'),
                  fact('By', 'john.doe', 'PERSON'),
                  fact('When', '2026-03-05 10:23:00 UTC', 'CLOCK'),
                  fact('Level', 'WARN', 'BOOKMARK'),
                  fact('Cluster', 'prod', 'MAP_PIN'),
                  fact('Namespace', 'sales', 'MAP_PIN'),
                ],
              },
              { header: 'Description', widgets: [{ textParagraph: { text: 'Customer information table' } }] },
              {
                header: 'Changed fields',
                widgets: [
                  // Card text is HTML, so quotes are escaped to show as written.
                  {
                    decoratedText: {
                      topLabel: 'tags',
                      text: '[] → [{&quot;tagFQN&quot;:&quot;PII.Sensitive&quot;}]',
                      wrapText: true,
                    },
                  },
                  { decoratedText: { topLabel: 'retention', text: '30d → 90d', wrapText: true } },
                ],
              },
              {
                widgets: [
                  {
                    buttonList: {
                      buttons: [{ text: 'Open table', onClick: { openLink: { url: TABLE_URL } } }],
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
    });
  });

  it('escapes card HTML, and keeps the plain text from notifying the whole space', () => {
    const { body, json } = render('GOOGLECHAT', [
      makeEvent({
        actor: { name: '<users/all>', roles: [] },
        data: { url: TABLE_URL, description: 'Customers <b>and</b> prospects & leads' },
      }),
    ]);
    const card = chatCardOf(body);
    assert.equal(json.text, 'table snowflake_prod.sales.public.customers updated by ‹users/all›');
    assert.deepEqual(chatParagraphs(card), ['Customers &lt;b&gt;and&lt;/b&gt; prospects &amp; leads']);
    assert.equal(chatDecorated(card).find((d) => d.topLabel === 'By')?.text, '&lt;users/all&gt;');
  });

  it('keeps an oversized event under 32,000 bytes, shortened with the marker', () => {
    const changedFields = Array.from({ length: 200 }, (_, i) => ({
      name: `column_${i}`,
      oldValue: `old <value> & ${i} `.repeat(60),
      newValue: `新しい値 ${i} `.repeat(60),
    }));
    const { body } = render('GOOGLECHAT', [
      makeEvent({
        entityFqn: `snowflake_prod.sales.public.${'customers_'.repeat(150)}`,
        changedFields,
        data: { url: TABLE_URL, description: 'Customer data <&>. '.repeat(5400) },
      }),
    ]);
    const card = chatCardOf(body);
    assert.ok(body.includes(CUT_MARKER));
    assert.ok(card.header.title.endsWith(CUT_MARKER), 'the header title is cut with the marker');

    const description = chatParagraphs(card)[0] ?? '';
    assert.ok(description.startsWith('Customer data &lt;&amp;&gt;. '));
    assert.ok(description.endsWith(CUT_MARKER), 'the description is cut with the marker');
    assert.doesNotMatch(description, /&[a-z]{0,5}… \[truncated\]$/, 'no entity is split by the cut');

    const changes = chatDecorated(card).filter((d) => d.topLabel.startsWith('column_'));
    assert.ok(changes.length > 0 && changes.length < 200);
    assert.equal(changes[0]?.topLabel, 'column_0');
    assert.ok(changes[0]?.text.startsWith('old &lt;value&gt; &amp; 0 '));
    assert.ok(changes[0]?.text.includes(CUT_MARKER), 'long values are cut with the marker');
    assert.ok(
      chatParagraphs(card).includes(`<i>and ${200 - changes.length} more changed fields</i>`),
      'the fields left out are counted',
    );
    assert.equal(chatDecorated(card).find((d) => d.topLabel === 'By')?.text, 'john.doe');
  });

  it('sends a batch as one card with a section per event', () => {
    const { body, json } = render('GOOGLECHAT', manyEvents(15));
    const card = chatCardOf(body);
    assert.deepEqual(card.header, { title: '15 events', subtitle: 'alerts' });
    assert.equal(json.cardsV2[0].cardId, 'hookline-batch');
    assert.ok(json.text.startsWith('15 events: table sales.table0 updated by john.doe; table sales.table1'));
    assert.equal(card.sections.length, 15, 'one section an event, nothing left out');
    assert.deepEqual(card.sections[3], {
      header: 'table sales.table3 updated by john.doe',
      widgets: [
        {
          decoratedText: {
            topLabel: 'entityUpdated · 2026-03-05 10:23:00 UTC',
            text: '<b>tags</b>: [] → [{&quot;tagFQN&quot;:&quot;PII.Sensitive&quot;}]<br><b>retention</b>: 30d → 90d',
            wrapText: true,
            button: {
              text: 'Open',
              onClick: { openLink: { url: 'https://catalog.example.com/table/table3' } },
            },
          },
        },
      ],
    });
  });

  it('lists at most twenty events of a large batch, then "and N more"', () => {
    const { body } = render('GOOGLECHAT', manyEvents(30));
    const card = chatCardOf(body);
    assert.equal(card.header.title, '30 events');
    assert.equal(card.sections.filter((s: { header?: string }) => s.header).length, 20);
    assert.deepEqual(chatParagraphs(card), ['<i>and 10 more events</i>']);
  });
});
