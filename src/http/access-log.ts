import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';

/** What the access log line of a request says beyond HTTP: filled in while it is handled. */
export interface AccessRecord {
  requestId: string;
  /** The GraphQL operation (graphql/operation-metrics.ts). */
  operationName?: string | undefined;
}

// Scraped and probed every few seconds: their lines would drown the rest at `info`.
const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Starts the access log line of a request: one line when its response is done (or the client
 * went away), with the request id (the caller's `x-request-id` when it is sane), method, path
 * without the query string, operation name, status and duration. The id is returned in the
 * `x-request-id` header of every response. `/healthz`, `/readyz` and `/metrics` log at `debug`,
 * every other path at `info`.
 */
export function startAccessLog(logger: Logger, req: IncomingMessage, res: ServerResponse): AccessRecord {
  const started = performance.now();
  const given = req.headers['x-request-id'];
  const requestId =
    typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', requestId);
  const record: AccessRecord = { requestId };
  res.once('close', () => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const level = OPS_PATHS.has(path) ? 'debug' : 'info';
    logger[level](
      {
        requestId,
        method: req.method,
        path,
        operationName: record.operationName,
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        // The client closed the connection before the response was complete.
        ...(res.writableFinished ? {} : { aborted: true }),
      },
      'request',
    );
  });
  return record;
}
