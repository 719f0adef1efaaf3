// The live-logs scenario's subscribers: graphql-ws clients, one WebSocket each, in a process of
// their own so that they share no event loop with the publisher or the server. Each message's
// latency is taken as it arrives: now minus the moment its attempt's response came back
// (`startedAt` + `durationMs`), which is before the attempt was committed and announced.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

type Command =
  | { id: number; op: 'subscribe'; url: string; token: string; query: string; webhookIds: string[] }
  | { id: number; op: 'wait'; n: number; quietMs: number }
  | { id: number; op: 'stats' }
  | { id: number; op: 'reset' };

interface Attempt {
  startedAt: string;
  durationMs: number;
}

const clients: Client[] = [];
let perSubscriber: number[] = [];
const latencies: number[] = [];
const errors: string[] = [];
let received = 0;
let lastReceived = 0;

/** graphql-ws errors with an Error, a list of GraphQL errors, or the socket's close event. */
function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  const close = error as { code?: number; reason?: string };
  if (typeof close.code === 'number') return `closed ${close.code} ${close.reason ?? ''}`;
  return JSON.stringify(error);
}

function subscribe(url: string, token: string, query: string, webhookId: string, index: number) {
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(client);
  const connected = new Promise<void>((resolve, reject) => {
    client.on('connected', () => resolve());
    client.on('closed', (event) => {
      reject(new Error(`closed before it was acknowledged: ${describe(event)}`));
    });
  });
  client.subscribe<{ deliveryLogs: Attempt }>(
    { query, variables: { webhookId } },
    {
      next: (value) => {
        const now = Date.now();
        if (value.errors) errors.push(JSON.stringify(value.errors));
        const attempt = value.data?.deliveryLogs;
        if (!attempt) return;
        latencies.push(now - (Date.parse(attempt.startedAt) + attempt.durationMs));
        perSubscriber[index] = (perSubscriber[index] ?? 0) + 1;
        received++;
        lastReceived = now;
      },
      error: (error) => errors.push(describe(error)),
      complete: () => errors.push(`subscriber ${index} completed early`),
    },
  );
  return connected;
}

process.on('message', async (command: Command) => {
  const reply = (value: unknown) => process.send?.({ id: command.id, value });
  if (command.op === 'subscribe') {
    perSubscriber = command.webhookIds.map(() => 0);
    try {
      await Promise.all(
        command.webhookIds.map((w, i) => subscribe(command.url, command.token, command.query, w, i)),
      );
      reply(true);
    } catch (error) {
      process.send?.({ id: command.id, error: (error as Error).message });
    }
  } else if (command.op === 'wait') {
    // Until every message expected has come, or none has for `quietMs` (the rest are lost).
    lastReceived = Date.now();
    const check = setInterval(() => {
      if (received < command.n && Date.now() - lastReceived < command.quietMs) return;
      clearInterval(check);
      reply(received >= command.n);
    }, 50);
  } else if (command.op === 'reset') {
    perSubscriber = perSubscriber.map(() => 0);
    // Errors are kept: one before the reset is still one of the run's.
    latencies.length = 0;
    received = 0;
    reply(true);
  } else if (command.op === 'stats') {
    reply({ perSubscriber, latencies, errors: errors.slice(0, 20), errorCount: errors.length });
  }
});

process.on('SIGTERM', async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  process.exit(0);
});

process.send?.({ ready: true });
