import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { eventually } from './receiver.js';
import { ADMIN_TOKEN } from './server.js';

/** The open-subscriptions gauge of a server's /metrics. */
export async function openSubscriptions(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^hookline_open_subscriptions (\d+)/m.exec(text);
  return Number(match?.[1] ?? Number.NaN);
}

/** Waits until the server has at least `n` subscriptions open, so nothing published is missed. */
export const subscriptionsOpen = (url: string, n: number) =>
  eventually(
    async () => ((await openSubscriptions(url)) >= n ? true : undefined),
    10_000,
    `${n} open subscriptions`,
  );

export function wsClient(url: string, token: string | null = ADMIN_TOKEN): Client {
  return createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });
}

export interface Collected<T> {
  items: T[];
  errors: unknown[];
  done: Promise<void>;
  stop(): void;
}

/** Subscribes with a real graphql-ws client and collects what arrives. */
export function collect<T = any>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): Collected<T> {
  const items: T[] = [];
  const errors: unknown[] = [];
  let stop = () => {};
  const done = new Promise<void>((resolve) => {
    stop = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) errors.push(...value.errors);
          if (value.data) items.push(value.data as T);
        },
        error: (error) => {
          errors.push(error);
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return { items, errors, done, stop: () => stop() };
}
