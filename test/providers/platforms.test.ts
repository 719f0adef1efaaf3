import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CUT_MARKER } from '../../src/providers/text.js';
import { platformWebhook, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { tableUpdated, TABLE_URL } from '../helpers/factories.js';
import {
  assertDiscordMessage,
  assertSlackMessage,
  chatCardOf,
  chatWidgets,
  dingTalkMarkdownOf,
  feishuCardOf,
  feishuTexts,
  slackContextTexts,
  slackSectionTexts,
  slackTextObjects,
  TEAMS_LIMIT_BYTES,
  teamsCardOf,
  teamsFacts,
  teamsTexts,
  weComContentOf,
} from '../helpers/platforms.js';
import type { Received, Receiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * One end-to-end scenario for every chat platform: an event published through the API reaches
 * a receiver standing in for the platform, in the platform's own format, within its limits,
 * batched and signed as it documents. The renderers' exact output is checked by the unit tests
 * (test/unit/*-*.unit.ts); this checks what a receiver gets once stored events, the dispatcher
 * and the HTTP request are in the way.
 */
type Json = Record<string, any>;

interface Platform {
  type: string;
  /** The endpoint's path and query, which the request must keep. */
  path: string;
  contentType: string;
  /** The message's visible texts, after checking its shape and limits: a reader sees these. */
  texts(body: string): string[];
  /** Texts the message of `tableUpdated` must show, in this platform's markup. */
  shows(eventId: string, webhookName: string): string[];
  /** How it says who did it, which must survive any cut. */
  by: string;
  batch: {
    /** The batch message's title. */
    title(body: string): string;
    /** One entry for each event the batch message lists. */
    listed(body: string): string[];
    /** The line counting the events left out, or null when there is none. */
    more(body: string): string | null;
    /** How many of 15 events it lists, and how it titles and counts them. */
    expected: { title: string; listed: number; more: string | null };
  };
  /** For a platform with its own signing: checks it on a request sent between the two times. */
  signed?(got: Received, secret: string, sentBetween: [number, number]): void;
}

const HEADLINE = 'table snowflake_prod.sales.public.customers updated by john.doe';
const SECRET = 'SEC0123456789abcdef';
const PUBLISH_MANY = `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`;

const platforms: Platform[] = [
  {
    type: 'SLACK',
    path: '/services/T000/B000/XXXX',
    contentType: 'application/json',
    texts(body) {
      const json = JSON.parse(body);
      assertSlackMessage(json);
      return [json.text, ...slackTextObjects(json.blocks).map((t) => t.text)];
    },
    shows: (eventId, name) => [
      HEADLINE,
      `*Entity*\ntable <${TABLE_URL}|snowflake_prod.sales.public.customers>`,
      // The time in the reader's zone, the ISO text as fallback.
      '*When*\n<!date^1772706180^{date_short_pretty} {time_secs}|2026-03-05T10:23:00.000Z>',
      '*Level*\nWARN',
      '*tags*\n[] → [{"tagFQN":"PII.Sensitive"}]',
      '*retention*\n30d → 90d',
      'Customer information table',
      `:link: <${TABLE_URL}|Open table>`,
      `Hookline · ${name}`,
      `Event ${eventId}`,
    ],
    by: '*By*\njohn.doe',
    batch: {
      title: (body) => JSON.parse(body).blocks[0].text.text,
      listed: (body) => slackSectionTexts(JSON.parse(body).blocks),
      more: (body) => slackContextTexts(JSON.parse(body).blocks).find((t) => t.startsWith('and ')) ?? null,
      expected: { title: '15 events · slack-batch', listed: 15, more: null },
    },
  },
  {
    type: 'MSTEAMS',
    path: '/workflows/teams',
    contentType: 'application/json',
    texts(body) {
      assert.ok(Buffer.byteLength(body) < TEAMS_LIMIT_BYTES, `${Buffer.byteLength(body)} bytes fit Teams`);
      const content = teamsCardOf(JSON.parse(body));
      return [
        ...teamsTexts(content),
        ...teamsFacts(content).map((f) => `${f.title}: ${f.value}`),
        ...(content.actions ?? []).map((a: Json) => `${a.title} → ${a.url}`),
      ];
    },
    shows: () => [
      HEADLINE,
      'Entity: table snowflake_prod.sales.public.customers',
      'When: 2026-03-05T10:23:00.000Z',
      'Level: WARN',
      'tags: [] → [{"tagFQN":"PII.Sensitive"}]',
      'retention: 30d → 90d',
      'Customer information table',
      `Open table → ${TABLE_URL}`,
    ],
    by: 'By: john.doe',
    batch: {
      title: (body) => teamsTexts(teamsCardOf(JSON.parse(body)))[0] as string,
      listed: (body) =>
        teamsCardOf(JSON.parse(body))
          .body.filter((e: Json) => e.type === 'Container')
          .map((e: Json) => e.items.map((i: Json) => i.text).join('\n')),
      more: (body) => teamsTexts(teamsCardOf(JSON.parse(body))).find((t) => t.startsWith('and ')) ?? null,
      expected: { title: '15 events', listed: 15, more: null },
    },
  },
  {
    type: 'GOOGLECHAT',
    path: '/v1/spaces/AAA/messages?key=k&token=t',
    contentType: 'application/json',
    texts(body) {
      const card = chatCardOf(body);
      return [
        JSON.parse(body).text,
        card.header.title,
        card.header.subtitle,
        ...chatWidgets(card).flatMap((w) => [
          ...(w.decoratedText ? [`${w.decoratedText.topLabel}: ${w.decoratedText.text}`] : []),
          ...(w.textParagraph ? [w.textParagraph.text] : []),
          ...(w.buttonList?.buttons ?? []).map((b: Json) => `${b.text} → ${b.onClick.openLink.url}`),
        ]),
      ];
    },
    shows: (_, name) => [
      HEADLINE,
      `entityUpdated · 2026-03-05 10:23:00 UTC · ${name}`,
      'Entity: table snowflake_prod.sales.public.customers',
      'When: 2026-03-05 10:23:00 UTC',
      'Level: WARN',
      // Card text is HTML, so quotes are escaped to show as written.
      'tags: [] → [{&quot;tagFQN&quot;:&quot;PII.Sensitive&quot;}]',
      'retention: 30d → 90d',
      'Customer information table',
      `Open table → ${TABLE_URL}`,
    ],
    by: 'By: john.doe',
    batch: {
      title: (body) => chatCardOf(body).header.title,
      listed: (body) =>
        chatCardOf(body)
          .sections.filter((s: Json) => s.header)
          .map(
            (s: Json) =>
              `${s.header}\n${s.widgets[0].decoratedText.text}\n${s.widgets[0].decoratedText.button.onClick.openLink.url}`,
          ),
      more: (body) =>
        chatCardOf(body).sections.find((s: Json) => !s.header)?.widgets[0].textParagraph.text ?? null,
      expected: { title: '15 events', listed: 15, more: null },
    },
  },
  {
    type: 'DISCORD',
    path: '/api/webhooks/123/abc',
    contentType: 'application/json',
    texts(body) {
      const json = JSON.parse(body);
      assertDiscordMessage(json);
      return [
        ...(json.content === undefined ? [] : [json.content]),
        ...json.embeds.flatMap((e: Json) => [
          e.title,
          ...(e.url ? [`link: ${e.url}`] : []),
          ...(e.description ? [e.description] : []),
          ...(e.fields ?? []).map((f: Json) => `${f.name}: ${f.value}`),
          ...(e.footer ? [e.footer.text] : []),
        ]),
      ];
    },
    shows: (_, name) => [
      // Markdown characters in event text are escaped so they show as written.
      'table snowflake\\_prod.sales.public.customers updated by john.doe',
      `link: ${TABLE_URL}`,
      'Entity: table snowflake\\_prod.sales.public.customers',
      // Discord shows it in the reader's own time zone.
      'When: <t:1772706180:F>',
      'Level: WARN',
      'tags: \\[\\] → \\[{"tagFQN":"PII.Sensitive"}\\]',
      'retention: 30d → 90d',
      'Customer information table',
      `Hookline · ${name}`,
    ],
    by: 'By: john.doe',
    batch: {
      title: (body) => JSON.parse(body).content,
      listed: (body) => JSON.parse(body).embeds.map((e: Json) => `${e.title}\n${e.url}\n${e.description}`),
      more: (body) => JSON.parse(body).content,
      // Discord takes at most ten embeds; the rest are counted above them.
      expected: {
        title: '**15 events** · and 5 more events not shown',
        listed: 10,
        more: '**15 events** · and 5 more events not shown',
      },
    },
  },
  {
    type: 'DINGTALK',
    path: '/robot/send?access_token=abc',
    contentType: 'application/json',
    texts(body) {
      const { title, text } = dingTalkMarkdownOf(JSON.parse(body));
      return [title, ...text.split('\n')];
    },
    shows: () => [
      HEADLINE,
      '### table snowflake\\_prod.sales.public.customers updated by john.doe',
      '- **Entity:** table snowflake\\_prod.sales.public.customers',
      '- **When:** 2026-03-05T10:23:00.000Z',
      '- **Level:** WARN',
      '- **tags:** \\[\\] → \\[{"tagFQN":"PII.Sensitive"}\\]',
      '- **retention:** 30d → 90d',
      `[Open table](${TABLE_URL})`,
      'Customer information table',
    ],
    by: '- **By:** john.doe',
    batch: {
      title: (body) => dingTalkMarkdownOf(JSON.parse(body)).title,
      listed: (body) =>
        dingTalkMarkdownOf(JSON.parse(body))
          .text.split('\n')
          .filter((l) => l.startsWith('- ')),
      more: (body) => dingTalkMarkdownOf(JSON.parse(body)).text.split('\n\n').at(-1) ?? null,
      expected: { title: '15 events', listed: 10, more: 'and 5 more events' },
    },
    /** DingTalk's robot signing as it documents it: sign = base64(HMAC-SHA256(secret, timestamp + "\n" + secret)), URL-encoded. */
    signed(got, secret, [from, to]) {
      const url = new URL(got.path, 'http://receiver');
      assert.equal(url.pathname, '/robot/send');
      assert.deepEqual([...url.searchParams.keys()], ['access_token', 'timestamp', 'sign']);
      assert.equal(url.searchParams.get('access_token'), 'abc', 'the access token is kept');
      const timestamp = url.searchParams.get('timestamp') ?? '';
      assert.match(timestamp, /^\d{13}$/, 'milliseconds');
      assert.ok(Number(timestamp) >= from - 1000 && Number(timestamp) <= to + 1000, 'the time of sending');
      // URL-encoded base64: no raw "+", "/" or "=" in the query.
      const rawSign = /[?&]sign=([^&]*)/.exec(got.path)?.[1] ?? '';
      assert.match(rawSign, /^[A-Za-z0-9%]+$/);
      const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
        .update(`${timestamp}\n${secret}`)
        .digest();
      const sign = Buffer.from(decodeURIComponent(rawSign), 'base64');
      assert.ok(sign.length === expected.length && timingSafeEqual(sign, expected), 'the signature verifies');
    },
  },
  {
    type: 'FEISHU',
    path: '/open-apis/bot/v2/hook/abc',
    contentType: 'application/json',
    texts(body) {
      const card = feishuCardOf(body);
      return [
        card.header.title.content,
        ...feishuTexts(card),
        ...card.elements
          .filter((e: Json) => e.tag === 'action')
          .flatMap((e: Json) => e.actions.map((a: Json) => `${a.text.content} → ${a.url}`)),
      ];
    },
    shows: () => [
      HEADLINE,
      '**Entity**\ntable snowflake\\_prod.sales.public.customers',
      '**When**\n2026-03-05T10:23:00.000Z',
      '**Level**\nWARN',
      '**Changes**\n- **tags**: \\[\\] → \\[{"tagFQN":"PII.Sensitive"}\\]\n- **retention**: 30d → 90d',
      'Customer information table',
      `Open table → ${TABLE_URL}`,
    ],
    by: '**By**\njohn.doe',
    batch: {
      title: (body) => feishuCardOf(body).header.title.content,
      listed: (body) => feishuTexts(feishuCardOf(body)),
      more: (body) =>
        feishuCardOf(body).elements.find((e: Json) => e.tag === 'note')?.elements[0].content ?? null,
      expected: { title: '15 events', listed: 15, more: null },
    },
    /** Feishu's bot signing as it documents it: sign = base64(HMAC-SHA256(key: timestamp + "\n" + secret, data: "")). */
    signed(got, secret, [from, to]) {
      assert.equal(got.path, '/open-apis/bot/v2/hook/abc', 'signed in the body, not the URL');
      const { timestamp, sign } = got.json;
      assert.match(timestamp, /^\d{10}$/, 'seconds');
      assert.ok(
        Number(timestamp) >= Math.floor(from / 1000) - 1 && Number(timestamp) <= to / 1000 + 1,
        'the time of sending',
      );
      assert.match(sign, /^[A-Za-z0-9+/]+=*$/, 'base64');
      const expected = createHmac('sha256', Buffer.from(`${timestamp}\n${secret}`, 'utf8'))
        .update('')
        .digest();
      const received = Buffer.from(sign, 'base64');
      assert.ok(
        received.length === expected.length && timingSafeEqual(received, expected),
        'the signature verifies',
      );
    },
  },
  {
    type: 'WECOM',
    path: '/cgi-bin/webhook/send?key=abc',
    contentType: 'application/json',
    texts: (body) => weComContentOf(JSON.parse(body)).split('\n'),
    shows: () => [
      '### table snowflake\\_prod.sales.public.customers updated by john.doe',
      '>Entity: <font color="comment">table snowflake\\_prod.sales.public.customers</font>',
      '>When: <font color="comment">2026-03-05T10:23:00.000Z</font>',
      '>Level: <font color="warning">WARN</font>',
      '>tags: \\[\\] → \\[{"tagFQN":"PII.Sensitive"}\\]',
      '>retention: 30d → 90d',
      `[Open table](${TABLE_URL})`,
      'Customer information table',
    ],
    by: '>By: <font color="comment">john.doe</font>',
    batch: {
      title: (body) => weComContentOf(JSON.parse(body)).split('\n')[0] as string,
      listed: (body) =>
        weComContentOf(JSON.parse(body))
          .split('\n')
          .filter((l) => l.startsWith('>')),
      more: (body) => weComContentOf(JSON.parse(body)).split('\n\n').at(-1) ?? null,
      expected: { title: '### 15 events', listed: 10, more: 'and 5 more events' },
    },
  },
];

/** The first request a receiver gets. */
const first = async (receiver: Receiver) => (await receiver.waitForCount(1))[0] as Received;

/** An event past every platform's limits: a long name, 200 long changed fields, 100 KB of text. */
const oversized = (cluster: string) =>
  tableUpdated(cluster, {
    entityFqn: `snowflake_prod.sales.public.${'very_long_table_name_'.repeat(80)}`,
    changedFields: Array.from({ length: 200 }, (_, i) => ({
      name: `column_${i}`,
      oldValue: `old <value> & ${i} `.repeat(50),
      newValue: `新的值 ${i} `.repeat(50),
    })),
    data: { url: TABLE_URL, description: '客户数据 <&>. '.repeat(4000) },
  });

for (const backend of backends()) {
  // Each case has its own receiver and a webhook for its own cluster, so they run side by side.
  describe(`chat platforms end to end (${backend.name})`, { concurrency: true }, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    for (const platform of platforms) {
      const name = platform.type.toLowerCase();
      const webhook = (cluster: string, overrides: Record<string, unknown> = {}) =>
        platformWebhook(server, receivers, platform.type, platform.path, cluster, {
          name: cluster,
          ...overrides,
        });

      it(`${platform.type}: posts an event to the endpoint as the platform's message: what happened, to which entity, by whom, when, what changed, with a link`, async () => {
        const receiver = await webhook(`${name}-one`);
        const event = await publish(server, tableUpdated(`${name}-one`));
        const got = await first(receiver);
        assert.equal(got.method, 'POST');
        assert.equal(got.path, platform.path);
        assert.equal(got.headers['content-type'], platform.contentType);
        const texts = platform.texts(got.body);
        for (const text of [...platform.shows(event.id, `${name}-one`), platform.by]) {
          assert.ok(texts.includes(text), `${JSON.stringify(text)} in ${JSON.stringify(texts, null, 1)}`);
        }
      });

      it(`${platform.type}: keeps an oversized event within the platform's limits, shortened with the marker`, async () => {
        const receiver = await webhook(`${name}-big`);
        await publish(server, oversized(`${name}-big`));
        const got = await first(receiver);
        const texts = platform.texts(got.body);
        assert.ok(got.body.includes(CUT_MARKER), 'something was cut, and says so');
        assert.ok(Buffer.byteLength(got.body) > 2000, 'something useful is left');
        assert.ok(texts.includes(platform.by), 'who did it is still there');
      });

      it(`${platform.type}: sends a batch as one message listing the events`, async () => {
        const receiver = await webhook(`${name}-batch`, { batchSize: 20, retryPolicy: { throttleMs: 500 } });
        const inputs = Array.from({ length: 15 }, (_, i) =>
          tableUpdated(`${name}-batch`, {
            entityId: `t-${i}`,
            entityFqn: `sales.table${i}`,
            data: { url: `https://catalog.example.com/table/table${i}` },
          }),
        );
        const res = await server.gql(PUBLISH_MANY, { inputs });
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        const { body } = await first(receiver);
        const { expected } = platform.batch;
        assert.equal(platform.batch.title(body), expected.title);
        const listed = platform.batch.listed(body);
        assert.equal(listed.length, expected.listed);
        listed.forEach((entry, i) => {
          assert.ok(
            entry.includes(`table sales.table${i} updated by john.doe`),
            `event ${i} in order: ${entry}`,
          );
          assert.ok(
            entry.includes(`https://catalog.example.com/table/table${i}`),
            `event ${i} links to its table`,
          );
          assert.ok(entry.includes('retention'), `event ${i} says what changed`);
        });
        assert.equal(platform.batch.more(body), expected.more);
        assert.equal(receiver.received.length, 1, 'one request for the whole batch');
      });

      if (platform.signed) {
        const signed = platform.signed;
        it(`${platform.type}: signs the request as the platform documents when the webhook has a secret`, async () => {
          const receiver = await webhook(`${name}-signed`, { config: { secretKey: SECRET } });
          const before = Date.now();
          await publish(server, tableUpdated(`${name}-signed`));
          const got = await first(receiver);
          signed(got, SECRET, [before, got.receivedAt]);
          assert.ok(platform.texts(got.body).includes(HEADLINE), 'the same message, signed');
        });
      }
    }
  });
}
