import { getOperationAST, type DocumentNode } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { AccessRecord } from '../http/access-log.js';
import type { Metrics, OperationRecord } from '../metrics.js';

interface Pending {
  started: number;
  name: string | null;
  type: OperationRecord['type'];
  executed: boolean;
}

/**
 * Times every GraphQL request over HTTP from its parameters to its result, and tells
 * `/metrics` and the access log its operation: the name a request gave (for the log line only)
 * until its document parsed and validated, then the operation the document holds. graphql-ws
 * subscriptions pass through none of these hooks (`hookline_open_subscriptions` counts them).
 */
export function useOperationMetrics(metrics: Metrics): Plugin<{ access?: AccessRecord }> {
  const pending = new WeakMap<Request, Pending>();
  const executing = ({
    args,
  }: {
    args: { document: DocumentNode; operationName?: string | null; contextValue: unknown };
  }) => {
    const context = args.contextValue as { request?: Request; access?: AccessRecord };
    const state = context.request && pending.get(context.request);
    if (!state) return;
    const operation = getOperationAST(args.document, args.operationName);
    state.executed = true;
    state.name = operation?.name?.value ?? null;
    state.type = operation?.operation ?? null;
    if (context.access) context.access.operationName = state.name ?? undefined;
  };
  return {
    onParams({ request, params, context }) {
      const { access } = context as { access?: AccessRecord };
      pending.set(request, { started: performance.now(), name: null, type: null, executed: false });
      const given = params.operationName;
      if (access && typeof given === 'string') access.operationName = given.slice(0, 100);
    },
    onExecute: executing,
    onSubscribe: executing,
    onResultProcess({ request, result }) {
      const state = pending.get(request);
      if (!state) return;
      pending.delete(request);
      const failed = !isAsyncIterable(result) && [result].flat().some((r) => r.errors?.length);
      metrics.recordOperation({
        name: state.name,
        type: state.type,
        outcome: !state.executed ? 'rejected' : failed ? 'error' : 'ok',
        seconds: (performance.now() - state.started) / 1000,
      });
    },
  };
}
