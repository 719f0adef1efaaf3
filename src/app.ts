import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, type execute as graphqlExecute, type subscribe as graphqlSubscribe } from 'graphql';
import { createYoga, maskError, type YogaLogger } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from './core/principal.js';
import type { Authenticator } from './auth/tokens.js';
import type { CorsOrigins } from './config.js';
import type { Database } from './db/client.js';
import { DomainError } from './errors.js';
import type { Context } from './graphql/context.js';
import { type AccessRecord, startAccessLog } from './http/access-log.js';
import { CONSOLE_DIR, createConsoleFiles } from './http/console.js';
import { createCors } from './http/cors.js';
import { handleOps, json } from './http/ops.js';
import { createRateLimiter } from './http/rate-limit.js';
import { useAuditLog } from './graphql/audit-plugin.js';
import { useInputErrorCodes } from './graphql/input-errors.js';
import { documentCaches } from './graphql/document-cache.js';
import { MAX_BODY_BYTES, useDocumentLimits } from './graphql/limits.js';
import { useOperationMetrics } from './graphql/operation-metrics.js';
import { useRequestIds } from './graphql/request-ids.js';
import { useTracing } from './graphql/tracing-plugin.js';
import {
  createTrustedDocuments,
  type TrustedDocuments,
  trustedIdOf,
  useTrustedDocuments,
} from './graphql/trusted-documents.js';
import type { AuditLog } from './events/audit.js';
import { schema } from './graphql/schema.js';
import { idOf } from './ids.js';
import { type Logger, serializeError } from './logger.js';
import type { Metrics } from './metrics.js';
import type { Disconnect } from './pubsub/subscriptions.js';
import type { Tracing } from './tracing/tracing.js';
import { snapshotOf } from './webhooks/view.js';

export interface AppDeps {
  database: Database;
  logger: Logger;
  authenticator: Authenticator;
  services: Pick<Context, 'webhooks' | 'events' | 'deliveries' | 'live' | 'tokens'>;
  host: string;
  port: number;
  /** Base of `href` links; defaults to the address the server listens on. */
  publicUrl?: string | undefined;
  /** Browser origins whose pages may read the answers (default: none). */
  corsOrigins?: CorsOrigins;
  /** Requests a second one token may make (HTTP requests and new subscriptions); unset: no limit. */
  apiRateLimit?: number | undefined;
  metrics: Metrics;
  audit: AuditLog;
  /** How long `stop()` lets in-flight requests finish before closing their sockets. */
  shutdownGraceMs?: number;
  /** The built console served at `/` (default: console/dist of this project). */
  consoleDir?: string;
  /** Documents sent by id, and the roles that may send nothing else (default: the console's only). */
  trusted?: TrustedDocuments;
  /** A span per GraphQL request over HTTP (null or unset: tracing is off). */
  tracing?: Tracing | null;
}

export interface App {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
}

const graphqlError = (message: string, code: string) => ({ errors: [{ message, extensions: { code } }] });

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

interface OverLimit {
  /** Whole seconds until the token may make another request. */
  wait: number;
  message: string;
}

