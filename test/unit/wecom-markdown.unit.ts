import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUT_MARKER } from '../../src/providers/text.js';
import { WECOM_LIMIT_BYTES, weComContentOf } from '../helpers/platforms.js';
import { makeEvent, manyEvents, render, TABLE_URL } from './fixtures.js';

describe('WECOM: markdown robot messages', () => {
  it('says what happened, to which entity, by whom, when and what changed, with a link', () => {
    const { json, url } = render('WECOM', [
      makeEvent({ data: { url: TABLE_URL, description: '客户信息表' } }),
    ]);
    assert.equal(url, undefined);
    assert.equal(
      weComContentOf(json),
      [
        '### table snowflake\\_prod.sales.public.customers updated by john.doe',
        '',
        '>Event: <font color="comment">entityUpdated</font>',
        '>Entity: <font color="comment">table snowflake\\_prod.sales.public.customers</font>',
        '>By: <font color="comment">john.doe</font>',
        '>When: <font color="comment">2026-03-05T10:23:00.000Z</font>',
        '>Cluster: <font color="comment">prod</font>',
        '>Namespace: <font color="comment">sales</font>',
        '>Level: <font color="warning">WARN</font>',
        '',
        '**Changes**',
        '>tags: \\[\\] → \\[{"tagFQN":"PII.Sensitive"}\\]',
        '>retention: 30d → 90d',
        '',
        `[Open table](${TABLE_URL})`,
        '',
        '客户信息表',
      ].join('\n'),
    );
  });

  it('shows INFO and below without colour', () => {
    assert.ok(
      weComContentOf(render('WECOM', [makeEvent({ level: 'INFO' })]).json).includes('\n>Level: INFO\n'),
    );
  });

  it('keeps WeCom’s own tags out of user text, so no one is mentioned', () => {
    const content = weComContentOf(
      render('WECOM', [makeEvent({ actor: { name: '<@all>', roles: [] } })]).json,
    );
    assert.ok(content.includes('>By: <font color="comment"><\u200b@all\\></font>'));
  });

  it('escapes the entity type in the link label, so it cannot add a link of its own', () => {
    const event = makeEvent({ entityType: 'x](https://evil.example.com) [y' });
    const text = JSON.parse(render('WECOM', [event]).body).markdown.content as string;
    assert.ok(text.includes(`[Open x\\]\\(https://evil.example.com\\) \\[y](${TABLE_URL})`), text);
  });

  it('keeps an oversized event within 4096 bytes, counting multi-byte characters', () => {
    const changedFields = Array.from({ length: 200 }, (_, i) => ({
      name: `列_${i}`,
      oldValue: `旧值 ${i} `.repeat(50),
      newValue: `新的值 ${i} `.repeat(50),
    }));
    const content = weComContentOf(
      render('WECOM', [
        // 100 KB of UTF-8, three bytes a character.
        makeEvent({ changedFields, data: { url: TABLE_URL, description: '客户数据表。'.repeat(5700) } }),
      ]).json,
    );
    assert.ok(Buffer.byteLength(content) > 2000, 'something useful is left');
    assert.ok(content.includes(CUT_MARKER));
    assert.match(content, /\n>and \d+ more changed fields\n/);
    assert.ok(content.includes('>By: <font color="comment">john.doe</font>'));
    assert.ok(content.includes(`[Open table](${TABLE_URL})`), 'the link survives');
  });

  it('cuts to exactly the byte limit when even the smallest layout is too long', () => {
    // A 2,000-character name of 3-byte characters leaves no room once every part is at its smallest.
    const content = weComContentOf(
      render('WECOM', [
        makeEvent({
          entityFqn: '数据'.repeat(1000),
          actor: { name: '张'.repeat(256), roles: [] },
          data: { url: `${TABLE_URL}?q=${'x'.repeat(5000)}`, description: '客户数据表。'.repeat(5700) },
        }),
      ]).json,
    );
    assert.ok(content.endsWith(CUT_MARKER));
    assert.ok(Buffer.byteLength(content) > WECOM_LIMIT_BYTES - 4, 'cut at the limit, not before');
  });

  it('sends a batch as one message listing at most ten events, and how many more', () => {
    const content = weComContentOf(render('WECOM', manyEvents(15)).json);
    const lines = content.split('\n');
    assert.equal(lines[0], '### 15 events');
    const listed = lines.filter((l) => l.startsWith('>'));
    assert.equal(listed.length, 10);
    assert.equal(
      listed[3],
      '>**table sales.table3 updated by john.doe** · <font color="warning">WARN</font> · 2026-03-05T10:23:00.000Z · changed: tags, retention · [Open](https://catalog.example.com/table/table3)',
    );
    assert.ok(content.endsWith('\n\nand 5 more events'), content);
  });
});
