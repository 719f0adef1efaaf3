import { randomUUID } from 'node:crypto';
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AccessRecord } from '../http/access-log.js';
import type { Logger } from '../logger.js';

/**
 * Gives every request an id (the caller's `x-request-id` when it is sane), returns it in the
 * `x-request-id` header and in every error's extensions, so a client reporting a masked
 * "Unexpected error." points at the log lines that have the details.
 */
export function useRequestIds(logger: Logger): Plugin<{ requestId?: string }> {
  const ids = new WeakMap<Request, string>();
  return {
    onRequest({ request, serverContext }) {
      // The HTTP layer's id (http/access-log.ts), so the access line and errors agree.
      const known = (serverContext as { access?: AccessRecord } | undefined)?.access?.requestId;
      const given = request.headers.get('x-request-id');
      ids.set(request, known ?? (given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID()));
    },
    onContextBuilding({ context, extendContext }) {
      const request = (context as { request?: Request }).request;
      if (request) extendContext({ requestId: ids.get(request) });
    },
    onExecute({ args }) {
      const requestId = (args.contextValue as { requestId?: string }).requestId;
      return {
        onExecuteDone({ result, setResult }) {
          const r = result as ExecutionResult;
          if (!requestId || !r.errors?.length) return;
          for (const error of r.errors) {
            (error.extensions as Record<string, unknown>).requestId = requestId;
            if (error.extensions.code === 'INTERNAL_SERVER_ERROR' || !error.extensions.code) {
              logger.error(
                { requestId, err: error.originalError ?? error, path: error.path },
                'unexpected error',
              );
            }
          }
          setResult(r);
        },
      };
    },
    onResponse({ request, response }) {
      const id = ids.get(request);
      if (id) response.headers.set('x-request-id', id);
    },
  };
}
