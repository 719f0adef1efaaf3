import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/client.js';
import type { DeliveryAttempt, DeliveryStatus } from '../deliveries/model.js';
import { findAttempt } from '../deliveries/repository.js';
import { DomainError } from '../errors.js';
import type { Webhook } from '../webhooks/model.js';
import type { WebhookService } from '../webhooks/service.js';
import type { LiveFeed, LiveMessage } from './live.js';
import { boundedStream } from './stream.js';

export interface LiveServiceDeps {
  database: Database;
  feed: LiveFeed;
  webhooks: WebhookService;
  /** Messages one subscription may have waiting before it counts as too slow. */
  bufferSize: number;
}

/** Lets a transport drop a subscriber it should no longer serve (graphql-ws: close the socket). */
export type Disconnect = (reason: string) => void;

// Subscribers of one process ask for an attempt within moments of each other, so a short
// memory is enough to read it once; a long one would hold megabytes of request bodies.
const LOADED_KEPT = 256;

export type LiveService = ReturnType<typeof createLiveService>;

/**
 * Subscriptions over the live feed. Filtering happens on the compact message, before any
 * read; an attempt is then read once per process however many subscribers want it, and only
 * through the subscriber's tenant, so nobody receives what they could not query.
 */
export function createLiveService({ database, feed, webhooks, bufferSize }: LiveServiceDeps) {
  const open = new Set<{ end(): void }>();
  const loaded = new Map<string, Promise<DeliveryAttempt | null>>();

  function loadAttempt(id: string, tenantId: string): Promise<DeliveryAttempt | null> {
    let attempt = loaded.get(id);
    if (!attempt) {
      attempt = findAttempt(database.db, tenantId, id);
      loaded.set(id, attempt);
      // Insertion order makes the first key the oldest.
      if (loaded.size > LOADED_KEPT) loaded.delete(loaded.keys().next().value as string);
    }
    return attempt.then((a) => (a && a.tenantId === tenantId ? a : null));
  }

  const tooSlow = () =>
    new DomainError(
      'SUBSCRIBER_TOO_SLOW',
      `this subscription fell more than ${bufferSize} messages behind and was closed; subscribe again to resume`,
    );

  function stream<R>(
    accept: (m: LiveMessage) => boolean,
    load: (m: LiveMessage) => Promise<R | null>,
    disconnect?: Disconnect,
  ): AsyncIterableIterator<R> {
    const s = boundedStream<LiveMessage, R>({
      capacity: bufferSize,
      subscribe: (push) => feed.subscribe((m) => accept(m) && push(m)),
      load,
      tooSlow,
      onOverflow: () => disconnect?.(`subscriber too slow: more than ${bufferSize} messages behind`),
      onEnd: () => open.delete(s),
    });
    open.add(s);
    return s;
  }

  return {
    deliveryLogs(
      principal: Principal,
      filter: { webhookId?: string | null; status?: DeliveryStatus[] | null },
      disconnect?: Disconnect,
    ): AsyncIterableIterator<DeliveryAttempt> {
      return stream(
        (m) =>
          m.kind === 'attempt' &&
          m.tenantId === principal.tenantId &&
          (!filter.webhookId || m.webhookId === filter.webhookId) &&
          (!filter.status?.length || filter.status.includes(m.status)),
        (m) => (m.kind === 'attempt' ? loadAttempt(m.attemptId, principal.tenantId) : Promise.resolve(null)),
        disconnect,
      );
    },

    webhookStatusChanged(
      principal: Principal,
      filter: { webhookId?: string | null },
      disconnect?: Disconnect,
    ): AsyncIterableIterator<Webhook> {
      return stream(
        (m) =>
          m.kind === 'webhookStatus' &&
          m.tenantId === principal.tenantId &&
          (!filter.webhookId || m.webhookId === filter.webhookId),
        (m) => webhooks.get(principal, { id: m.webhookId }),
        disconnect,
      );
    },

    openSubscriptions: () => open.size,

    /** Ends every subscription of this process (shutdown). */
    closeAll() {
      for (const s of [...open]) s.end();
    },
  };
}
