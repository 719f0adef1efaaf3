// The benchmarks' receiver, in a process of its own so that it never shares an event loop
// with what is measured. It answers 200 at once and, over IPC, reports what it received:
// how many, the first and last receipt times, and each event's publish-to-receipt time when
// the event's data carries `sentAt` (ms since the epoch, as Date.now()). It can be taken down
// and brought up again on the same port.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let count = 0;
let first = 0;
let last = 0;
let latencies: number[] = [];
const waiters: { n: number; resolve: () => void }[] = [];

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    count++;
    if (!first) first = now;
    last = now;
    const body = Buffer.concat(chunks).toString('utf8');
    const at = body.indexOf('"sentAt":');
    if (at >= 0) latencies.push(now - Number.parseFloat(body.slice(at + 9, at + 30)));
    for (const w of waiters.filter((x) => count >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
});
server.keepAliveTimeout = 60_000;

type Command =
  | { id: number; op: 'reset' }
  | { id: number; op: 'stats' }
  | { id: number; op: 'wait'; n: number }
  | { id: number; op: 'down' }
  | { id: number; op: 'up' };

let port = 0;

process.on('message', (command: Command) => {
  const reply = (value: unknown) => process.send?.({ id: command.id, value });
  if (command.op === 'reset') {
    count = first = last = 0;
    latencies = [];
    reply(true);
  } else if (command.op === 'stats') {
    reply({ count, first, last, latencies });
  } else if (command.op === 'wait') {
    if (count >= command.n) reply(true);
    else waiters.push({ n: command.n, resolve: () => reply(true) });
  } else if (command.op === 'down') {
    if (!server.listening) return reply(true);
    // As a receiver that went away: nothing listens, and connections kept alive are cut.
    server.close(() => reply(true));
    server.closeAllConnections();
  } else if (command.op === 'up') {
    if (server.listening) return reply(true);
    // The same port: senders keep the endpoint they have. Linux picks a port for bind(0) of
    // the parity connect() tries last, so refused attempts meanwhile are unlikely to take it.
    const failed = (error: Error) => process.send?.({ id: command.id, error: error.message });
    server.once('error', failed);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', failed);
      reply(true);
    });
  }
});

server.listen(0, '127.0.0.1', () => {
  port = (server.address() as AddressInfo).port;
  process.send?.({ port });
});
