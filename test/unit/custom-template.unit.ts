import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyTooLarge, budget } from '../../src/providers/budget.js';
import { fillTemplate, templateProblem } from '../../src/providers/custom.js';
import { makeEvent, makeWebhook, manyEvents, render } from './fixtures.js';

const ROOTS =
  'eventId, eventType, timestamp, entity, changeDescription, webhookName, cluster, namespace, actor, level, data, summary';

describe('templateProblem: why a template cannot be used', () => {
  const cases: [string, unknown, string | null][] = [
    ['a good template', { text: '{{summary.headline}}', n: ['{{ data.items.0.name }}', 1, null] }, null],
    [
      'a placeholder that names nothing',
      { a: '{{secrets.key}}' },
      `a: {{secrets.key}} names nothing; a placeholder starts with one of ${ROOTS}`,
    ],
    ['an unclosed placeholder', { a: '{{ data.x' }, 'a: a placeholder is malformed; write {{path.to.field}}'],
    [
      'one bad placeholder among good ones',
      { a: '{{data.x}} and {{data.y' },
      'a: a placeholder is malformed; write {{path.to.field}}',
    ],
    [
      'a placeholder that is no path',
      { a: ['ok', '{{bad-ref}}'] },
      'a[1]: a placeholder is malformed; write {{path.to.field}}',
    ],
    [
      'a nested placeholder that names nothing',
      { a: { b: '{{nope}}' } },
      `a.b: {{nope}} names nothing; a placeholder starts with one of ${ROOTS}`,
    ],
    ['a placeholder in a key', { '{{eventType}}': 1 }, '{{eventType}}: placeholders are not allowed in keys'],
    [
      'a placeholder in a nested key',
      { a: { 'x{{level}}': 1 } },
      'a.x{{level}}: placeholders are not allowed in keys',
    ],
  ];
  for (const [name, template, problem] of cases) {
    it(`${name}: ${problem === null ? 'none' : 'refused'}`, () =>
      assert.equal(templateProblem(template), problem));
  }
});

describe('fillTemplate: the template walked as data', () => {
  const context = {
    data: { n: 3, list: ['a', 'b'], obj: { k: 'v' }, s: 'str', hostile: '"}, {{eventType}}' },
    eventType: 'e',
  };
  const fill = (template: unknown) => fillTemplate(template, context, budget(1_000_000));

  it('gives a whole-string placeholder the value itself, of any JSON type', () => {
    assert.deepEqual(fill({ n: '{{ data.n }}', o: '{{data.obj}}', i: '{{data.list.1}}' }), {
      n: 3,
      o: { k: 'v' },
      i: 'b',
    });
  });

  it('turns placeholders among other text into text, objects as compact JSON', () => {
    assert.deepEqual(fill({ a: 'n={{data.n}}', b: 'x {{data.obj}} y', c: '{{data.s}}{{data.s}}' }), {
      a: 'n=3',
      b: 'x {"k":"v"} y',
      c: 'strstr',
    });
  });

  it('gives null for a missing value, or a built-in one, and "" inside text', () => {
    assert.deepEqual(fill({ a: '{{data.none}}', b: '{{data.__proto__}}', c: 'x{{data.none}}y' }), {
      a: null,
      b: null,
      c: 'xy',
    });
  });

  it('keeps fixed values, and never expands placeholders found in the event’s data', () => {
    assert.deepEqual(fill({ h: 5, i: null, j: [true, 'fixed'], k: '{{data.hostile}}' }), {
      h: 5,
      i: null,
      j: [true, 'fixed'],
      k: '"}, {{eventType}}',
    });
  });

  it('stops with BodyTooLarge as soon as the filled document passes the limit', () => {
    const template = { copies: Array.from({ length: 1000 }, () => '{{data.big}}') };
    assert.throws(
      () => fillTemplate(template, { data: { big: 'x'.repeat(10_000) } }, budget(1_000_000)),
      BodyTooLarge,
    );
  });
});

describe('CUSTOM: the rendered body', () => {
  const template = {
    text: '{{summary.headline}}',
    entity: '{{entity}}',
    who: '{{actor.name}}',
    note: 'Note: {{data.description}} ({{level}})',
    missing: '{{data.nothing}}',
  };

  it('fills the template with the envelope and the summary', () => {
    const webhook = makeWebhook({ webhookType: 'CUSTOM' }, { template });
    assert.deepEqual(render('CUSTOM', [makeEvent()], { webhook }).json, {
      text: 'table snowflake_prod.sales.public.customers updated by john.doe',
      entity: {
        id: 't-42',
        type: 'table',
        fullyQualifiedName: 'snowflake_prod.sales.public.customers',
        description: 'Customer information table',
      },
      who: 'john.doe',
      note: 'Note: Customer information table (WARN)',
      missing: null,
    });
  });

  it('sends {"events": [...]} of filled documents to a webhook that batches', () => {
    const webhook = makeWebhook(
      { webhookType: 'CUSTOM', batchSize: 10 },
      { template: { id: '{{entity.id}}' } },
    );
    assert.deepEqual(render('CUSTOM', manyEvents(2), { webhook }).json, {
      events: [{ id: 't-0' }, { id: 't-1' }],
    });
  });

  it('refuses a body past maxBytes', () => {
    const webhook = makeWebhook({ webhookType: 'CUSTOM' }, { template: { d: '{{data}}' } });
    const big = makeEvent({ data: { blob: 'b'.repeat(5000) } });
    assert.throws(() => render('CUSTOM', [big], { webhook, maxBytes: 4096 }), {
      name: 'BodyTooLarge',
      message: 'the rendered request body would be larger than 4096 bytes (HOOKLINE_MAX_REQUEST_BYTES)',
    });
  });
});
