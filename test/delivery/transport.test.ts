import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createWebhook, deliveryWhen, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** An HTTPS receiver on 127.0.0.1 with a freshly made self-signed certificate. */
function selfSignedServer(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  let hits = 0;
  const server: Server = createHttpsServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        hits++;
        res.end('ok');
      });
    },
  );
  rmSync(dir, { recursive: true, force: true });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        hits: () => hits,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  );
}

for (const backend of backends()) {
  describe(`transport: TLS, redirects and auth (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    let n = 0;
    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    async function sendOne(config: Record<string, unknown>) {
      const eventType = `transport.${++n}`;
      await createWebhook(server, {
        config,
        retryPolicy: { scheduleSeconds: [] },
        eventFilters: [{ eventTypes: [eventType] }],
      });
      const event = await publish(server, { eventType });
      return deliveryWhen(
        server,
        event.deliveries[0]!.id,
        (d) => d.status === 'SUCCEEDED' || d.status === 'FAILED',
      );
    }

    it('refuses an invalid certificate unless the webhook allows invalid certificates', async () => {
      const tls = await selfSignedServer();
      try {
        const strict = await sendOne({ endpoint: `${tls.url}/strict` });
        assert.equal(strict.status, 'FAILED');
        assert.equal(strict.attempts[0].errorKind, 'TLS');
        assert.equal(tls.hits(), 0);
        const lenient = await sendOne({ endpoint: `${tls.url}/lenient`, allowInvalidCerts: true });
        assert.equal(lenient.status, 'SUCCEEDED');
        assert.equal(tls.hits(), 1);
      } finally {
        await tls.close();
      }
    });

    it('does not follow a redirect: the 302 is the answer, and the other address gets nothing', async () => {
      const elsewhere = await startReceiver();
      const redirecting = await startReceiver((_req, res) => {
        res.writeHead(302, { location: `${elsewhere.url}/stolen` });
        res.end();
      });
      receivers.push(elsewhere, redirecting);
      const d = await sendOne({ endpoint: `${redirecting.url}/moved` });
      assert.equal(d.status, 'FAILED');
      assert.equal(d.attempts[0].responseStatus, 302);
      assert.equal(d.attempts[0].responseHeaders.location, `${elsewhere.url}/stolen`);
      assert.equal(redirecting.received.length, 1);
      assert.equal(elsewhere.received.length, 0);
    });

    it('sends Bearer auth, and masks the token in the history', async () => {
      const r = await startReceiver();
      receivers.push(r);
      const d = await sendOne({
        endpoint: `${r.url}/bearer`,
        httpAuth: { type: 'BEARER', token: 'bearer-token-value-9' },
      });
      assert.equal(d.status, 'SUCCEEDED');
      assert.equal(r.received[0]?.headers.authorization, 'Bearer bearer-token-value-9');
      assert.equal(d.attempts[0].requestHeaders.authorization, 'Bearer ********');
    });
  });
}
