import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id version } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { version } }`;
const COUNT = `{ webhooks(first: 0, filter: { includeDeleted: true }) { totalCount } }`;

const withConfig = (config: Record<string, unknown>) =>
  makeWebhookInput({ config: { endpoint: 'https://receiver.example.com/x', ...config } });

/** Inputs that must be refused with BAD_USER_INPUT on `field`. */
const badCreates: [string, Record<string, unknown>, string][] = [
  ['empty name', makeWebhookInput({ name: '' }), 'name'],
  ['name of 129 characters', makeWebhookInput({ name: 'n'.repeat(129) }), 'name'],
  ['name with a space', makeWebhookInput({ name: 'has space' }), 'name'],
  ['name with a slash', makeWebhookInput({ name: 'a/b' }), 'name'],
  ['name with an emoji', makeWebhookInput({ name: 'hook🚀' }), 'name'],
  ['endpoint that is not a URL', withConfig({ endpoint: 'not a url' }), 'config.endpoint'],
  ['relative endpoint', withConfig({ endpoint: '/hooks' }), 'config.endpoint'],
  ['ftp endpoint', withConfig({ endpoint: 'ftp://files.example.com/x' }), 'config.endpoint'],
  ['javascript endpoint', withConfig({ endpoint: 'javascript:alert(1)' }), 'config.endpoint'],
  ['batchSize 0', makeWebhookInput({ batchSize: 0 }), 'batchSize'],
  ['batchSize 1001', makeWebhookInput({ batchSize: 1001 }), 'batchSize'],
  ['timeoutMs 99', withConfig({ timeoutMs: 99 }), 'config.timeoutMs'],
  ['timeoutMs 60001', withConfig({ timeoutMs: 60001 }), 'config.timeoutMs'],
  [
    'header name with a space',
    withConfig({ headers: [{ name: 'X Bad', value: 'v' }] }),
    'config.headers.0.name',
  ],
  [
    'header name with a colon',
    withConfig({ headers: [{ name: 'X-A:b', value: 'v' }] }),
    'config.headers.0.name',
  ],
  ['empty header name', withConfig({ headers: [{ name: '', value: 'v' }] }), 'config.headers.0.name'],
  [
    'header Hookline owns',
    withConfig({
      headers: [
        { name: 'ok', value: '1' },
        { name: 'Webhook-Signature', value: 'v1,x' },
      ],
    }),
    'config.headers.1.name',
  ],
  [
    'header value with CRLF',
    withConfig({ headers: [{ name: 'X-A', value: 'a\r\nX-B: b' }] }),
    'config.headers.0.value',
  ],
  [
    'the same header twice',
    withConfig({
      headers: [
        { name: 'X-A', value: '1' },
        { name: 'x-a', value: '2' },
      ],
    }),
    'config.headers.1.name',
  ],
  ['header without a value', withConfig({ headers: [{ name: 'X-A' }] }), 'config.headers.0.value'],
  ['unknown webhookType', makeWebhookInput({ webhookType: 'SMOKE_SIGNAL' }), 'webhookType'],
  [
    'filter values that are numbers',
    makeWebhookInput({ eventFilters: [{ eventTypes: [1, 2] }] }),
    'eventFilters.0.eventTypes.0',
  ],
  [
    'filter that is an object',
    makeWebhookInput({ eventFilters: [{ entities: { a: 1 } }] }),
    'eventFilters.0.entities',
  ],
  [
    'empty filter value',
    makeWebhookInput({ eventFilters: [{ entities: [''] }] }),
    'eventFilters.0.entities.0',
  ],
  ['unknown filter field', makeWebhookInput({ eventFilters: [{ tables: ['x'] }] }), 'eventFilters.0.tables'],
  ['missing endpoint', makeWebhookInput({ config: {} }), 'config.endpoint'],
  ['missing name', { ...makeWebhookInput(), name: undefined }, 'name'],
  [
    'BASIC auth without a password',
    withConfig({ httpAuth: { type: 'BASIC', username: 'u' } }),
    'config.httpAuth.password',
  ],
  ['BEARER auth without a token', withConfig({ httpAuth: { type: 'BEARER' } }), 'config.httpAuth.token'],
  [
    'secretKey and secretFrom together',
    withConfig({ secretKey: 'abcdefgh1', secretFrom: { env: 'X' } }),
    'config.secretFrom',
  ],
  [
    'whsec_ secret that is not base64',
    withConfig({ secretKey: 'whsec_***not-base64***' }),
    'config.secretKey',
  ],
  ['CUSTOM without a template', makeWebhookInput({ webhookType: 'CUSTOM' }), 'config.template'],
  [
    'negative retry delay',
    makeWebhookInput({ retryPolicy: { scheduleSeconds: [60, -1] } }),
    'retryPolicy.scheduleSeconds.1',
  ],
  ['owner of an unknown type', makeWebhookInput({ owner: { type: 'robot', name: 'r2' } }), 'owner.type'],
  [
    'endpoint with credentials in it',
    withConfig({ endpoint: 'https://user:hunter2@a.example.com/' }),
    'config.endpoint',
  ],
  ['secretKey with a NUL', withConfig({ secretKey: 'abcdefgh\u0000' }), 'config.secretKey'],
  [
    'secretFrom file with a NUL',
    withConfig({ secretFrom: { file: '/run/secret\u0000' } }),
    'config.secretFrom.file',
  ],
  [
    'template holding a NUL',
    makeWebhookInput({
      webhookType: 'CUSTOM',
      config: { endpoint: 'https://a.example.com', template: { a: 'x\u0000' } },
    }),
    'config.template',
  ],
  [
    'template nested 40 deep',
    makeWebhookInput({
      webhookType: 'CUSTOM',
      config: {
        endpoint: 'https://a.example.com',
        template: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`),
      },
    }),
    'config.template',
  ],
  [
    'description with an unpaired surrogate',
    makeWebhookInput({ description: 'broken \ud800 text' }),
    'description',
  ],
];

