import type { Principal } from '../core/principal.js';
import type { Database } from '../db/client.js';
import type { RecordedAttempt, DeliveryStatus } from '../core/delivery.js';
import { findAttemptsByIds } from '../deliveries/repository.js';
import { DomainError } from '../errors.js';
import { memo } from '../memo.js';
import type { Webhook } from '../core/webhook.js';
import type { WebhookService } from '../webhooks/service.js';
import type { LiveMessage } from '../db/notify.js';
import type { LiveFeed } from './live.js';
import { createSubscriptionQuota, type SubscriptionLimits } from './quota.js';
import { boundedStream } from './stream.js';

export interface LiveServiceDeps {
  database: Database;
  feed: LiveFeed;
  webhooks: WebhookService;
  /** Messages one subscription may have waiting before it counts as too slow. */
  bufferSize: number;
  limits: SubscriptionLimits;
}

/** Lets a transport drop a subscriber it should no longer serve (graphql-ws: close the socket). */
export type Disconnect = (reason: string, code?: number) => void;

// Subscribers of one process ask for an attempt within moments of each other, so a short
// memory is enough to read it once; a long one would hold megabytes of request bodies.
const LOADED_KEPT = 256;
const VISIBILITY_TTL_MS = 5000;
const VISIBILITY_KEPT = 10_000;

export type LiveService = ReturnType<typeof createLiveService>;

/**
 * Subscriptions over the live feed. Filtering happens on the compact message, before any
 * read; an attempt is then read once per process however many subscribers want it, and only
 * through the subscriber's tenant, so nobody receives what they could not query.
 */
export function createLiveService({ database, feed, webhooks, bufferSize, limits }: LiveServiceDeps) {
  const quota = createSubscriptionQuota(limits);
  const open = new Map<{ end(): void }, { tokenId: string; disconnect: Disconnect | undefined }>();

  // A revoked token loses its open subscriptions in every process at once.
  feed.subscribe((m) => {
    if (m.kind !== 'tokenRevoked') return;
    for (const [s, owner] of [...open]) {
      if (owner.tokenId !== m.tokenId) continue;
      s.end();
      owner.disconnect?.('token revoked', 4403);
    }
  });
  const loaded = new Map<string, Promise<RecordedAttempt | null>>();
  // Ids asked for in the same tick, per tenant, read together in one statement.
  let batch = new Map<string, Map<string, (attempt: RecordedAttempt | null) => void>>();

  function flush() {
    const asked = batch;
    batch = new Map();
    for (const [tenantId, waiting] of asked) {
      findAttemptsByIds(database.db, tenantId, [...waiting.keys()]).then(
        (rows) => {
          const byId = new Map(rows.map((r) => [r.id, r]));
          for (const [id, resolve] of waiting) resolve(byId.get(id) ?? null);
        },
        () => {
          for (const [id, resolve] of waiting) {
            loaded.delete(id);
            resolve(null);
          }
        },
      );
    }
  }

  /** Read once per process whoever asks; who may see it is decided per subscriber after. */
  function loadAttempt(id: string, tenantId: string): Promise<RecordedAttempt | null> {
    let attempt = loaded.get(id);
    if (!attempt) {
      attempt = new Promise((resolve) => {
        if (!batch.size) setImmediate(flush);
        let waiting = batch.get(tenantId);
        if (!waiting) batch.set(tenantId, (waiting = new Map()));
        waiting.set(id, resolve);
      });
      loaded.set(id, attempt);
      // Insertion order makes the first key the oldest.
      if (loaded.size > LOADED_KEPT) loaded.delete(loaded.keys().next().value as string);
    }
    return attempt;
  }

  /**
   * Whether a subscriber may see what happens to a webhook: the same answer as a query for
   * it, remembered for a few seconds per caller and webhook (a webhook rarely changes hands),
   * so that the subscriptions of one caller (a dashboard's many tabs) ask once between them.
   */
  const visibility = memo<boolean>({ maxAgeMs: VISIBILITY_TTL_MS, max: VISIBILITY_KEPT });
  function webhookVisibility(principal: Principal) {
    const caller = JSON.stringify([principal.tokenId, principal.tenantId, principal.role, principal.name]);
    // Asked again after a few seconds, so a webhook given to someone else stops flowing.
    return (webhookId: string) =>
      visibility.get(`${caller}${webhookId}`, () =>
        webhooks.get(principal, { id: webhookId }).then((w) => w !== null),
      );
  }

  const tooSlow = () =>
    new DomainError(
      'SUBSCRIBER_TOO_SLOW',
      `this subscription fell more than ${bufferSize} messages behind and was closed; subscribe again to resume`,
    );

  function stream<R>(
    principal: Principal,
    accept: (m: LiveMessage) => boolean,
    load: (m: LiveMessage) => Promise<R | null>,
    disconnect?: Disconnect,
  ): AsyncIterableIterator<R> {
    // Taken before anything is held; given back by whatever ends the stream (the client, a
    // dropped socket, a revoked token, falling too far behind, shutdown).
    const release = quota.acquire(principal.tokenId);
    const s = boundedStream<LiveMessage, R>({
      capacity: bufferSize,
      subscribe: (push) => feed.subscribe((m) => accept(m) && push(m)),
      load,
      tooSlow,
      onOverflow: () => disconnect?.(`subscriber too slow: more than ${bufferSize} messages behind`),
      onEnd: () => {
        open.delete(s);
        release();
      },
    });
    open.set(s, { tokenId: principal.tokenId, disconnect });
    return s;
  }

  return {
    deliveryLogs(
      principal: Principal,
      filter: { webhookId?: string | null; status?: DeliveryStatus[] | null },
      disconnect?: Disconnect,
    ): AsyncIterableIterator<RecordedAttempt> {
      const visible = webhookVisibility(principal);
      return stream(
        principal,
        (m) =>
          m.kind === 'attempt' &&
          m.tenantId === principal.tenantId &&
          (!filter.webhookId || m.webhookId === filter.webhookId) &&
          (!filter.status?.length || filter.status.includes(m.status)),
        async (m) =>
          m.kind === 'attempt' && (await visible(m.webhookId)) ? loadAttempt(m.attemptId, m.tenantId) : null,
        disconnect,
      );
    },

    webhookStatusChanged(
      principal: Principal,
      filter: { webhookId?: string | null },
      disconnect?: Disconnect,
    ): AsyncIterableIterator<Webhook> {
      return stream(
        principal,
        (m) =>
          m.kind === 'webhookStatus' &&
          m.tenantId === principal.tenantId &&
          (!filter.webhookId || m.webhookId === filter.webhookId),
        (m) =>
          m.kind === 'webhookStatus' ? webhooks.get(principal, { id: m.webhookId }) : Promise.resolve(null),
        disconnect,
      );
    },

    openSubscriptions: () => open.size,

    /** Ends every subscription of this process (shutdown). */
    closeAll() {
      for (const s of [...open.keys()]) s.end();
    },
  };
}
