import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { eventually, type Receiver, type Received, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { version } }`;
const GET = `query($id: ID!) { webhook(id: $id) { version config { httpAuthType httpAuthUsername httpAuthSecretFrom { env file }
  headers { name value secret valueFrom { env file } } }
  versions { snapshot changeDescription { fieldsAdded { name newValue } fieldsUpdated { name oldValue newValue } fieldsDeleted { name oldValue } } } } }`;
const ATTEMPTS = `query($id: ID!) { delivery(id: $id) { attempts { errorKind errorMessage requestHeaders } } }`;
const COUNT = `{ webhooks(first: 0, filter: { includeDeleted: true }) { totalCount } }`;

type Json = Record<string, any>;

const varName = () => `HOOKLINE_SRC_TEST_${randomBytes(4).toString('hex').toUpperCase()}`;

for (const backend of backends()) {
  describe(`Basic password, Bearer token and header values from the environment or a file (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let dir: string;
    let userToken: string;
    const vars: string[] = [];

    before(async () => {
      receiver = await startReceiver();
      server = await startServer(backend);
      dir = await mkdtemp(join(tmpdir(), 'hookline-sources-'));
      const made = await server.gql(`mutation { createApiToken(name: "alice", role: ADMIN) }`);
      userToken = made.data.createApiToken;
    });
    after(async () => {
      await server?.stop();
      await receiver?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
      for (const name of vars) delete process.env[name];
    });

    const setVar = (value: string) => {
      const name = varName();
      vars.push(name);
      process.env[name] = value;
      return name;
    };

    const gql = async (query: string, variables: Json = {}) => {
      const res = await server.gql(query, variables);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return res.data;
    };

    const createHook = async (path: string, config: Json) =>
      (
        await gql(CREATE, {
          input: makeWebhookInput({
            eventFilters: [{ eventTypes: [`sources.${path}`] }],
            config: { endpoint: `${receiver.url}/${path}`, ...config },
          }),
        })
      ).createWebhook.id as string;

    const sendTo = async (path: string): Promise<{ deliveryId: string }> => {
      const res = await gql(
        `mutation($e: PublishEventInput!) { publishEvent(input: $e) { deliveries { id } } }`,
        {
          e: { eventType: `sources.${path}`, entityType: 'table' },
        },
      );
      return { deliveryId: res.publishEvent.deliveries[0].id };
    };

    const nextAt = async (path: string, count: number): Promise<Received> => {
      const found = await receiver.waitFor(
        (r) => r.filter((x) => x.path === `/${path}`).length >= count,
        15_000,
      );
      return found.filter((x) => x.path === `/${path}`)[count - 1] as Received;
    };

    it('sends a Bearer token read from an environment variable at each send, and never shows it', async () => {
      const token = `tok-${randomBytes(8).toString('hex')}`;
      const name = setVar(token);
      const id = await createHook('bearer-env', { httpAuth: { type: 'BEARER', tokenFrom: { env: name } } });
      const { deliveryId } = await sendTo('bearer-env');
      assert.equal((await nextAt('bearer-env', 1)).headers.authorization, `Bearer ${token}`);

      const rotated = `tok-${randomBytes(8).toString('hex')}`;
      process.env[name] = rotated;
      await sendTo('bearer-env');
      assert.equal((await nextAt('bearer-env', 2)).headers.authorization, `Bearer ${rotated}`);

      const shown = await server.gql(GET, { id });
      assert.deepEqual(shown.data.webhook.config.httpAuthSecretFrom, { env: name, file: null });
      const history = await server.gql(ATTEMPTS, { id: deliveryId });
      for (const text of [shown.text, history.text]) {
        assert.equal(text.includes(token) || text.includes(rotated), false, 'a response shows the token');
      }
      assert.equal(history.data.delivery.attempts[0].requestHeaders.authorization, 'Bearer ********');
    });

    it('sends a Basic password read from a file, and a header value read from a variable', async () => {
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const file = join(dir, 'basic-password');
      await writeFile(file, `${password}\n`, { mode: 0o600 });
      const apiKey = `key-${randomBytes(8).toString('hex')}`;
      const name = setVar(apiKey);
      const id = await createHook('basic-file', {
        httpAuth: { type: 'BASIC', username: 'hookline', passwordFrom: { file } },
        headers: [
          { name: 'X-Api-Key', valueFrom: { env: name } },
          { name: 'X-Team', value: 'data' },
        ],
      });
      await sendTo('basic-file');
      const req = await nextAt('basic-file', 1);
      assert.equal(
        req.headers.authorization,
        `Basic ${Buffer.from(`hookline:${password}`).toString('base64')}`,
      );
      assert.equal(req.headers['x-api-key'], apiKey);
      assert.equal(req.headers['x-team'], 'data');

      const webhook = (await gql(GET, { id })).webhook;
      assert.deepEqual(webhook.config.httpAuthSecretFrom, { env: null, file });
      assert.deepEqual(webhook.config.headers, [
        { name: 'X-Api-Key', value: null, secret: true, valueFrom: { env: name, file: null } },
        { name: 'X-Team', value: 'data', secret: false, valueFrom: null },
      ]);

      // A secret header sent again without a value keeps its reference; a stored password
      // replaces the file, and the change shows the reference going, never a value.
      await gql(UPDATE, {
        id,
        input: {
          config: {
            headers: [{ name: 'X-Api-Key', secret: true }],
            httpAuth: { type: 'BASIC', password: 'stored-password-1' },
          },
        },
      });
      const changed = (await gql(GET, { id })).webhook;
      assert.deepEqual(changed.config.headers, [
        { name: 'X-Api-Key', value: null, secret: true, valueFrom: { env: name, file: null } },
      ]);
      assert.equal(changed.config.httpAuthSecretFrom, null);
      const change = changed.versions[0].changeDescription;
      assert.deepEqual(
        change.fieldsDeleted.find((f: Json) => f.name === 'config.httpAuthSecretFrom'),
        { name: 'config.httpAuthSecretFrom', oldValue: { file } },
      );
      assert.equal(JSON.stringify(changed).includes('stored-password-1'), false);
      await sendTo('basic-file');
      const second = await nextAt('basic-file', 2);
      assert.equal(
        second.headers.authorization,
        `Basic ${Buffer.from('hookline:stored-password-1').toString('base64')}`,
      );
      assert.equal(second.headers['x-api-key'], apiKey);
    });

    it('records a CONFIGURATION error naming the variable, and sends nothing, when it is not set', async () => {
      const name = varName();
      await createHook('token-unset', { httpAuth: { type: 'BEARER', tokenFrom: { env: name } } });
      const { deliveryId } = await sendTo('token-unset');
      const attempt = await eventually(
        async () => (await gql(ATTEMPTS, { id: deliveryId })).delivery.attempts[0] as Json | undefined,
        15_000,
        'a recorded attempt',
      );
      assert.equal(attempt.errorKind, 'CONFIGURATION');
      assert.match(attempt.errorMessage, new RegExp(`${name} holding the Bearer token is not set`));
      assert.equal(
        receiver.received.some((x) => x.path === '/token-unset'),
        false,
      );
    });

    const bad: [string, Json, string][] = [
      [
        'both token and tokenFrom',
        { httpAuth: { type: 'BEARER', token: 't', tokenFrom: { env: 'X' } } },
        'config.httpAuth.tokenFrom',
      ],
      [
        'both password and passwordFrom',
        { httpAuth: { type: 'BASIC', username: 'u', password: 'p', passwordFrom: { env: 'X' } } },
        'config.httpAuth.passwordFrom',
      ],
      [
        'a reference naming both env and file',
        { httpAuth: { type: 'BEARER', tokenFrom: { env: 'X', file: '/x' } } },
        'config.httpAuth.tokenFrom',
      ],
      [
        'a reference naming neither',
        { httpAuth: { type: 'BASIC', username: 'u', passwordFrom: {} } },
        'config.httpAuth.passwordFrom',
      ],
      [
        'tokenFrom on BASIC',
        { httpAuth: { type: 'BASIC', username: 'u', password: 'p', tokenFrom: { env: 'X' } } },
        'config.httpAuth.tokenFrom',
      ],
      [
        'passwordFrom on BEARER',
        { httpAuth: { type: 'BEARER', token: 't', passwordFrom: { env: 'X' } } },
        'config.httpAuth.passwordFrom',
      ],
      [
        'a variable name that is not one',
        { httpAuth: { type: 'BEARER', tokenFrom: { env: 'A-B' } } },
        'config.httpAuth.tokenFrom.env',
      ],
      [
        'a relative file',
        { headers: [{ name: 'X-K', valueFrom: { file: 'secret.txt' } }] },
        'config.headers.0.valueFrom.file',
      ],
      [
        'both value and valueFrom',
        { headers: [{ name: 'X-K', value: 'v', valueFrom: { env: 'X' } }] },
        'config.headers.0.valueFrom',
      ],
      [
        'valueFrom on a header marked not secret',
        { headers: [{ name: 'X-K', secret: false, valueFrom: { env: 'X' } }] },
        'config.headers.0.secret',
      ],
    ];
    for (const [what, config, field] of bad) {
      it(`refuses ${what} with BAD_USER_INPUT on ${field}, creating nothing`, async () => {
        const before = (await gql(COUNT)).webhooks.totalCount;
        const res = await server.gql(CREATE, {
          input: makeWebhookInput({ config: { endpoint: 'https://receiver.example.com/x', ...config } }),
        });
        assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', res.text);
        assert.equal(res.errors?.[0]?.extensions?.field, field, res.text);
        assert.equal((await gql(COUNT)).webhooks.totalCount, before);
      });
    }

    const operatorOnly: [string, Json, string][] = [
      [
        'passwordFrom',
        { httpAuth: { type: 'BASIC', username: 'u', passwordFrom: { env: 'HOME' } } },
        'config.httpAuth.passwordFrom',
      ],
      [
        'tokenFrom',
        { httpAuth: { type: 'BEARER', tokenFrom: { file: '/etc/hostname' } } },
        'config.httpAuth.tokenFrom',
      ],
      [
        'valueFrom',
        {
          headers: [
            { name: 'X-Ok', value: '1' },
            { name: 'X-K', valueFrom: { env: 'HOME' } },
          ],
        },
        'config.headers.1.valueFrom',
      ],
    ];
    for (const [what, config, field] of operatorOnly) {
      it(`lets only the operator use ${what}: another ADMIN gets FORBIDDEN on ${field}, on create and update`, async () => {
        const before = (await gql(COUNT)).webhooks.totalCount;
        const input = makeWebhookInput({ config: { endpoint: 'https://receiver.example.com/x', ...config } });
        const res = await server.gql(CREATE, { input }, userToken);
        assert.equal(res.errors?.[0]?.extensions?.code, 'FORBIDDEN', res.text);
        assert.equal(res.errors?.[0]?.extensions?.field, field, res.text);
        assert.equal((await gql(COUNT)).webhooks.totalCount, before);

        const own = await server.gql(CREATE, { input: makeWebhookInput() }, userToken);
        const id = own.data.createWebhook.id;
        const upd = await server.gql(UPDATE, { id, input: { config } }, userToken);
        assert.equal(upd.errors?.[0]?.extensions?.code, 'FORBIDDEN', upd.text);
        assert.equal(upd.errors?.[0]?.extensions?.field, field, upd.text);
        assert.equal((await gql(GET, { id })).webhook.version, 0.1);
      });
    }
  });
}
