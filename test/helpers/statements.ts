import { connect, createServer, type Socket } from 'node:net';

export interface StatementCounter {
  /** `url` (a PostgreSQL URL) with its host and port replaced by the counter's. */
  via(url: string): string;
  /** Statements clients sent through the counter so far. */
  count(): number;
  close(): Promise<void>;
}

// The startup message and the requests for TLS or GSS encryption (answered with one byte, then
// the startup message follows) have no type byte; every later message is type, length, body.
const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

/**
 * A TCP relay to a PostgreSQL server that counts the statements clients send: each simple
 * Query ('Q') and each Execute ('E') of the extended protocol postgres.js uses. It counts what
 * was sent, when it was sent, where pg_stat_database publishes a backend's counts up to
 * seconds later.
 */
export async function startStatementCounter(target: string): Promise<StatementCounter> {
  const upstream = new URL(target);
  let statements = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const backend = connect(Number(upstream.port || 5432), upstream.hostname);
    for (const s of [client, backend]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        backend.destroy();
      });
    }
    backend.pipe(client);
    let pending = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      backend.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const header = started ? 5 : 8;
        if (pending.length < header) break;
        const length = started ? 1 + pending.readInt32BE(1) : pending.readInt32BE(0);
        if (pending.length < length) break;
        if (!started) {
          const code = pending.readInt32BE(4);
          started = code !== SSL_REQUEST && code !== GSS_REQUEST;
        } else if (pending[0] === 0x51 /* Q */ || pending[0] === 0x45 /* E */) statements += 1;
        pending = pending.subarray(length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    via(url) {
      const relayed = new URL(url);
      relayed.hostname = '127.0.0.1';
      relayed.port = String(port);
      return relayed.toString();
    },
    count: () => statements,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
