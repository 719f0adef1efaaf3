import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'graphql-ws';
import { publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { type Collected, collect, openSubscriptions, subscriptionsOpen, wsClient } from '../helpers/live.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const LOGS = 'subscription($w: ID) { deliveryLogs(webhookId: $w) { id webhook { id } } }';
const STATUS = 'subscription { webhookStatusChanged { id status } }';

/** An SSE subscription over plain fetch: its status, and every `next` payload as it comes. */
interface Stream {
  status: number;
  events: any[];
  /** Resolves once the server ended the stream (or it was aborted). */
  ended: Promise<void>;
  close(): void;
}

async function sse(url: string, token: string, query: string, variables = {}): Promise<Stream> {
  const controller = new AbortController();
  // Bounds the stream's life even if the test forgets to close it.
  const guard = setTimeout(() => controller.abort(), 60_000);
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const events: any[] = [];
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data:'));
        if (frame.startsWith('event: next') && data) events.push(JSON.parse(data.slice(5)));
      }
    }
  })()
    .catch(() => {})
    .finally(() => clearTimeout(guard));
  return { status: res.status, events, ended, close: () => controller.abort() };
}

/** Waits until the server counts exactly `n` open subscriptions (ends are noticed asynchronously). */
const exactlyOpen = (url: string, n: number) =>
  eventually(
    async () => ((await openSubscriptions(url)) === n ? true : undefined),
    10_000,
    `exactly ${n} open subscriptions`,
  );

/** The error a refused graphql-ws subscription ends with. */
async function refusal(sub: Collected<unknown>) {
  await eventually(async () => (sub.errors.length ? true : undefined), 10_000, 'a refusal');
  await sub.done;
  assert.deepEqual(sub.items, []);
  return sub.errors[0] as { message: string; extensions: { code: string; limit?: number } };
}

