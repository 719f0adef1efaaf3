/**
 * A receiver that accepts only requests Hookline signed, checked with the `standardwebhooks`
 * library (the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers):
 *
 *   HOOKLINE_SECRET=whsec_… PORT=3000 npx tsx examples/receivers/node/receiver.ts
 *
 * It answers 204 to a verified request and 401 to any other, and prints one JSON line for each.
 */
import { createServer } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/**
 * standardwebhooks reads the secret as base64, after `whsec_` if it has it. Hookline signs with
 * the decoded bytes of a `whsec_<base64>` secret, but with the UTF-8 bytes of any other secret
 * string, so such a secret is handed over as the base64 of its UTF-8 bytes.
 */
function verifierFor(secret: string): Webhook {
  return new Webhook(secret.startsWith('whsec_') ? secret : Buffer.from(secret, 'utf8').toString('base64'));
}

const secret = process.env.HOOKLINE_SECRET;
if (!secret) {
  console.error('HOOKLINE_SECRET is required');
  process.exit(2);
}
const webhook = verifierFor(secret);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    // Verify the bytes as they came: parsed and serialised again, JSON would not match.
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [name, String(value)]),
    );
    try {
      const event = webhook.verify(body, headers) as { eventType?: string; events?: unknown[] };
      console.log(JSON.stringify({ verified: true, id: headers['webhook-id'], eventType: event.eventType }));
      res.writeHead(204).end();
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      console.log(JSON.stringify({ verified: false, id: headers['webhook-id'], error: error.message }));
      res.writeHead(401, { 'content-type': 'text/plain' }).end('invalid signature');
    }
  });
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(`listening on http://127.0.0.1:${address.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
