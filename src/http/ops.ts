import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../db/client.js';
import { ping } from '../db/client.js';
import { migrationsApplied } from '../db/migrate.js';
import type { Logger } from '../logger.js';
import { startAccessLog } from './access-log.js';
import type { Metrics } from '../metrics.js';

export interface OpsDeps {
  database: Database;
  metrics: Metrics;
  logger: Logger;
}

export const json = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
};

/**
 * The operator's endpoints, served by every process (a `--role worker` has no others):
 * `/healthz` (the process is up), `/readyz` (the database answers and every migration is
 * applied) and `/metrics` (Prometheus text). Returns false for any other path.
 */
export async function handleOps(path: string, res: ServerResponse, deps: OpsDeps): Promise<boolean> {
  if (path === '/healthz') {
    json(res, 200, { status: 'ok' });
    return true;
  }
  if (path === '/readyz') {
    try {
      await ping(deps.database);
      if (!(await migrationsApplied(deps.database))) json(res, 503, { status: 'migrations pending' });
      else json(res, 200, { status: 'ready' });
    } catch (error) {
      deps.logger.warn({ err: error }, 'readiness check failed');
      json(res, 503, { status: 'database unavailable' });
    }
    return true;
  }
  if (path === '/metrics') {
    const text = await deps.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
    res.end(text);
    return true;
  }
  return false;
}

/** An HTTP server with only the operator's endpoints, for processes that serve no API. */
export async function startOpsServer(deps: OpsDeps & { host: string; port: number }) {
  const httpLogger = deps.logger.child({ component: 'http' });
  const server = createServer((req, res) => {
    startAccessLog(httpLogger, req, res);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    handleOps(path, res, deps)
      .then((handled) => {
        if (!handled) json(res, 404, { error: 'not found' });
      })
      .catch((error) => {
        deps.logger.error({ err: error }, 'request failed');
        if (!res.headersSent) json(res, 500, { error: 'unexpected error' });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = deps.host.includes(':') ? `[${deps.host}]` : deps.host;
  const url = `http://${host}:${port}`;
  deps.logger.info({ url }, 'serving health and metrics');
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
