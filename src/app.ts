import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, type YogaLogger } from 'graphql-yoga';
import type { Principal } from './auth/principal.js';
import type { Authenticator } from './auth/tokens.js';
import type { Database } from './db/client.js';
import { ping } from './db/client.js';
import { migrationsApplied } from './db/migrate.js';
import type { Context } from './graphql/context.js';
import { useInputErrorCodes } from './graphql/input-errors.js';
import { schema } from './graphql/schema.js';
import { idOf } from './ids.js';
import { type Logger, serializeError } from './logger.js';
import { snapshotOf } from './webhooks/view.js';

export interface AppDeps {
  database: Database;
  logger: Logger;
  authenticator: Authenticator;
  services: Pick<Context, 'webhooks' | 'events' | 'deliveries'>;
  host: string;
  port: number;
  /** Base of `href` links; defaults to the address the server listens on. */
  publicUrl?: string | undefined;
  /** How long `stop()` lets in-flight requests finish before closing their sockets. */
  shutdownGraceMs?: number;
}

export interface App {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
};

const unauthenticated = (res: ServerResponse) =>
  json(
    res,
    401,
    {
      errors: [
        {
          message: 'a valid bearer token is required (Authorization: Bearer <token>)',
          extensions: { code: 'UNAUTHENTICATED' },
        },
      ],
    },
    { 'www-authenticate': 'Bearer' },
  );

function yogaLogger(logger: Logger): YogaLogger {
  const log =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      const [first, ...rest] = args;
      if (first instanceof Error) logger[level]({ err: first }, 'graphql error');
      else
        logger[level](
          { details: rest.map((r) => (r instanceof Error ? serializeError(r) : r)) },
          String(first),
        );
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** GraphiQL's page holds no data, so a browser may load it before it has a token to send. */
const wantsGraphiQL = (req: IncomingMessage) =>
  req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');

export function buildApp(deps: AppDeps): App {
  const { database, logger, authenticator, services } = deps;
  const { webhooks } = services;
  let publicUrl = deps.publicUrl ?? '';

  const yoga = createYoga<{ principal: Principal }, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: yogaLogger(logger.child({ component: 'graphql' })),
    graphiql: {
      title: 'Hookline',
      headers: JSON.stringify({ Authorization: 'Bearer <your token>' }, null, 2),
    },
    // isDev would copy the original error (drizzle's message holds the query parameters, and
    // so a webhook's secrets) into the response when NODE_ENV=development.
    maskedErrors: { isDev: false },
    plugins: [useInputErrorCodes()],
    context: ({ principal }) => ({ principal, ...services, publicUrl }),
  });

  async function readiness(res: ServerResponse) {
    try {
      await ping(database);
      if (!(await migrationsApplied(database))) return json(res, 503, { status: 'migrations pending' });
      return json(res, 200, { status: 'ready' });
    } catch (error) {
      logger.warn({ err: error }, 'readiness check failed');
      return json(res, 503, { status: 'database unavailable' });
    }
  }

  /** `href` of a webhook resolves here: the same view the GraphQL API gives, as JSON. */
  async function webhookResource(req: IncomingMessage, res: ServerResponse, globalId: string) {
    const principal = await authenticator.authenticate(req.headers.authorization);
    if (!principal) return unauthenticated(res);
    let id: string;
    try {
      id = idOf('Webhook', decodeURIComponent(globalId));
    } catch {
      return json(res, 404, { error: 'not found' });
    }
    const webhook = await webhooks.get(principal, { id });
    if (!webhook) return json(res, 404, { error: 'not found' });
    return json(res, 200, { ...snapshotOf(webhook), href: `${publicUrl}/webhooks/${globalId}` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') return readiness(res);
    const resource = /^\/webhooks\/([^/]+)$/.exec(path);
    if (resource?.[1] && req.method === 'GET') return webhookResource(req, res, resource[1]);
    if (path !== '/graphql') return json(res, 404, { error: 'not found' });
    // Neither a CORS preflight nor the GraphiQL page executes anything, so no principal is needed.
    if (req.method === 'OPTIONS' || wantsGraphiQL(req))
      return yoga(req, res, { principal: undefined as never });
    // Authentication comes before parsing and validation, so a caller without a token learns
    // nothing, not even whether its query would have been valid.
    const principal = await authenticator.authenticate(req.headers.authorization);
    if (!principal) return unauthenticated(res);
    return yoga(req, res, { principal });
  }

  let server: Server | undefined;

  return {
    async start() {
      server = createServer((req, res) => {
        handle(req, res).catch((error) => {
          logger.error({ err: error }, 'request failed');
          if (!res.headersSent) json(res, 500, { errors: [{ message: 'Unexpected error.' }] });
          else res.destroy();
        });
      });
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(deps.port, deps.host, () => resolve());
      });
      const { port } = listening.address() as AddressInfo;
      const host = deps.host.includes(':') ? `[${deps.host}]` : deps.host;
      const url = `http://${host}:${port}`;
      publicUrl ||= url;
      logger.info({ url: `${url}/graphql` }, 'listening');
      return { url };
    },

    async stop() {
      const closing = server;
      if (!closing) return;
      server = undefined;
      const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
      closing.closeIdleConnections();
      const grace = setTimeout(() => closing.closeAllConnections(), deps.shutdownGraceMs ?? 10_000);
      await closed;
      clearTimeout(grace);
    },
  };
}
