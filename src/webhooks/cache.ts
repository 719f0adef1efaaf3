import type { Database, Db } from '../db/client.js';
import { listenWebhooks, type Unlisten } from '../db/notify.js';
import { memo } from '../memo.js';
import { auditWebhooks, candidateWebhooks, type StoredWebhook } from './repository.js';

/** Lists kept: one per tenant and set of event and entity types published. */
const KEPT = 1000;
/** A bound on staleness should a notification ever be missed. */
const MAX_AGE_MS = 10_000;

/** The webhooks a publish matches its events against. */
export interface WebhookSource {
  candidates(tenantId: string, eventTypes: string[], entityTypes: string[]): Promise<StoredWebhook[]>;
  auditors(tenantId: string): Promise<StoredWebhook[]>;
}

/** The webhooks as `db` holds them now (inside a transaction, with its own changes). */
export const readWebhooks = (db: Db): WebhookSource => ({
  candidates: (tenantId, eventTypes, entityTypes) => candidateWebhooks(db, tenantId, eventTypes, entityTypes),
  auditors: (tenantId) => auditWebhooks(db, tenantId),
});

export interface WebhookCache extends WebhookSource {
  /** Forgets every list: this process changed a webhook (others hear of it by NOTIFY). */
  invalidate(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The candidate and audit webhooks of publishes, kept in memory: two reads on every publish
 * (and every mutation's audit record) that return the same rows until a webhook changes. Any
 * change, in any process, empties every process's cache through a trigger's NOTIFY, and a
 * change made here empties it at once, so a webhook created and then published to is matched.
 * Another process may match the old list in the moment before the NOTIFY reaches it.
 * Nothing is kept while not listening; the cache is emptied whenever the LISTEN is
 * re-established (what was sent meanwhile is lost), and no list is kept longer than 10 s.
 */
export function createWebhookCache(database: Database): WebhookCache {
  const read = readWebhooks(database.db);
  const lists = memo<StoredWebhook[]>({ maxAgeMs: MAX_AGE_MS, max: KEPT });
  let listening = false;
  let unlisten: Unlisten | undefined;
  const invalidate = () => lists.clear();
  const remember = (key: string, read: () => Promise<StoredWebhook[]>) =>
    listening ? lists.get(key, read) : read();

  return {
    candidates: (tenantId, eventTypes, entityTypes) =>
      remember(
        JSON.stringify(['candidates', tenantId, [...eventTypes].sort(), [...entityTypes].sort()]),
        () => read.candidates(tenantId, eventTypes, entityTypes),
      ),
    auditors: (tenantId) => remember(JSON.stringify(['auditors', tenantId]), () => read.auditors(tenantId)),
    invalidate,
    async start() {
      unlisten = await listenWebhooks(database, invalidate, invalidate);
      listening = true;
    },
    async stop() {
      listening = false;
      invalidate();
      await unlisten?.().catch(() => {});
    },
  };
}