const rateLimited = (res: ServerResponse, { wait, message }: OverLimit) =>
  json(
    res,
    429,
    { errors: [{ message, extensions: { code: 'RATE_LIMITED', retryAfterSeconds: wait } }] },
    { 'retry-after': String(wait) },
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

/** What GraphiQL opens with: who the token is, and the first page of webhooks with their health. */
const FIRST_QUERY = `# Put your token in the Headers tab below: {"Authorization": "Bearer <your token>"}
query FirstLook {
  me { principal role tenantId }
  webhooks(first: 10) {
    totalCount
    edges { node { id name status webhookType health { successRate p95DurationMs attempts } } }
  }
}
`;

/** GraphiQL's page holds no data, so a browser may load it before it has a token to send. */
const wantsGraphiQL = (req: IncomingMessage) =>
  req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');

export function buildApp(deps: AppDeps): App {
  const { database, logger, authenticator, services } = deps;
  const { webhooks } = services;
  let publicUrl = deps.publicUrl ?? '';
  const cors = createCors(deps.corsOrigins ?? []);
  const consoleFiles = createConsoleFiles(deps.consoleDir);
  const trusted =
    deps.trusted ??
    createTrustedDocuments({ files: [], onlyRoles: [], consoleDir: deps.consoleDir ?? CONSOLE_DIR });
  const rate = deps.apiRateLimit;
  const limiter = rate ? createRateLimiter(rate) : null;
  /** Counts a request of the principal's token: null when it may go ahead. */
  const overLimit = (principal: Principal): OverLimit | null => {
    const wait = limiter?.take(principal.tokenId) ?? 0;
    if (!wait) return null;
    const message = `this token made more than ${rate} requests a second (HOOKLINE_API_RATE_LIMIT); retry after ${wait} s`;
    return { wait, message };
  };

  const yoga = createYoga<
    { principal: Principal; disconnect?: Disconnect; via?: 'api' | 'ui'; access?: AccessRecord },
    Context
  >({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    parserAndValidationCache: documentCaches(),
    // A trusted document's id, as the GraphQL over HTTP draft names it (graphql/trusted-documents.ts).
    extraParamNames: ['documentId'],
    // handle() answers CORS for every response, those refused before yoga too (yoga's default
    // would let any origin read the answers, credentials included).
    cors: false,
    logging: yogaLogger(logger.child({ component: 'graphql' })),
    // GraphiQL's code comes inlined from @graphql-yoga/render-graphiql, not from a CDN, so the
    // page works on a machine without internet access. Loaded at the first page asked for: the
    // module holds GraphiQL's whole bundle as strings, 35 MB of heap once imported.
    renderGraphiQL: async (options) =>
      (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    graphiql: {
      title: 'Hookline',
      headers: JSON.stringify({ Authorization: 'Bearer <your token>' }, null, 2),
      defaultQuery: FIRST_QUERY,
    },
    // isDev would copy the original error (drizzle's message holds the query parameters, and
    // so a webhook's secrets) into the response when NODE_ENV=development.
    maskedErrors: {
      isDev: false,
      // The request id survives masking, so the client can quote it.
      maskError: (error, message) => {
        const masked = maskError(error, message, false) as GraphQLError;
        const requestId = (error as GraphQLError).extensions?.requestId;
        if (masked !== error && requestId)
          (masked.extensions as Record<string, unknown>).requestId = requestId;
        return masked;
      },
    },
    plugins: [
      // First, so that its span covers what the others do, refusals included.
      ...(deps.tracing ? [useTracing(deps.tracing)] : []),
      useDocumentLimits(),
      useInputErrorCodes(),
      useRequestIds(logger.child({ component: 'graphql' })),
      useOperationMetrics(deps.metrics),
      // After the metrics, so that a request they refuse is counted as rejected.
      ...useTrustedDocuments(trusted),
      useAuditLog(deps.audit, logger.child({ component: 'audit' })),
    ],
    context: ({ principal, disconnect, via }) => ({
      principal,
      via: via ?? 'api',
      ...services,
      webhookDeliveries: services.deliveries.ofWebhooks(principal),
      publicUrl,
      ...(disconnect ? { disconnect } : {}),
    }),
  });

  /** `href` of a webhook resolves here: the same view the GraphQL API gives, as JSON. */
  async function webhookResource(req: IncomingMessage, res: ServerResponse, globalId: string) {
    const principal = await authenticator.authenticate(req.headers.authorization);
    if (!principal) return unauthenticated(res);
    const limited = overLimit(principal);
    if (limited) return rateLimited(res, limited);
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

  async function handle(req: IncomingMessage, res: ServerResponse, access: AccessRecord) {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (await handleOps(path, res, deps)) return;
    // Before any answer, refusals included: a browser shows its script no response without them.
    cors.apply(req, res);
    const resource = /^\/webhooks\/([^/]+)$/.exec(path);
    if ((resource || path === '/graphql') && req.method === 'OPTIONS') return cors.preflight(req, res);
    if (resource?.[1] && req.method === 'GET') return webhookResource(req, res, resource[1]);
    if (path !== '/graphql') {
      // The console's page and files need no token: the page asks for one and sends it to /graphql.
      if (consoleFiles.serve(req, res, path)) return;
      return json(res, 404, { error: 'not found' });
    }
    if (req.method === 'POST') {
      // Refused before a byte is read: the body must say how long it is, within the limit.
      const length = Number(req.headers['content-length']);
      if (!req.headers['content-length'] || !Number.isFinite(length)) {
        return json(res, 411, graphqlError('a POST needs a Content-Length header', 'BAD_REQUEST'));
      }
      if (length > MAX_BODY_BYTES) {
        return json(
          res,
          413,
          graphqlError(`the request body is larger than ${MAX_BODY_BYTES} bytes`, 'BAD_REQUEST'),
        );
      }
    }
    // The GraphiQL page executes nothing, so no principal is needed.
    if (wantsGraphiQL(req)) return yoga(req, res, { principal: undefined as never, access });
    // Authentication comes before parsing and validation, so a caller without a token learns
    // nothing, not even whether its query would have been valid.
    const principal = await authenticator.authenticate(req.headers.authorization);
    if (!principal) return unauthenticated(res);
    // Counted per token once it is known, before any parsing or database work of its own.
    const limited = overLimit(principal);
    if (limited) return rateLimited(res, limited);
    // Kpow's audit records say whether an action came from the UI or the API.
    const via = req.headers['x-hookline-via'] === 'ui' ? 'ui' : 'api';
    return yoga(req, res, { principal, via, access });
  }

  let server: Server | undefined;
  let sockets: { wss: WebSocketServer; dispose(): Promise<void> } | undefined;

  /**
   * graphql-ws on the same port and path, through yoga's envelop so that WebSocket and HTTP
   * share the schema, plugins and context. The token comes at connect, in
   * connectionParams.authorization: a client without a valid one is refused (4403) before it
   * can subscribe to anything.
   */
  function serveWebSockets(http: Server) {
    const wss = new WebSocketServer({ server: http, path: '/graphql', maxPayload: 1024 * 1024 });
    const authorizations = new WeakMap<object, string>();
    const disposable = useServer(
      {
        onConnect: async (ctx) => {
          const params = ctx.connectionParams ?? {};
          const raw = params.authorization ?? params.Authorization;
          const principal = await authenticator.authenticate(typeof raw === 'string' ? raw : undefined);
          if (!principal) return false;
          authorizations.set(ctx.extra, raw as string);
          return true;
        },
        onSubscribe: async (ctx, _id, payload) => {
          const socket = ctx.extra.socket;
          // Checked again for each subscription: a token revoked since connect opens nothing more.
          const principal = await authenticator.authenticate(authorizations.get(ctx.extra));
          if (!principal) {
            socket.close(4403, 'Forbidden');
            return [
              new GraphQLError('the token is no longer valid', { extensions: { code: 'UNAUTHENTICATED' } }),
            ];
          }
          // A new subscription counts as a request; the messages it then receives do not.
          const limited = overLimit(principal);
          if (limited) {
            return [new DomainError('RATE_LIMITED', limited.message, { retryAfterSeconds: limited.wait })];
          }
          // 1008 (policy violation) with the reason. The close frame waits behind what the
          // client has not read; ws destroys the socket if the close handshake never ends.
          const disconnect: Disconnect = (reason, code = 1008) => {
            logger.warn({ reason }, 'closing a subscriber');
            socket.close(code, reason.slice(0, 120));
          };
          const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
            ...ctx,
            req: ctx.extra.request,
            socket,
            params: payload,
            principal,
            disconnect,
          });
          let query: string;
          try {
            // A trusted document's id comes as extensions.persistedQuery (graphql-ws wants a
            // `query`, which is then empty).
            query = trusted.resolve({ query: payload.query, id: trustedIdOf(payload) }, principal);
          } catch (error) {
            return [error as GraphQLError];
          }
          let document: ReturnType<typeof parse>;
          try {
            document = parse(query);
          } catch (error) {
            // A bad document fails this subscription, not the socket and its other subscriptions.
            if (error instanceof GraphQLError) return [error];
            return [
              new GraphQLError('the document could not be parsed', {
                extensions: { code: 'GRAPHQL_PARSE_FAILED' },
              }),
            ];
          }
          const args = {
            schema,
            operationName: payload.operationName,
            document,
            variableValues: payload.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
          const errors = validate(args.schema, args.document);
          return errors.length ? errors : args;
        },
        execute: (args) => (args.rootValue as { execute: typeof graphqlExecute }).execute(args),
        subscribe: (args) => (args.rootValue as { subscribe: typeof graphqlSubscribe }).subscribe(args),
      },
      wss,
    );
    return { wss, dispose: async () => disposable.dispose() };
  }

  return {
    async start() {
      const httpLogger = logger.child({ component: 'http' });
      server = createServer((req, res) => {
        handle(req, res, startAccessLog(httpLogger, req, res)).catch((error) => {
          logger.error({ err: error }, 'request failed');
          if (!res.headersSent) json(res, 500, { errors: [{ message: 'Unexpected error.' }] });
          else res.destroy();
        });
      });
      const listening = server;
      sockets = serveWebSockets(listening);
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
      // WebSocket clients get 1001 Going Away, SSE streams end, then idle sockets close.
      await sockets?.dispose().catch(() => {});
      services.live.closeAll();
      closing.closeIdleConnections();
      const grace = setTimeout(() => closing.closeAllConnections(), deps.shutdownGraceMs ?? 10_000);
      await closed;
      clearTimeout(grace);
    },
  };
}
