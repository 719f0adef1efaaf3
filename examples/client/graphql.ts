import { initGraphQLTada, type ResultOf, type TadaDocumentNode, type VariablesOf } from 'gql.tada';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { introspection } from './graphql-env.d.ts';

/**
 * Typed operations: each `graphql(...)` document is checked against Hookline's schema.graphql
 * (through graphql-env.d.ts, written by `gql.tada generate output`), so a misspelt field is a
 * type error and results and variables have their types.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string; JSON: unknown };
}>();

export type { ResultOf, VariablesOf };

export class GraphQLRequestError extends Error {
  constructor(readonly errors: { message: string; extensions?: { code?: string } }[]) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  }
}

/** A Hookline API: queries and mutations over HTTP, subscriptions over graphql-ws. */
export function hookline(url: string, token: string) {
  const ws = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
  });

  return {
    async request<R, V>(document: TadaDocumentNode<R, V>, variables: V): Promise<R> {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query: print(document), variables }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json()) as { data?: R; errors?: GraphQLRequestError['errors'] };
      if (body.errors?.length) throw new GraphQLRequestError(body.errors);
      return body.data as R;
    },

    /** Calls `next` with each result until the returned function is called or the server ends it. */
    subscribe<R, V>(
      document: TadaDocumentNode<R, V>,
      variables: V,
      next: (data: R) => void,
      error: (e: unknown) => void,
    ): () => void {
      return ws.subscribe<R>(
        { query: print(document), variables: variables as Record<string, unknown> },
        {
          next: (result) =>
            result.errors ? error(new GraphQLRequestError([...result.errors])) : next(result.data as R),
          error,
          complete: () => {},
        },
      );
    },

    close: () => ws.dispose(),
  };
}
