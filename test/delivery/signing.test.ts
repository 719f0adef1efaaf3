import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { backends } from '../helpers/db.js';
import { makeWebhookInput, WEBHOOK_FIELDS } from '../helpers/factories.js';
import { eventually, type Receiver, type Received, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id version config { hasSecret xSignature } } }`;
const PUBLISH = `mutation($input: PublishEventInput!) { publishEvent(input: $input) { id deliveries { id webhook { id } } } }`;
const ROTATE = `mutation($id: ID!) { rotateWebhookSecret(id: $id) }`;
const DELIVERIES = `query($webhookId: ID!) { deliveries(webhookId: $webhookId, first: 100) {
  edges { node { id event { id } } } } }`;
const ATTEMPTS = `query($id: ID!) { delivery(id: $id) { id status attempts { errorKind errorMessage requestHeaders } } }`;
const GET = `query($id: ID!) { webhook(id: $id) { ${WEBHOOK_FIELDS} config { xSignature }
  versions { version updatedBy updatedAt snapshot changeDescription { previousVersion
    fieldsAdded { name oldValue newValue } fieldsUpdated { name oldValue newValue } fieldsDeleted { name oldValue newValue } } } } }`;
const LIST = `query { webhooks(first: 100, filter: { includeDeleted: true }) { edges { node { ${WEBHOOK_FIELDS} } } } }`;

type Json = Record<string, unknown>;

const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;

/** The HMAC key a secret stands for: base64 after `whsec_`, else the string's UTF-8 bytes. */
const keyOf = (secret: string) =>
  secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');

const hmac = (secret: string, body: string) => createHmac('sha256', keyOf(secret)).update(body).digest();

/** Constant-time comparison of two digests, false (not a throw) when the lengths differ. */
const sameDigest = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

/** The digests of `X-Hookline-Signature: sha256=<hex>[ sha256=<hex>…]`. */
function hooklineDigests(header: string | undefined): Buffer[] {
  assert.ok(header, 'x-hookline-signature is present');
  return header.split(' ').map((part) => {
    const match = /^sha256=([0-9a-f]{64})$/.exec(part);
    assert.ok(match, `"${part}" is sha256=<hex>`);
    return Buffer.from(match[1] as string, 'hex');
  });
}

const SIGNATURE_HEADERS = ['webhook-signature', 'x-hookline-signature', 'x-signature'];

for (const backend of backends()) {
  describe(`Signed deliveries as a receiver verifies them (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let tempDir: string;
    const envVars: string[] = [];

    before(async () => {
      receiver = await startReceiver();
      server = await startServer(backend);
      tempDir = await mkdtemp(join(tmpdir(), 'hookline-signing-'));
    });
    after(async () => {
      await server?.stop();
      await receiver?.close();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
      for (const name of envVars) delete process.env[name];
    });

    const gql = async (query: string, variables: Json = {}) => {
      const res = await server.gql(query, variables);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return res.data;
    };

    /** A webhook that takes only events of its own type, so no other test's event reaches it. */
    const createHook = async (path: string, config: Json = {}) => {
      const eventType = `signing.${path}`;
      const input = makeWebhookInput({
        eventFilters: [{ eventTypes: [eventType] }],
        config: { endpoint: `${receiver.url}/${path}`, ...config },
      });
      const webhook = (await gql(CREATE, { input })).createWebhook as {
        id: string;
        version: number;
        config: { hasSecret: boolean; xSignature: boolean };
      };
      return { ...webhook, path, eventType };
    };

    /** Publishes an event the webhook takes; returns the event id and the delivery made for it. */
    const publishTo = async (hook: { id: string; eventType: string }) => {
      const event = (
        await gql(PUBLISH, {
          input: { eventType: hook.eventType, entityType: 'table', data: { note: 'signed — ✓ ünïcode' } },
        })
      ).publishEvent as { id: string; deliveries: { id: string; webhook: { id: string } }[] };
      const made = event.deliveries.filter((d) => d.webhook.id === hook.id);
      assert.equal(made.length, 1, `one delivery to the webhook: ${JSON.stringify(event.deliveries)}`);
      const deliveryId = (made[0] as (typeof made)[number]).id;
      assert.match(deliveryId, /^dlv_/);
      // The same delivery as the webhook's history lists.
      const edges = (await gql(DELIVERIES, { webhookId: hook.id })).deliveries.edges as {
        node: { id: string; event: { id: string } };
      }[];
      assert.deepEqual(
        edges.filter((e) => e.node.event.id === event.id).map((e) => e.node.id),
        [deliveryId],
      );
      return { eventId: event.id, deliveryId };
    };

    const receivedFor = async (path: string, eventId: string): Promise<Received> => {
      const match = (r: Received[]) => r.find((x) => x.path === `/${path}` && x.json?.eventId === eventId);
      await receiver.waitFor((r) => match(r) !== undefined, 15_000);
      return match(receiver.received) as Received;
    };

    it('signs with a whsec_ secret: standardwebhooks verifies it, and so does a plain HMAC of X-Hookline-Signature', async () => {
      const secret = whsec();
      const hook = await createHook('whsec', { secretKey: secret });
      assert.equal(hook.config.hasSecret, true);
      const { eventId, deliveryId } = await publishTo(hook);
      const req = await receivedFor(hook.path, eventId);

      const verified = new StandardWebhook(secret).verify(req.body, req.headers);
      assert.deepEqual(verified, JSON.parse(req.body));
      assert.ok(req.headers['webhook-id']?.startsWith('dlv_'));
      assert.equal(req.headers['webhook-id'], deliveryId);
      assert.match(req.headers['webhook-timestamp'] ?? '', /^\d+$/);
      assert.match(req.headers['webhook-signature'] ?? '', /^v1,[A-Za-z0-9+/]+={0,2}$/);

      const digests = hooklineDigests(req.headers['x-hookline-signature']);
      assert.equal(digests.length, 1);
      assert.ok(sameDigest(digests[0] as Buffer, hmac(secret, req.body)), 'X-Hookline-Signature verifies');
      // A different key does not verify: the check is not vacuous.
      assert.equal(sameDigest(digests[0] as Buffer, hmac(whsec(), req.body)), false);
      assert.throws(() => new StandardWebhook(whsec()).verify(req.body, req.headers), /signature/i);
      assert.equal(req.headers['x-signature'], undefined, 'no X-Signature unless asked for');
    });

    it('signs with a plain secret string, whose key is its UTF-8 bytes', async () => {
      const secret = 'plain-secret-ünïcode-0123456789';
      const hook = await createHook('plain', { secretKey: secret });
      const { eventId, deliveryId } = await publishTo(hook);
      const req = await receivedFor(hook.path, eventId);
      assert.equal(req.headers['webhook-id'], deliveryId);

      const digests = hooklineDigests(req.headers['x-hookline-signature']);
      assert.equal(digests.length, 1);
      const utf8 = createHmac('sha256', Buffer.from(secret, 'utf8')).update(req.body).digest();
      assert.ok(sameDigest(digests[0] as Buffer, utf8), 'X-Hookline-Signature verifies with the UTF-8 key');
      // standardwebhooks takes the raw key bytes too.
      const verified = new StandardWebhook(Buffer.from(secret, 'utf8'), { format: 'raw' }).verify(
        req.body,
        req.headers,
      );
      assert.deepEqual(verified, JSON.parse(req.body));
    });

    it('adds X-Signature (base64 HMAC-SHA256 of the body) when config.xSignature is true', async () => {
      const secret = whsec();
      const hook = await createHook('xsig', { secretKey: secret, xSignature: true });
      assert.equal(hook.config.xSignature, true);
      const { eventId } = await publishTo(hook);
      const req = await receivedFor(hook.path, eventId);

      const header = req.headers['x-signature'];
      assert.ok(header, 'x-signature is present');
      assert.match(header, /^[A-Za-z0-9+/]{43}=$/);
      assert.ok(sameDigest(Buffer.from(header, 'base64'), hmac(secret, req.body)), 'X-Signature verifies');
      // The other signatures are there as well.
      new StandardWebhook(secret).verify(req.body, req.headers);
      assert.ok(
        sameDigest(hooklineDigests(req.headers['x-hookline-signature'])[0] as Buffer, hmac(secret, req.body)),
      );
    });

    it('sends no signature header at all when the webhook has no secret', async () => {
      const hook = await createHook('unsigned', { xSignature: true });
      assert.equal(hook.config.hasSecret, false);
      const { eventId, deliveryId } = await publishTo(hook);
      const req = await receivedFor(hook.path, eventId);
      for (const name of SIGNATURE_HEADERS) assert.equal(req.headers[name], undefined, `${name} is absent`);
      assert.equal(req.headers['webhook-id'], deliveryId);
    });

    it('rotates the secret: the next delivery is signed with both, and the new secret is never shown again', async () => {
      const oldSecret = whsec();
      const hook = await createHook('rotate', { secretKey: oldSecret });
      assert.equal(hook.version, 0.1);

      const newSecret = (await gql(ROTATE, { id: hook.id })).rotateWebhookSecret as string;
      assert.match(newSecret, /^whsec_[A-Za-z0-9+/]+={0,2}$/);
      assert.ok(keyOf(newSecret).length >= 16, 'the new secret holds at least 16 bytes');
      assert.notEqual(newSecret, oldSecret);

      const { eventId, deliveryId } = await publishTo(hook);
      const req = await receivedFor(hook.path, eventId);
      assert.equal(req.headers['webhook-id'], deliveryId);

      const signatures = (req.headers['webhook-signature'] ?? '').split(' ');
      assert.equal(signatures.length, 2, `two signatures: ${req.headers['webhook-signature']}`);
      for (const s of signatures) assert.match(s, /^v1,[A-Za-z0-9+/]+={0,2}$/);
      for (const [which, secret] of [
        ['old', oldSecret],
        ['new', newSecret],
      ] as const) {
        const verified = new StandardWebhook(secret).verify(req.body, req.headers);
        assert.deepEqual(verified, JSON.parse(req.body), `the ${which} secret verifies`);
      }
      const digests = hooklineDigests(req.headers['x-hookline-signature']);
      assert.equal(digests.length, 2);
      for (const secret of [oldSecret, newSecret]) {
        assert.ok(digests.some((d) => sameDigest(d, hmac(secret, req.body))));
      }

      // The rotation is a change like any other: a new version, the secret masked.
      const got = await server.gql(GET, { id: hook.id });
      assert.equal(got.errors, undefined, JSON.stringify(got.errors));
      const webhook = got.data.webhook;
      assert.ok(webhook.version > hook.version, `version went up from ${hook.version} to ${webhook.version}`);
      assert.equal(webhook.version, 0.2);
      assert.equal(webhook.config.hasSecret, true);
      assert.deepEqual(webhook.changeDescription.fieldsUpdated, [
        { name: 'config.secretKey', oldValue: '********', newValue: '********' },
      ]);
      assert.equal(webhook.versions.length, 2);

      const attempts = await eventually(async () => {
        const d = (await gql(ATTEMPTS, { id: deliveryId })).delivery;
        return d.attempts.length ? d.attempts : undefined;
      });
      const responses = [
        got.text,
        (await server.gql(LIST)).text,
        (
          await server.gql(`query($id: ID!) { node(id: $id) { ... on Webhook { ${WEBHOOK_FIELDS} } } }`, {
            id: hook.id,
          })
        ).text,
        JSON.stringify(attempts),
      ].join('\n');
      for (const secret of [newSecret, oldSecret]) {
        assert.equal(responses.includes(secret), false, 'a response shows a secret');
        assert.equal(responses.includes(secret.slice(6)), false, "a response shows a secret's base64");
      }
    });

    it('reads the secret from an environment variable at send time (secretFrom.env)', async () => {
      const name = `HOOKLINE_SIGNING_TEST_${randomBytes(4).toString('hex').toUpperCase()}`;
      envVars.push(name);
      const secret = whsec();
      process.env[name] = secret;
      const hook = await createHook('from-env', { secretFrom: { env: name } });
      assert.equal(hook.config.hasSecret, true);
      const { eventId } = await publishTo(hook);
      const req = await receivedFor(hook.path, eventId);
      assert.deepEqual(new StandardWebhook(secret).verify(req.body, req.headers), JSON.parse(req.body));
      assert.ok(
        sameDigest(hooklineDigests(req.headers['x-hookline-signature'])[0] as Buffer, hmac(secret, req.body)),
      );

      // Read at each send: a new value signs the next delivery, without touching the webhook.
      const next = whsec();
      process.env[name] = next;
      const second = await publishTo(hook);
      const req2 = await receivedFor(hook.path, second.eventId);
      assert.deepEqual(new StandardWebhook(next).verify(req2.body, req2.headers), JSON.parse(req2.body));
      assert.throws(() => new StandardWebhook(secret).verify(req2.body, req2.headers), /signature/i);

      const shown = (await server.gql(GET, { id: hook.id })).text;
      assert.equal(shown.includes(secret.slice(6)) || shown.includes(next.slice(6)), false);
      assert.ok(shown.includes(name), 'the variable name is shown, its value never');
    });

    it('reads the secret from a file at send time (secretFrom.file)', async () => {
      const secret = whsec();
      const file = join(tempDir, 'signing-secret');
      await writeFile(file, `${secret}\n`, { mode: 0o600 });
      const hook = await createHook('from-file', { secretFrom: { file } });
      assert.equal(hook.config.hasSecret, true);
      const { eventId } = await publishTo(hook);
      const req = await receivedFor(hook.path, eventId);
      assert.deepEqual(new StandardWebhook(secret).verify(req.body, req.headers), JSON.parse(req.body));
      assert.ok(
        sameDigest(hooklineDigests(req.headers['x-hookline-signature'])[0] as Buffer, hmac(secret, req.body)),
      );
    });

    it('records a CONFIGURATION error and sends nothing when the secret variable is not set', async () => {
      const name = `HOOKLINE_SIGNING_UNSET_${randomBytes(4).toString('hex').toUpperCase()}`;
      delete process.env[name];
      const hook = await createHook('env-unset', { secretFrom: { env: name } });
      const { deliveryId } = await publishTo(hook);
      const attempt = await eventually(
        async () => {
          const d = (await gql(ATTEMPTS, { id: deliveryId })).delivery;
          return d.attempts[0] as { errorKind: string; errorMessage: string } | undefined;
        },
        15_000,
        'a recorded attempt',
      );
      assert.equal(attempt.errorKind, 'CONFIGURATION');
      assert.match(attempt.errorMessage, new RegExp(name));
      // The attempt is recorded after the request would have gone out: none went.
      assert.equal(
        receiver.received.some((x) => x.path === `/${hook.path}`),
        false,
        'the receiver got a request without a secret',
      );
    });
  });
}
