import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUT_MARKER } from '../../src/providers/text.js';
import { feishuCardOf, feishuTexts } from '../helpers/platforms.js';
import { EVENT_ID, makeEvent, manyEvents, render, TABLE_URL } from './fixtures.js';

const SECRET = 'SEC0123456789abcdef';
// Feishu's custom bot signing computed by the Python sample of its documentation (自定义机器人
// 使用指南, 签名校验): b64encode(hmac_sha256(key=f"{timestamp}\n{secret}", msg=b"")), for this
// secret at 1700000000 s.
const SIGNED_AT = new Date(1_700_000_000_002);
const SIGN = 'PiO7POLlSx/DM2qf8Dy/XCWeJK3exVnevp5G99LEN2M=';

const lark = (content: string) => ({ tag: 'lark_md', content });
const fact = (title: string, value: string) => ({ is_short: true, text: lark(`**${title}**\n${value}`) });

describe('FEISHU: interactive card messages', () => {
  it('says what happened, to which entity, by whom, when and what changed, with a link', () => {
    const { json, body, url } = render('FEISHU', [makeEvent({ level: 'ERROR' })]);
    assert.equal(url, undefined);
    feishuCardOf(body);
    assert.deepEqual(json, {
      msg_type: 'interactive',
      card: {
        config: { wide_screen_mode: true },
        header: {
          title: {
            tag: 'plain_text',
            content: 'table snowflake_prod.sales.public.customers updated by john.doe',
          },
          template: 'red',
        },
        elements: [
          {
            tag: 'div',
            fields: [
              fact('Event', 'entityUpdated'),
              fact('Entity', 'table snowflake\\_prod.sales.public.customers'),
              fact('By', 'john.doe'),
              fact('When', '2026-03-05T10:23:00.000Z'),
              fact('Level', 'ERROR'),
              fact('Cluster', 'prod'),
              fact('Namespace', 'sales'),
            ],
          },
          {
            tag: 'div',
            text: lark(
              '**Changes**\n- **tags**: \\[\\] → \\[{"tagFQN":"PII.Sensitive"}\\]\n- **retention**: 30d → 90d',
            ),
          },
          { tag: 'hr' },
          { tag: 'div', text: lark('Customer information table') },
          {
            tag: 'action',
            actions: [
              {
                tag: 'button',
                text: { tag: 'plain_text', content: 'Open table' },
                url: TABLE_URL,
                type: 'default',
              },
            ],
          },
          { tag: 'note', elements: [{ tag: 'plain_text', content: `entityUpdated · evt_${EVENT_ID}` }] },
        ],
      },
    });
  });

  it('colours the header by level', () => {
    const template = (level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR') =>
      render('FEISHU', [makeEvent({ level })]).json.card.header.template;
    assert.deepEqual((['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const).map(template), [
      'grey',
      'grey',
      'blue',
      'orange',
      'red',
    ]);
  });

  it('keeps Feishu’s own tags out of user text, so no one is pinged', () => {
    const { json } = render('FEISHU', [makeEvent({ data: { description: '<at id=all></at> *hi*' } })]);
    assert.ok(feishuTexts(json.card).includes('&lt;at id=all&gt;&lt;/at&gt; \\*hi\\*'));
  });

  it('signs the body as Feishu documents: timestamp in seconds and sign', () => {
    const { json, url } = render('FEISHU', [makeEvent()], { secret: SECRET, now: SIGNED_AT });
    assert.equal(url, undefined, 'the endpoint as it is');
    assert.deepEqual(Object.keys(json), ['timestamp', 'sign', 'msg_type', 'card']);
    assert.equal(json.timestamp, '1700000000');
    assert.equal(json.sign, SIGN);
  });

  it('shows a placeholder for the signature in a preview', () => {
    const { json } = render('FEISHU', [makeEvent()], { secret: SECRET, now: SIGNED_AT, preview: true });
    assert.equal(json.timestamp, '1700000000');
    assert.equal(json.sign, '<signature computed at send time>');
  });

  it('keeps an oversized event within the card limit, shortened with the marker', () => {
    const changedFields = Array.from({ length: 200 }, (_, i) => ({
      name: `column_${i}`,
      oldValue: `old value ${i} `.repeat(50),
      newValue: `新的值 ${i} `.repeat(50),
    }));
    const { body } = render('FEISHU', [
      makeEvent({
        entityFqn: `snowflake_prod.sales.public.${'very_long_table_name_'.repeat(80)}`,
        changedFields,
        data: { url: TABLE_URL, description: '客户数据表。'.repeat(5700) },
      }),
    ]);
    assert.ok(Buffer.byteLength(body) > 2000, 'something useful is left');
    const card = feishuCardOf(body);
    assert.equal(card.header.title.content.length, 100);
    assert.ok(card.header.title.content.endsWith(CUT_MARKER));
    const texts = feishuTexts(card);
    assert.ok(texts.some((t) => t.startsWith('客户数据表。') && t.endsWith(CUT_MARKER)));
    const changes = texts.find((t) => t.startsWith('**Changes**')) ?? '';
    assert.ok(changes.includes(CUT_MARKER), 'long values are cut with the marker');
    assert.match(changes, /\nand \d+ more changed fields$/);
    assert.ok(texts.includes('**By**\njohn.doe'));
    assert.ok(
      card.elements.some((e: { tag: string }) => e.tag === 'action'),
      'the link survives',
    );
  });

  it('sends a batch as one card listing the events, coloured by the worst level', () => {
    const events = manyEvents(15, (i) => ({ level: i === 3 ? 'ERROR' : 'INFO' }));
    const card = feishuCardOf(render('FEISHU', events).body);
    assert.equal(card.header.title.content, '15 events');
    assert.equal(card.header.template, 'red');
    const texts = feishuTexts(card);
    assert.equal(texts.length, 15, 'all 15 listed');
    assert.equal(
      texts[3],
      '**table sales.table3 updated by john.doe**\n2026-03-05T10:23:00.000Z · ERROR · changed: tags, retention · [Open](https://catalog.example.com/table/table3)',
    );
    assert.equal(JSON.stringify(card).includes('more events'), false);
  });

  it('lists at most twenty events of a batch, then "and N more"', () => {
    const card = feishuCardOf(render('FEISHU', manyEvents(25)).body);
    assert.equal(feishuTexts(card).length, 20);
    assert.deepEqual(card.elements.at(-1), {
      tag: 'note',
      elements: [{ tag: 'plain_text', content: 'and 5 more events' }],
    });
  });
});
