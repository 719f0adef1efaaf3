import type { DestinationStream } from 'pino';
import { type Config, type LogLevel, parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type Role, type Running, serve } from '../../src/main.js';
import type { Backend } from './db.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data: T | null | undefined;
  errors: { message: string; extensions?: Record<string, unknown> }[] | undefined;
  text: string;
}

export interface TestServer {
  url: string;
  backend: Backend['name'];
  /** The server's own database (`memory://` for PGlite, which only the server can reach). */
  databaseUrl: string;
  /** The server's retention upkeep, for a pass run now with a moved clock. */
  retention: Running['retention'];
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<GqlResponse<T>>;
  stop(): Promise<void>;
}

/** POSTs a GraphQL request the way any client would; `token: null` sends no Authorization. */
export async function gqlRequest<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = ADMIN_TOKEN,
): Promise<GqlResponse<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  const body = JSON.parse(text) as { data?: T | null; errors?: GqlResponse['errors'] };
  return { status: res.status, data: body.data, errors: body.errors, text };
}

export interface ServerOptions {
  /** What the process runs (default: everything). */
  role?: Role;
  /** The URL the server connects with, given the fresh database's (e.g. through a relay). */
  connectVia?: (databaseUrl: string) => string;
  /** Where the server's log lines go, at `level` (default: none, or TEST_LOG_LEVEL on stdout). */
  log?: { level: LogLevel; destination: DestinationStream };
}

/** The real server, in this process, on a free port, with a fresh database of `backend`. */
export async function startServer(
  backend: Backend,
  env: Record<string, string> = {},
  options: ServerOptions = {},
): Promise<TestServer> {
  const database = await backend.create();
  const config: Config = parseConfig({
    DATABASE_URL: options.connectVia?.(database.url) ?? database.url,
    PORT: '0',
    HOOKLINE_ADMIN_TOKEN: ADMIN_TOKEN,
    // The receivers of the tests listen on 127.0.0.1, which Hookline refuses by default.
    HOOKLINE_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
    ...env,
  });
  let running: Running;
  try {
    running = await serve(
      config,
      options.log
        ? createLogger(options.log.level, options.log.destination)
        : createLogger((process.env.TEST_LOG_LEVEL as 'info') ?? 'silent'),
      options.role,
    );
  } catch (error) {
    await database.drop();
    throw error;
  }
  const url = running.url as string;
  return {
    url,
    backend: backend.name,
    databaseUrl: database.url,
    retention: running.retention,
    gql: (query, variables, token) => gqlRequest(url, query, variables, token),
    async stop() {
      await running.stop();
      await database.drop();
    },
  };
}
