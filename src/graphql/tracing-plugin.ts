import { getOperationAST, type DocumentNode } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { AccessRecord } from '../http/access-log.js';
import type { Span, Tracing } from '../tracing/tracing.js';

interface Traced {
  span: Span;
  executed: boolean;
}

/**
 * A server span per GraphQL request over HTTP, from its parameters to its result: a child of
 * the caller's `traceparent` header when it sent one, named `<type> <name>` once the document
 * validated, with the outcome (ok, error, rejected) as operation-metrics.ts counts it. The
 * resolvers run with it current, so a publish's span is its child. Like the metrics, graphql-ws
 * subscriptions pass through none of these hooks.
 */
export function useTracing(tracing: Tracing): Plugin<{ access?: AccessRecord }> {
  const pending = new WeakMap<Request, Traced>();
  const operationOf = (args: {
    document: DocumentNode;
    operationName?: string | null;
    contextValue: unknown;
  }) => {
    const { request } = args.contextValue as { request?: Request };
    const traced = request && pending.get(request);
    if (!traced) return null;
    traced.executed = true;
    const operation = getOperationAST(args.document, args.operationName);
    const type = operation?.operation ?? 'unknown';
    const name = operation?.name?.value;
    traced.span.updateName(name ? `${type} ${name}` : type);
    traced.span.setAttributes({
      'graphql.operation.type': type,
      ...(name ? { 'graphql.operation.name': name } : {}),
    });
    return traced.span;
  };
  return {
    onParams({ request, context }) {
      const { access } = context as { access?: AccessRecord };
      const span = tracing.start('graphql', {
        kind: 'server',
        parent: request.headers.get('traceparent') ?? null,
        attributes: {
          'http.request.method': request.method,
          ...(access ? { 'hookline.request.id': access.requestId } : {}),
        },
      });
      pending.set(request, { span, executed: false });
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const span = operationOf(args);
      if (span) setExecuteFn((a) => tracing.within(span, () => executeFn(a)));
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const span = operationOf(args);
      if (span) setSubscribeFn((a) => tracing.within(span, () => subscribeFn(a)));
    },
    onResultProcess({ request, result }) {
      const traced = pending.get(request);
      if (!traced) return;
      pending.delete(request);
      const errors = isAsyncIterable(result) ? [] : [result].flat().flatMap((r) => r.errors ?? []);
      const outcome = !traced.executed ? 'rejected' : errors.length ? 'error' : 'ok';
      traced.span.setAttribute('hookline.graphql.outcome', outcome);
      if (outcome !== 'ok') tracing.fail(traced.span, errors[0]?.message ?? outcome);
      traced.span.end();
    },
  };
}