for (const backend of backends()) {
  describe(`Webhook input validation (${backend.name})`, () => {
    let server: TestServer;
    const count = async () => (await server.gql(COUNT)).data.webhooks.totalCount as number;

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await server?.stop();
    });

    for (const [label, input, field] of badCreates) {
      it(`refuses ${label} with BAD_USER_INPUT on ${field}, writing nothing`, async () => {
        const before = await count();
        const res = await server.gql(CREATE, { input });
        assert.equal(res.status < 500, true);
        assert.ok(!res.data?.createWebhook, 'nothing may be returned');
        const error = res.errors?.[0];
        assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(res.errors));
        assert.equal(error?.extensions?.field, field, JSON.stringify(res.errors));
        assert.ok(error?.message.length, 'the error says what is wrong');
        assert.equal(await count(), before);
      });
    }

    it('gives the same code and field for a bad value written inline in the document', async () => {
      const enumLiteral = await server.gql(
        `mutation { createWebhook(input: { name: "inline", webhookType: SMOKE_SIGNAL, config: { endpoint: "https://a.example.com" } }) { id } }`,
      );
      assert.equal(enumLiteral.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(enumLiteral.errors?.[0]?.extensions?.field, 'webhookType');
      const listLiteral = await server.gql(
        `mutation { createWebhook(input: { name: "inline", webhookType: GENERIC, eventFilters: [{ eventTypes: [1] }], config: { endpoint: "https://a.example.com" } }) { id } }`,
      );
      assert.equal(listLiteral.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(listLiteral.errors?.[0]?.extensions?.field, 'eventFilters.0.eventTypes.0');
      const missing = await server.gql(
        `mutation { createWebhook(input: { webhookType: GENERIC, config: { endpoint: "https://a.example.com" } }) { id } }`,
      );
      assert.equal(missing.errors?.[0]?.extensions?.field, 'name');
      assert.equal((await server.gql(`{ webhook(name: "inline") { id } }`)).data.webhook, null);
    });

    it('never echoes the input in a coercion error, and names the field even when a value holds "; "', async () => {
      const input = {
        ...makeWebhookInput(),
        name: undefined,
        config: { endpoint: 'https://a.example.com', secretKey: 'SUPERSECRETVALUE123; x' },
      };
      const res = await server.gql(CREATE, { input });
      assert.equal(res.errors?.[0]?.extensions?.field, 'name');
      assert.equal(res.text.includes('SUPERSECRETVALUE123'), false, res.text);
      const missingEndpoint = { ...makeWebhookInput(), config: { secretKey: 'abcd; efgh-ijkl' } };
      const res2 = await server.gql(CREATE, { input: missingEndpoint });
      assert.equal(res2.errors?.[0]?.extensions?.field, 'config.endpoint');
      assert.equal(res2.text.includes('efgh-ijkl'), false, res2.text);
      const bulk = await server.gql(
        `mutation($inputs: [CreateWebhookInput!]!) { createWebhooks(inputs: $inputs) { id } }`,
        {
          inputs: [makeWebhookInput(), missingEndpoint],
        },
      );
      assert.equal(bulk.errors?.[0]?.extensions?.field, 'config.endpoint');
      assert.equal(bulk.errors?.[0]?.extensions?.index, 1);
    });

    it('refuses credentials that cannot go into an Authorization header, on create and update, never echoing them', async () => {
      const MARK = 'S3CR3T-MARK';
      const cases: [Record<string, unknown>, string][] = [
        [{ type: 'BEARER', token: `${MARK}\r\nX-Evil: 1` }, 'config.httpAuth.token'],
        [{ type: 'BEARER', token: `${MARK}\u007f` }, 'config.httpAuth.token'],
        [{ type: 'BEARER', token: ` ${MARK}` }, 'config.httpAuth.token'],
        [{ type: 'BASIC', username: 'u', password: `${MARK}\r\nX-Evil: 1` }, 'config.httpAuth.password'],
        [{ type: 'BASIC', username: 'u', password: `${MARK}\u0007` }, 'config.httpAuth.password'],
        [{ type: 'BASIC', username: `${MARK}\nx`, password: 'p' }, 'config.httpAuth.username'],
        [{ type: 'BASIC', username: `${MARK}:x`, password: 'p' }, 'config.httpAuth.username'],
      ];
      const made = await server.gql(CREATE, {
        input: withConfig({ httpAuth: { type: 'BEARER', token: 'good-token' } }),
      });
      assert.equal(made.errors, undefined, JSON.stringify(made.errors));
      const id = made.data.createWebhook.id;
      const before = await count();
      for (const [httpAuth, field] of cases) {
        for (const res of [
          await server.gql(CREATE, { input: withConfig({ httpAuth }) }),
          await server.gql(UPDATE, { id, input: { config: { httpAuth } } }),
        ]) {
          const error = res.errors?.[0];
          assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(res.errors));
          assert.equal(error?.extensions?.field, field, JSON.stringify(res.errors));
          assert.match(error?.message ?? '', new RegExp(`^${field.replaceAll('.', '\\.')} `));
          assert.equal(res.text.includes(MARK), false, res.text);
        }
      }
      assert.equal(await count(), before);
      const now = await server.gql(
        `query($id: ID!) { webhook(id: $id) { version config { httpAuthType } } }`,
        {
          id,
        },
      );
      assert.deepEqual(now.data.webhook, { version: 0.1, config: { httpAuthType: 'BEARER' } });
      // Basic credentials are base64-encoded: spaces in them are fine.
      const spaced = await server.gql(CREATE, {
        input: withConfig({ httpAuth: { type: 'BASIC', username: 'Ann Smith', password: ' pass word ' } }),
      });
      assert.equal(spaced.errors, undefined, JSON.stringify(spaced.errors));
    });

    it('refuses more than 100 webhooks in one createWebhooks', async () => {
      const before = await count();
      const res = await server.gql(
        `mutation($inputs: [CreateWebhookInput!]!) { createWebhooks(inputs: $inputs) { id } }`,
        {
          inputs: Array.from({ length: 101 }, () => makeWebhookInput()),
        },
      );
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(res.errors?.[0]?.extensions?.field, 'inputs');
      assert.equal(await count(), before);
    });

    it('refuses filter and lookup values that cannot be stored, instead of failing inside SQL', async () => {
      const res = await server.gql(`query($f: WebhookFilter) { webhooks(filter: $f) { totalCount } }`, {
        f: { text: 'a\u0000' },
      });
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(res.errors?.[0]?.extensions?.field, 'filter.text');
      const lookup = await server.gql(`query($n: String) { webhook(name: $n) { id } }`, { n: 'a\u0000' });
      assert.equal(lookup.errors, undefined);
      assert.equal(lookup.data.webhook, null);
      const both = await server.gql(`{ webhooks(first: 3, last: 2) { totalCount } }`);
      assert.equal(both.errors?.[0]?.extensions?.field, 'last');
    });

    it('accepts names made of letters, digits, "_", "-" and "."', async () => {
      const res = await server.gql(CREATE, { input: makeWebhookInput({ name: 'Orders_v2-prod.eu' }) });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    });

    it('refuses a second webhook with a taken name with CONFLICT', async () => {
      const input = makeWebhookInput();
      assert.equal((await server.gql(CREATE, { input })).errors, undefined);
      const before = await count();
      const again = await server.gql(CREATE, { input: { ...input, description: 'another' } });
      assert.equal(again.errors?.[0]?.extensions?.code, 'CONFLICT');
      assert.equal(again.errors?.[0]?.extensions?.field, 'name');
      assert.equal(await count(), before);
    });

    it('refuses a rename onto a taken name and bad update values, leaving the webhook as it was', async () => {
      const a = (await server.gql(CREATE, { input: makeWebhookInput() })).data.createWebhook;
      const bInput = makeWebhookInput();
      await server.gql(CREATE, { input: bInput });
      const rename = await server.gql(UPDATE, { id: a.id, input: { name: bInput.name } });
      assert.equal(rename.errors?.[0]?.extensions?.code, 'CONFLICT');
      for (const [input, field] of [
        [{ batchSize: -3 }, 'batchSize'],
        [{ config: { endpoint: 'nope' } }, 'config.endpoint'],
        [{ config: { timeoutMs: 0 } }, 'config.timeoutMs'],
        [{ name: null }, 'name'],
        [{ webhookType: 'CUSTOM' }, 'config.template'],
        [{ config: { httpAuth: { type: 'BASIC', username: 'only-user' } } }, 'config.httpAuth.password'],
      ] as const) {
        const res = await server.gql(UPDATE, { id: a.id, input });
        assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(res.errors));
        assert.equal(res.errors?.[0]?.extensions?.field, field);
      }
      const now = await server.gql(`query($id: ID!) { webhook(id: $id) { version batchSize } }`, {
        id: a.id,
      });
      assert.deepEqual(now.data.webhook, { version: 0.1, batchSize: 1 });
    });

    it('answers NOT_FOUND for an unknown id and BAD_USER_INPUT for a malformed one', async () => {
      const unknown = 'wh_01900000-0000-7000-8000-000000000000';
      for (const query of [
        `mutation($id: ID!) { updateWebhook(id: $id, input: { description: "x" }) { id } }`,
        `mutation($id: ID!) { deleteWebhook(id: $id) }`,
        `mutation($id: ID!) { restoreWebhook(id: $id) { id } }`,
      ]) {
        const res = await server.gql(query, { id: unknown });
        assert.equal(res.errors?.[0]?.extensions?.code, 'NOT_FOUND', query);
        const bad = await server.gql(query, { id: 'not-an-id' });
        assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', query);
        assert.equal(bad.errors?.[0]?.extensions?.field, 'id');
      }
      const both = await server.gql(`{ webhook(id: "${unknown}", name: "x") { id } }`);
      assert.equal(both.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      const cursor = await server.gql(`{ webhooks(after: "garbage") { totalCount } }`);
      assert.equal(cursor.errors?.[0]?.extensions?.field, 'after');
      const page = await server.gql(`{ webhooks(first: -1) { totalCount } }`);
      assert.equal(page.errors?.[0]?.extensions?.field, 'first');
    });
  });
}
