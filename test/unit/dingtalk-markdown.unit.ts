import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUT_MARKER } from '../../src/providers/text.js';
import { dingTalkMarkdownOf } from '../helpers/platforms.js';
import { makeEvent, makeWebhook, manyEvents, render, TABLE_URL } from './fixtures.js';

const SECRET = 'SEC0123456789abcdef';
// DingTalk's robot signing computed by the Python sample of its documentation ("自定义机器人安全设置",
// 加签): quote_plus(b64encode(hmac_sha256(key=secret, msg=f"{timestamp}\n{secret}"))), for this
// secret at 1700000000002 ms. It holds "+", "/" and "=", so it also shows they are encoded.
const SIGNED_AT = new Date(1_700_000_000_002);
const SIGN = 'VGvd0brDJp%2FnMZtR%2BXnA3yBIlhowT%2BTwkRPua0q1%2Fjg%3D';

const dingTalk = (endpoint: string) => makeWebhook({ webhookType: 'DINGTALK' }, { endpoint });

describe('DINGTALK: markdown robot messages', () => {
  it('says what happened, to which entity, by whom, when and what changed, with a link', () => {
    const { json, url } = render('DINGTALK');
    assert.equal(url, undefined, 'no secret: the endpoint as it is');
    assert.deepEqual(dingTalkMarkdownOf(json), {
      title: 'table snowflake_prod.sales.public.customers updated by john.doe',
      text: [
        '### table snowflake\\_prod.sales.public.customers updated by john.doe',
        '',
        '- **Event:** entityUpdated',
        '- **Entity:** table snowflake\\_prod.sales.public.customers',
        '- **By:** john.doe',
        '- **When:** 2026-03-05T10:23:00.000Z',
        '- **Level:** WARN',
        '- **Cluster:** prod',
        '- **Namespace:** sales',
        '',
        '**Changes**',
        '',
        '- **tags:** \\[\\] → \\[{"tagFQN":"PII.Sensitive"}\\]',
        '- **retention:** 30d → 90d',
        '',
        `[Open table](${TABLE_URL})`,
        '',
        'Customer information table',
      ].join('\n'),
    });
  });

  it('shows user text literally: markdown escaped, and no HTML tag opened', () => {
    const { json } = render('DINGTALK', [
      makeEvent({ data: { description: '<font color=red>**alarm**</font>' } }),
    ]);
    assert.ok(
      json.markdown.text.endsWith('<\u200bfont color=red\\>\\*\\*alarm\\*\\*<\u200b/font\\>'),
      json.markdown.text.slice(-60),
    );
  });

  it('escapes the entity type in the link label, so it cannot add a link of its own', () => {
    const event = makeEvent({ entityType: 'x](https://evil.example.com) [y' });
    const text = JSON.parse(render('DINGTALK', [event]).body).markdown.text as string;
    assert.ok(text.includes(`[Open x\\]\\(https://evil.example.com\\) \\[y](${TABLE_URL})`), text);
  });

  it('signs the URL as DingTalk documents, keeping the endpoint’s own parameters', () => {
    const { url, body } = render('DINGTALK', [makeEvent()], {
      webhook: dingTalk('https://oapi.dingtalk.com/robot/send?access_token=abc'),
      secret: SECRET,
      now: SIGNED_AT,
    });
    assert.equal(
      url,
      `https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000002&sign=${SIGN}`,
    );
    assert.equal(body, render('DINGTALK').body, 'the body is the same signed or not');
  });

  it('replaces a timestamp or sign already in the endpoint, and drops a fragment', () => {
    const { url } = render('DINGTALK', [makeEvent()], {
      webhook: dingTalk('https://oapi.dingtalk.com/robot/send?timestamp=1&access_token=a%2Bb&sign=old#frag'),
      secret: SECRET,
      now: SIGNED_AT,
    });
    assert.equal(
      url,
      `https://oapi.dingtalk.com/robot/send?access_token=a%2Bb&timestamp=1700000000002&sign=${SIGN}`,
    );
    const bare = render('DINGTALK', [makeEvent()], {
      webhook: dingTalk('https://oapi.dingtalk.com/robot/send'),
      secret: SECRET,
      now: SIGNED_AT,
    });
    assert.equal(bare.url, `https://oapi.dingtalk.com/robot/send?timestamp=1700000000002&sign=${SIGN}`);
  });

  it('shows a placeholder for the signature in a preview', () => {
    const { url } = render('DINGTALK', [makeEvent()], {
      webhook: dingTalk('https://oapi.dingtalk.com/robot/send?access_token=abc'),
      secret: SECRET,
      now: SIGNED_AT,
      preview: true,
    });
    assert.equal(
      url,
      'https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000002&sign=<signature computed at send time>',
    );
  });

  it('keeps an oversized event within the limits, shortened with the marker', () => {
    const changedFields = Array.from({ length: 200 }, (_, i) => ({
      name: `column_${i}`,
      oldValue: `old value ${i} `.repeat(50),
      newValue: `新的值 ${i} `.repeat(50),
    }));
    const { json } = render('DINGTALK', [
      makeEvent({
        entityFqn: `snowflake_prod.sales.public.${'very_long_table_name_'.repeat(80)}`,
        changedFields,
        data: { url: TABLE_URL, description: 'Customer data. '.repeat(7000) },
      }),
    ]);
    const { title, text } = dingTalkMarkdownOf(json);
    assert.equal(title.length, 64);
    assert.ok(title.endsWith(CUT_MARKER));
    assert.ok(text.length > 1000, 'something useful is left');
    assert.ok(text.includes(CUT_MARKER));
    assert.match(text, /\n- and \d+ more changed fields\n/);
    assert.ok(text.includes('- **By:** john.doe'));
    assert.ok(text.includes(`[Open table](${TABLE_URL})`), 'the link survives');
  });

  it('sends a batch as one message listing at most ten events, and how many more', () => {
    const { title, text } = dingTalkMarkdownOf(render('DINGTALK', manyEvents(15)).json);
    assert.equal(title, '15 events');
    const listed = text.split('\n').filter((l) => l.startsWith('- '));
    assert.equal(listed.length, 10);
    assert.equal(
      listed[3],
      '- **table sales.table3 updated by john.doe** · 2026-03-05T10:23:00.000Z · WARN · changed: tags, retention · [Open](https://catalog.example.com/table/table3)',
    );
    assert.ok(text.startsWith('### 15 events\n\n'));
    assert.ok(text.endsWith('\n\nand 5 more events'), text);
  });
});
