import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUT_MARKER } from '../../src/providers/text.js';
import { TEAMS_LIMIT_BYTES, teamsCardOf, teamsFacts, teamsTexts } from '../helpers/platforms.js';
import { makeEvent, manyEvents, render, TABLE_URL } from './fixtures.js';

const text = (t: string, style: Record<string, unknown> = {}) => ({
  type: 'TextBlock',
  text: t,
  wrap: true,
  ...style,
});

describe('MSTEAMS: Adaptive Card messages', () => {
  it('says what happened, to which entity, by whom, when and what changed, with a link', () => {
    const { json } = render('MSTEAMS');
    const content = teamsCardOf(json);
    assert.deepEqual(content, {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      body: [
        // A WARN event stands out.
        text('table snowflake_prod.sales.public.customers updated by john.doe', {
          size: 'Medium',
          weight: 'Bolder',
          color: 'Warning',
        }),
        {
          type: 'FactSet',
          facts: [
            { title: 'Event', value: 'entityUpdated' },
            { title: 'Entity', value: 'table snowflake_prod.sales.public.customers' },
            { title: 'By', value: 'john.doe' },
            { title: 'When', value: '2026-03-05T10:23:00.000Z' },
            { title: 'Level', value: 'WARN' },
            { title: 'Cluster', value: 'prod' },
            { title: 'Namespace', value: 'sales' },
          ],
        },
        text('Changes', { weight: 'Bolder', spacing: 'Medium' }),
        {
          type: 'FactSet',
          facts: [
            { title: 'tags', value: '[] → [{"tagFQN":"PII.Sensitive"}]' },
            { title: 'retention', value: '30d → 90d' },
          ],
        },
        { type: 'Container', separator: true, items: [text('Customer information table')] },
      ],
      actions: [{ type: 'Action.OpenUrl', title: 'Open table', url: TABLE_URL }],
      // Without it Teams draws the card narrow.
      msteams: { width: 'Full' },
    });
  });

  it('colours the headline by level: Attention for ERROR, none below WARN', () => {
    const color = (level: 'ERROR' | 'INFO') =>
      teamsCardOf(render('MSTEAMS', [makeEvent({ level })]).json).body[0].color;
    assert.equal(color('ERROR'), 'Attention');
    assert.equal(color('INFO'), undefined);
  });

  it('shows an object value as compact JSON', () => {
    const owner = {
      name: 'owner',
      oldValue: { type: 'team', name: 'Sales' },
      newValue: { type: 'user', name: 'john.doe' },
    };
    const content = teamsCardOf(render('MSTEAMS', [makeEvent({ changedFields: [owner] })]).json);
    assert.equal(
      teamsFacts(content).find((f) => f.title === 'owner')?.value,
      '{"type":"team","name":"Sales"} → {"type":"user","name":"john.doe"}',
    );
  });

  it('keeps an oversized event under the size limit, shortened with the marker', () => {
    const changedFields = Array.from({ length: 200 }, (_, i) => ({
      name: `column_${i}`,
      oldValue: `old value ${i} `.repeat(50),
      newValue: `new value ${i} `.repeat(50),
    }));
    const { body, json } = render('MSTEAMS', [
      makeEvent({ changedFields, data: { url: TABLE_URL, description: 'Customer data. '.repeat(7000) } }),
    ]);
    assert.ok(body.length > 1000, 'something useful is left');
    assert.ok(Buffer.byteLength(body) < TEAMS_LIMIT_BYTES, `${Buffer.byteLength(body)} bytes fit Teams`);
    const content = teamsCardOf(json);
    const description = teamsTexts(content).find((t) => t.startsWith('Customer data.'));
    assert.ok(description?.endsWith(CUT_MARKER), 'the description is cut with the marker');
    const changes = teamsFacts(content).filter((f) => f.title.startsWith('column_'));
    assert.ok(changes.length > 0 && changes.length < 200);
    assert.equal(changes[0]?.title, 'column_0');
    assert.ok(
      changes.some((f) => f.value.includes(CUT_MARKER)),
      'long values are cut with the marker',
    );
    assert.ok(
      teamsTexts(content).includes(`and ${200 - changes.length} more changed fields`),
      'the fields left out are counted',
    );
    assert.equal(teamsFacts(content).find((f) => f.title === 'By')?.value, 'john.doe');
  });

  it('drops the link only when nothing else makes the card fit', () => {
    // Control characters take six bytes each once JSON-escaped (\u0001), so even the second
    // tier's 12 fields of 200-character names and values pass the budget.
    const control = (n: number) => '\u0001'.repeat(n);
    const huge = makeEvent({
      changedFields: Array.from({ length: 50 }, () => ({
        name: control(300),
        oldValue: control(300),
        newValue: control(300),
      })),
      data: { url: TABLE_URL, description: control(5000) },
    });
    const { body, json } = render('MSTEAMS', [huge]);
    assert.ok(Buffer.byteLength(body) < TEAMS_LIMIT_BYTES);
    assert.equal(teamsCardOf(json).actions, undefined, 'the smallest tier has no link');
  });

  it('sends a batch as one card listing the events', () => {
    const content = teamsCardOf(render('MSTEAMS', manyEvents(15)).json);
    const lines = teamsTexts(content);
    assert.equal(lines[0], '15 events');
    assert.equal(lines.length, 31, 'a title, then a headline and a detail line an event');
    assert.equal(lines[7], 'table sales.table3 updated by john.doe');
    assert.equal(
      lines[8],
      '2026-03-05T10:23:00.000Z · WARN · changed: tags, retention · [Open](https://catalog.example.com/table/table3)',
    );
    assert.equal(
      lines.some((t) => t.startsWith('and ')),
      false,
      'all 15 fit, so nothing is left out',
    );
  });

  it('lists at most twenty events of a batch, then "and N more"', () => {
    const lines = teamsTexts(teamsCardOf(render('MSTEAMS', manyEvents(25)).json));
    assert.equal(lines.filter((t) => t.endsWith('updated by john.doe')).length, 20);
    assert.equal(lines.at(-1), 'and 5 more events');
  });
});
