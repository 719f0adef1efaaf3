import { connect, createServer, type Socket } from 'node:net';

export interface StatementCounter {
  /** `url` (a PostgreSQL URL) with its host and port replaced by the counter's. */
  via(url: string): string;
  /** Statements clients sent through the counter so far. */
  count(): number;
  /** Every statement text parsed so far, by connection and statement name. */
  parsed(): ParsedStatement[];
  /** Texts sent as simple queries, which the server parses and plans on every call. */
  simple(): string[];
  close(): Promise<void>;
}

/** A statement text one connection sent with Parse, and how often it was parsed and run. */
export interface ParsedStatement {
  /** Which client connection, in the order they connected. */
  connection: number;
  /** '' for the unnamed statement, which the next Parse replaces: nothing is kept prepared. */
  name: string;
  text: string;
  parses: number;
  /** Binds naming it: each is one run. */
  binds: number;
}

// The startup message and the requests for TLS or GSS encryption (answered with one byte, then
// the startup message follows) have no type byte; every later message is type, length, body.
const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

/** The NUL-terminated strings at the start of a message's body. */
function cStrings(body: Buffer, n: number): string[] {
  const strings: string[] = [];
  for (let at = 0; strings.length < n;) {
    const end = body.indexOf(0, at);
    strings.push(body.toString('utf8', at, end));
    at = end + 1;
  }
  return strings;
}

/**
 * A TCP relay to a PostgreSQL server (a URL, or the path of a unix socket) that counts the
 * statements clients send: each simple Query ('Q') and each Execute ('E') of the extended
 * protocol postgres.js uses. It counts what was sent, when it was sent, where
 * pg_stat_database publishes a backend's counts up to seconds later. It also keeps what each
 * connection parsed ('P') under which name and how often it bound ('B') each name: what the
 * server's own pg_prepared_statements would show, which only the session itself can read.
 */
export async function startStatementCounter(target: string | { path: string }): Promise<StatementCounter> {
  const upstream = typeof target === 'string' ? new URL(target) : target;
  let statements = 0;
  let connections = 0;
  const parsed: ParsedStatement[] = [];
  const simple: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const backend =
      upstream instanceof URL
        ? connect(Number(upstream.port || 5432), upstream.hostname)
        : connect({ path: upstream.path });
    const connection = connections++;
    // By name; the unnamed statement under the text it holds now.
    const named = new Map<string, ParsedStatement>();
    let unnamed: ParsedStatement | undefined;
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
        } else {
          const type = pending[0];
          const body = pending.subarray(5, length);
          if (type === 0x51 /* Q */ || type === 0x45 /* E */) statements += 1;
          if (type === 0x51) simple.push(cStrings(body, 1)[0] as string);
          if (type === 0x50 /* P */) {
            const [name = '', text = ''] = cStrings(body, 2);
            let statement = name ? named.get(name) : unnamed;
            if (!statement || statement.text !== text) {
              statement = { connection, name, text, parses: 0, binds: 0 };
              parsed.push(statement);
              if (name) named.set(name, statement);
            }
            statement.parses += 1;
            if (!name) unnamed = statement;
          }
          if (type === 0x42 /* B */) {
            const [, name = ''] = cStrings(body, 2);
            const statement = name ? named.get(name) : unnamed;
            if (statement) statement.binds += 1;
          }
        }
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
    parsed: () => parsed.map((statement) => ({ ...statement })),
    simple: () => [...simple],
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
