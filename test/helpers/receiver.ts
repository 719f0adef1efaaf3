import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The parsed JSON body (null when it is not JSON). */
  json: any;
  receivedAt: number;
}

/** How the receiver answers one request; the default is 200 "ok". */
export type Responder = (req: Received, res: ServerResponse, n: number) => void | Promise<void>;

export interface Receiver {
  url: string;
  received: Received[];
  /** Swaps how it answers from now on. */
  respond(responder: Responder): void;
  /** Resolves once `predicate` holds for what was received, or rejects after `timeoutMs`. */
  waitFor(predicate: (received: Received[]) => boolean, timeoutMs?: number): Promise<Received[]>;
  waitForCount(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export const ok: Responder = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
};

/** Answers with these statuses in turn, then 200 for ever. */
export const statuses =
  (...codes: (number | { status: number; headers?: Record<string, string> })[]): Responder =>
  (_req, res, n) => {
    const step = codes[n];
    const { status, headers } =
      typeof step === 'number' ? { status: step, headers: {} } : (step ?? { status: 200 });
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(status < 300 ? 'ok' : `status ${status}`);
  };

/**
 * A real HTTP server on 127.0.0.1 and a free port (or `port`, to bring a receiver back where
 * it was) that records every request it gets.
 */
export async function startReceiver(responder: Responder = ok, port = 0): Promise<Receiver> {
  const received: Received[] = [];
  let answer = responder;
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {}
      const entry: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body,
        json,
        receivedAt: Date.now(),
      };
      const n = received.length;
      received.push(entry);
      Promise.resolve(answer(entry, res, n)).catch(() => res.destroy());
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${bound}`,
    received,
    respond(next) {
      answer = next;
    },
    async waitFor(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) {
          throw new Error(`receiver: condition not met within ${timeoutMs} ms (${received.length} received)`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      return received;
    },
    waitForCount: (n, timeoutMs) => receiver.waitFor((r) => r.length >= n, timeoutMs),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/** Polls `check` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