for (const backend of backends()) {
  describe(`limits on open subscriptions (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    const clients: Client[] = [];
    const streams: Stream[] = [];
    const tokenNamed = async (name: string) => {
      const made = await server.gql(`mutation($n: String!) { createApiToken(name: $n, role: USER) }`, {
        n: name,
      });
      return made.data.createApiToken as string;
    };
    const client = (token: string) => {
      const c = wsClient(server.url, token);
      clients.push(c);
      return c;
    };

    before(async () => {
      server = await startServer(backend, {
        HOOKLINE_MAX_SUBSCRIPTIONS_PER_TOKEN: '3',
        HOOKLINE_MAX_SUBSCRIPTIONS: '5',
      });
      receiver = await startReceiver();
    });
    after(async () => {
      for (const s of streams) s.close();
      await Promise.all(clients.map((c) => c.dispose()));
      await receiver?.close();
      await server?.stop();
    });

    it('refuses a token its 4th subscription over graphql-ws, keeps its others and its socket, and frees slots as they end', async () => {
      const alice = await tokenNamed('ws-alice');
      const bob = await tokenNamed('ws-bob');
      const made = await server.gql(
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
        {
          input: makeWebhookInput({
            config: { endpoint: `${receiver.url}/ws` },
            eventFilters: [{ eventTypes: ['limits.ws'] }],
          }),
        },
        alice,
      );
      const webhookId = made.data.createWebhook.id as string;

      const socket = client(alice);
      const kept = [collect(socket, LOGS, { w: webhookId }), collect(socket, LOGS, { w: webhookId })];
      const status = collect(socket, STATUS);
      await subscriptionsOpen(server.url, 3);

      const refused = await refusal(collect(socket, LOGS, { w: webhookId }));
      assert.equal(refused.extensions.code, 'TOO_MANY_SUBSCRIPTIONS');
      assert.equal(refused.extensions.limit, 3);
      assert.match(refused.message, /3 subscriptions open.*HOOKLINE_MAX_SUBSCRIPTIONS_PER_TOKEN/);
      // Another token is not held to alice's count.
      const bobs = collect(client(bob), LOGS);
      await exactlyOpen(server.url, 4);

      // The socket and alice's other subscriptions go on as before.
      // A USER's webhook hears only of what its owner owns.
      await publish(server, { eventType: 'limits.ws', data: { owner: 'ws-alice' } });
      for (const sub of kept) {
        await eventually(async () => (sub.items.length ? true : undefined), 15_000, 'the attempt');
        assert.deepEqual(sub.errors, []);
      }

      // Ending one frees its slot for the next, on the same socket.
      status.stop();
      await exactlyOpen(server.url, 3);
      const next = collect(socket, STATUS);
      await exactlyOpen(server.url, 4);
      assert.deepEqual(next.errors, []);

      // Dropping the socket frees all three: three new ones are accepted, and a 4th is not.
      await socket.dispose();
      await exactlyOpen(server.url, 1);
      const again = client(alice);
      const three = [collect(again, STATUS), collect(again, LOGS), collect(again, STATUS)];
      await exactlyOpen(server.url, 4);
      for (const sub of three) assert.deepEqual(sub.errors, []);
      assert.equal((await refusal(collect(again, STATUS))).extensions.code, 'TOO_MANY_SUBSCRIPTIONS');

      bobs.stop();
      await again.dispose();
      await exactlyOpen(server.url, 0);
    });

    it('refuses a token its 4th subscription over SSE with 429, counting its graphql-ws ones too, and frees slots as streams end', async () => {
      const carol = await tokenNamed('sse-carol');
      const first = [await sse(server.url, carol, STATUS), await sse(server.url, carol, LOGS)];
      streams.push(...first);
      for (const s of first) assert.equal(s.status, 200);
      const socket = client(carol);
      const overWs = collect(socket, STATUS);
      await exactlyOpen(server.url, 3);

      const refused = await sse(server.url, carol, LOGS);
      assert.equal(refused.status, 429);
      await refused.ended;
      assert.equal(refused.events.length, 1);
      assert.equal(refused.events[0].errors[0].extensions.code, 'TOO_MANY_SUBSCRIPTIONS');
      assert.match(refused.events[0].errors[0].message, /HOOKLINE_MAX_SUBSCRIPTIONS_PER_TOKEN/);
      assert.equal(refused.events[0].data, undefined);

      // A client that goes away frees its slot.
      first[0]!.close();
      await exactlyOpen(server.url, 2);
      const next = await sse(server.url, carol, STATUS);
      streams.push(next);
      assert.equal(next.status, 200);
      await exactlyOpen(server.url, 3);

      // After closing all three, three new ones are accepted, and a 4th is not.
      first[1]!.close();
      next.close();
      overWs.stop();
      await exactlyOpen(server.url, 0);
      const three = [
        await sse(server.url, carol, LOGS),
        await sse(server.url, carol, STATUS),
        await sse(server.url, carol, LOGS),
      ];
      streams.push(...three);
      assert.deepEqual(
        three.map((s) => s.status),
        [200, 200, 200],
      );
      assert.equal((await sse(server.url, carol, LOGS)).status, 429);
      for (const s of three) s.close();
      await exactlyOpen(server.url, 0);
    });

    it('caps the process as a whole, and a revoked token gives its slots back', async () => {
      const dave = await tokenNamed('cap-dave');
      const erin = await tokenNamed('cap-erin');
      const frank = await tokenNamed('cap-frank');
      const daves = client(dave);
      const closed = new Promise<number>((resolve) =>
        daves.on('closed', (e) => resolve((e as { code: number }).code)),
      );
      for (let i = 0; i < 3; i++) collect(daves, STATUS);
      const erins = client(erin);
      collect(erins, STATUS);
      collect(erins, LOGS);
      await exactlyOpen(server.url, 5);

      const refused = await refusal(collect(client(frank), STATUS));
      assert.equal(refused.extensions.code, 'TOO_MANY_SUBSCRIPTIONS');
      assert.equal(refused.extensions.limit, 5);
      assert.match(refused.message, /HOOKLINE_MAX_SUBSCRIPTIONS\b/);
      const overSse = await sse(server.url, frank, STATUS);
      assert.equal(overSse.status, 429);

      const tokens = await server.gql('{ apiTokens { id name } }');
      const id = tokens.data.apiTokens.find((t: any) => t.name === 'cap-dave').id;
      assert.equal((await server.gql('mutation($id: ID!) { revokeApiToken(id: $id) }', { id })).status, 200);
      assert.equal(await closed, 4403);
      await exactlyOpen(server.url, 2);

      const franks = client(frank);
      const taken = [collect(erins, STATUS), collect(franks, STATUS), collect(franks, LOGS)];
      await exactlyOpen(server.url, 5);
      for (const sub of taken) assert.deepEqual(sub.errors, []);
      assert.equal((await refusal(collect(franks, LOGS))).extensions.limit, 5);

      await erins.dispose();
      await franks.dispose();
      await exactlyOpen(server.url, 0);
    });
  });
}
