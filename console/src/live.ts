import { createClient } from 'graphql-ws';
import { trustedHash } from './graphql';
import { getToken } from './token';

export type Transport = 'connecting' | 'graphql-ws' | 'sse' | 'closed';

export interface LiveSink<T> {
  next(data: T): void;
  error(message: string): void;
  transport(t: Transport): void;
}

interface Payload {
  data?: unknown;
  errors?: readonly { message: string }[];
}

/**
 * A subscription over graphql-ws, or over Server-Sent Events when the WebSocket cannot be
 * opened at all (a proxy that drops upgrades): the server offers both with the same token
 * rules. Returns the function that ends it.
 */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  sink: LiveSink<T>,
): () => void {
  let stopped = false;
  let stop = () => {};
  let acknowledged = false;
  const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`;
  const client = createClient({
    url,
    connectionParams: () => ({ authorization: `Bearer ${getToken() ?? ''}` }),
    lazy: true,
    retryAttempts: 0,
    on: { connected: () => ((acknowledged = true), sink.transport('graphql-ws')) },
  });
  sink.transport('connecting');
  const unsubscribe = client.subscribe<T>(
    // graphql-ws wants a query: empty when the document goes by its hash.
    { ...sent(query), query: sent(query).query ?? '', variables },
    {
      next: (value: Payload) => {
        if (value.errors?.length) sink.error(value.errors.map((e) => e.message).join('; '));
        else if (value.data) sink.next(value.data as T);
      },
      error: (error: unknown) => {
        if (stopped) return;
        // Never connected: try SSE. Connected, then closed: say why (4403 is a revoked token).
        if (!acknowledged) {
          stop = subscribeSse(query, variables, sink);
          return;
        }
        const reason = error instanceof CloseEvent ? error.reason || `closed (${error.code})` : String(error);
        sink.error(reason);
        sink.transport('closed');
      },
      complete: () => sink.transport('closed'),
    },
  );
  stop = () => {
    unsubscribe();
    void client.dispose();
  };
  return () => {
    stopped = true;
    stop();
  };
}

/** The document as sent: by its hash when the build registered it, else its text. */
function sent(query: string): {
  query?: string;
  extensions?: { persistedQuery: { version: 1; sha256Hash: string } };
} {
  const sha256Hash = trustedHash(/^\s*subscription\s+(\w+)/.exec(query)?.[1]);
  return sha256Hash ? { extensions: { persistedQuery: { version: 1, sha256Hash } } } : { query };
}

/** The same subscription as SSE on POST /graphql (yoga's "distinct connections" mode). */
function subscribeSse<T>(query: string, variables: Record<string, unknown>, sink: LiveSink<T>): () => void {
  const abort = new AbortController();
  (async () => {
    const res = await fetch('/graphql', {
      method: 'POST',
      signal: abort.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${getToken() ?? ''}`,
      },
      body: JSON.stringify({ ...sent(query), variables }),
    });
    if (!res.ok || !res.body) throw new Error(`SSE answered ${res.status}`);
    sink.transport('sse');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const message = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = message
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (!data) continue;
        const payload = JSON.parse(data) as Payload;
        if (payload.errors?.length) sink.error(payload.errors.map((e) => e.message).join('; '));
        else if (payload.data) sink.next(payload.data as T);
      }
    }
    sink.transport('closed');
  })().catch((error: unknown) => {
    if (abort.signal.aborted) return;
    sink.error(error instanceof Error ? error.message : String(error));
    sink.transport('closed');
  });
  return () => abort.abort();
}
