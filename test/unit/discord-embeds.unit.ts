import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUT_MARKER } from '../../src/providers/text.js';
import { assertDiscordMessage } from '../helpers/platforms.js';
import { makeEvent, manyEvents, render, TABLE_URL } from './fixtures.js';

type Field = { name: string; value: string };

describe('DISCORD: embed messages', () => {
  it('says what happened, to which entity, by whom, when and what changed, with a link', () => {
    const { json } = render('DISCORD', [
      makeEvent({
        level: 'ERROR',
        data: { url: TABLE_URL, description: 'Customer information table, *all* regions' },
      }),
    ]);
    assertDiscordMessage(json);
    assert.deepEqual(json, {
      // One event needs no text above its embed.
      embeds: [
        {
          // Markdown characters in event text are escaped so they show as written.
          title: 'table snowflake\\_prod.sales.public.customers updated by john.doe',
          url: TABLE_URL,
          description: 'Customer information table, \\*all\\* regions',
          color: 0xe74c3c,
          timestamp: '2026-03-05T10:23:00.000Z',
          fields: [
            { name: 'Entity', value: 'table snowflake\\_prod.sales.public.customers', inline: true },
            { name: 'By', value: 'john.doe', inline: true },
            // Discord shows it in the reader's own time zone.
            { name: 'When', value: '<t:1772706180:F>', inline: true },
            { name: 'Level', value: 'ERROR', inline: true },
            { name: 'Cluster', value: 'prod', inline: true },
            { name: 'Namespace', value: 'sales', inline: true },
            { name: 'tags', value: '\\[\\] → \\[{"tagFQN":"PII.Sensitive"}\\]' },
            { name: 'retention', value: '30d → 90d' },
          ],
          footer: { text: 'Hookline · alerts' },
        },
      ],
      allowed_mentions: { parse: [] },
    });
  });

  it('colours each level', () => {
    const color = (level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR') =>
      render('DISCORD', [makeEvent({ level })]).json.embeds[0].color;
    assert.deepEqual(
      (['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const).map(color),
      [0x95a5a6, 0x95a5a6, 0x3498db, 0xf39c12, 0xe74c3c],
    );
  });

  it('keeps an oversized event within every embed limit, shortened with the marker', () => {
    const changedFields = Array.from({ length: 200 }, (_, i) => ({
      name: `column${i}${'x'.repeat(300)}`,
      oldValue: `old value ${i} `.repeat(60),
      newValue: `new value ${i} `.repeat(60),
    }));
    const { json } = render('DISCORD', [
      makeEvent({
        entityFqn: `snowflake_prod.sales.public.${'customers'.repeat(200)}`,
        changedFields,
        data: { url: TABLE_URL, description: 'Customer data. '.repeat(7000) },
      }),
    ]);
    assertDiscordMessage(json);
    const [embed] = json.embeds;
    assert.ok(embed.title.endsWith(CUT_MARKER), 'the title is cut with the marker');
    assert.ok(embed.description.startsWith('Customer data. '));
    assert.ok(embed.description.endsWith(CUT_MARKER), 'the description is cut with the marker');
    const changes: Field[] = embed.fields.filter((f: Field) => f.name.startsWith('column'));
    assert.ok(changes.length > 0 && changes.length < 200);
    assert.ok(changes[0]?.name.startsWith('column0xxx'));
    assert.ok(changes[0]?.name.endsWith(CUT_MARKER), 'a long field name is cut with the marker');
    assert.ok(changes[0]?.value.startsWith('old value 0 '));
    assert.ok(changes[0]?.value.includes(CUT_MARKER), 'long values are cut with the marker');
    const more = embed.fields.find((f: Field) => f.name === 'More');
    assert.equal(more?.value, `and ${200 - changes.length} more changed fields`);
    assert.equal(embed.fields.find((f: Field) => f.name === 'By')?.value, 'john.doe');
    assert.equal(embed.url, TABLE_URL);
  });

  it('never cuts right after a backslash, which would escape the marker', () => {
    // Escaped, "_" is "\_", and its backslash is the last character a cut at 4096 keeps.
    const description = `${'a'.repeat(4082)}_${'b'.repeat(100)}`;
    const { json } = render('DISCORD', [makeEvent({ changedFields: [], data: { description } })]);
    assertDiscordMessage(json);
    assert.equal(json.embeds[0].description, `${'a'.repeat(4082)}${CUT_MARKER}`);
  });

  it('sends a batch as one message of embeds, with "and N more" past ten', () => {
    const { json } = render('DISCORD', manyEvents(15));
    assertDiscordMessage(json);
    assert.equal(json.content, '**15 events** · and 5 more events not shown');
    assert.equal(json.embeds.length, 10, 'Discord takes at most ten embeds');
    assert.deepEqual(json.embeds[3], {
      title: 'table sales.table3 updated by john.doe',
      url: 'https://catalog.example.com/table/table3',
      description:
        '<t:1772706180:F> · entityUpdated\n**tags**: \\[\\] → \\[{"tagFQN":"PII.Sensitive"}\\]\n**retention**: 30d → 90d',
      color: 0xf39c12,
      timestamp: '2026-03-05T10:23:00.000Z',
    });
    assert.deepEqual(
      json.embeds.at(-1).footer,
      { text: 'Hookline · alerts' },
      'the footer closes the message',
    );
  });
});
