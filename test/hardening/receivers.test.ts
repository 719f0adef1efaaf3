import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createWebhook, deliveryWhen, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** A raw TCP server on 127.0.0.1 that answers every connection with `reply`. */
function rawServer(
  reply: (socket: import('node:net').Socket) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => reply(socket));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise<void>((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

for (const backend of backends()) {
  describe(`receivers that misbehave (${backend.name})`, () => {
    let server: TestServer;
    const closers: (() => Promise<void>)[] = [];
    let healthy: Receiver;
    let n = 0;
    before(async () => {
      server = await startServer(backend);
      healthy = await startReceiver();
      closers.push(() => healthy.close());
    });
    after(async () => {
      await Promise.all(closers.map((c) => c()));
      await server?.stop();
    });

    /** One delivery to `endpoint`, tried once, then a delivery to a healthy receiver to show the dispatcher still works. */
    async function tryOnce(endpoint: string, config: Record<string, unknown> = {}) {
      const eventType = `abuse.${++n}`;
      await createWebhook(server, {
        config: { endpoint, ...config },
        retryPolicy: { scheduleSeconds: [] },
        eventFilters: [{ eventTypes: [eventType] }],
      });
      const event = await publish(server, { eventType });
      const done = await deliveryWhen(
        server,
        event.deliveries[0]!.id,
        (d) => d.status !== 'PENDING' && d.status !== 'IN_FLIGHT',
        30_000,
      );
      const probeType = `probe.${n}`;
      await createWebhook(server, {
        config: { endpoint: `${healthy.url}/probe-${n}` },
        eventFilters: [{ eventTypes: [probeType] }],
      });
      const probe = await publish(server, { eventType: probeType });
      await deliveryWhen(server, probe.deliveries[0]!.id, (d) => d.status === 'SUCCEEDED');
      return done.attempts[0];
    }

    it('cuts a receiver that trickles one byte a second at the timeout (TIMEOUT)', async () => {
      const trickle = await rawServer((socket) => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
        const timer = setInterval(() => socket.write('x'), 1000);
        socket.on('close', () => clearInterval(timer));
      });
      closers.push(trickle.close);
      const attempt = await tryOnce(`${trickle.url}/slow`, { timeoutMs: 1500 });
      assert.equal(attempt.errorKind, 'TIMEOUT');
      assert.ok(attempt.durationMs < 10_000);
    });

    it('reads at most 4 KiB of a 50 MB answer and lets the socket go', async () => {
      const chunk = Buffer.alloc(1024 * 1024, 'z');
      const flood = await rawServer((socket) => {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${50 * chunk.length}\r\n\r\n`);
        let sent = 0;
        const pump = () => {
          while (sent < 50 && socket.write(chunk)) sent++;
          if (sent < 50) socket.once('drain', pump);
        };
        pump();
      });
      closers.push(flood.close);
      const attempt = await tryOnce(`${flood.url}/flood`);
      assert.equal(attempt.responseStatus, 200);
      assert.equal(attempt.responseBody.length, 4096);
      assert.equal(attempt.errorKind, null);
    });

    it('records an answer holding NUL bytes (which PostgreSQL text cannot store) instead of sending again', async () => {
      const nul = await rawServer((socket) => {
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nok\u0000\u0000!');
      });
      closers.push(nul.close);
      const attempt = await tryOnce(`${nul.url}/nul`);
      assert.equal(attempt.status, 'SUCCEEDED');
      assert.equal(attempt.responseBody, 'ok\uFFFD\uFFFD!');
    });

    it('records a receiver that closes mid-response as CONNECTION', async () => {
      const cut = await rawServer((socket) => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf');
        setTimeout(() => socket.destroy(), 20);
      });
      closers.push(cut.close);
      const attempt = await tryOnce(`${cut.url}/cut`);
      assert.equal(attempt.errorKind, 'CONNECTION');
    });

    it('records huge headers and invalid HTTP as CONNECTION', async () => {
      const huge = await rawServer((socket) => {
        socket.end(`HTTP/1.1 200 OK\r\nx-big: ${'h'.repeat(200_000)}\r\ncontent-length: 0\r\n\r\n`);
      });
      const garbage = await rawServer((socket) => {
        socket.end('this is not HTTP at all\r\n\r\n');
      });
      closers.push(huge.close, garbage.close);
      assert.equal((await tryOnce(`${huge.url}/huge`)).errorKind, 'CONNECTION');
      assert.equal((await tryOnce(`${garbage.url}/garbage`)).errorKind, 'CONNECTION');
    });
  });
}
