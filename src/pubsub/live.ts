import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/client.js';
import type { DeliveryStatus } from '../core/delivery.js';
import type { Logger } from '../logger.js';
import type { WebhookStatus } from '../core/webhook.js';

/**
 * What happened, as the live feed carries it: ids and the few fields subscriptions filter on.
 * The rows themselves are read by whoever delivers the message to a subscriber, so a payload
 * stays far below NOTIFY's 8000-byte limit and holds nothing a subscriber may not see.
 */
export type LiveMessage =
  | {
      kind: 'attempt';
      tenantId: string;
      webhookId: string;
      deliveryId: string;
      attemptId: string;
      status: DeliveryStatus;
    }
  | { kind: 'webhookStatus'; tenantId: string; webhookId: string; status: WebhookStatus }
  | { kind: 'tokenRevoked'; tenantId: string; tokenId: string };

export const LIVE_CHANNEL = 'hookline_live';

// Compact tuples: about 150 bytes an attempt, so 40 of them fit well inside one NOTIFY.
type Wire =
  | ['a', string, string, string, string, DeliveryStatus]
  | ['s', string, string, WebhookStatus]
  | ['r', string, string];
const PER_NOTIFY = 40;

function encode(m: LiveMessage): Wire {
  if (m.kind === 'attempt') return ['a', m.tenantId, m.webhookId, m.deliveryId, m.attemptId, m.status];
  if (m.kind === 'webhookStatus') return ['s', m.tenantId, m.webhookId, m.status];
  return ['r', m.tenantId, m.tokenId];
}

function decode(w: Wire): LiveMessage {
  if (w[0] === 'a') {
    return {
      kind: 'attempt',
      tenantId: w[1],
      webhookId: w[2],
      deliveryId: w[3],
      attemptId: w[4],
      status: w[5],
    };
  }
  if (w[0] === 's') return { kind: 'webhookStatus', tenantId: w[1], webhookId: w[2], status: w[3] };
  return { kind: 'tokenRevoked', tenantId: w[1], tokenId: w[2] };
}

/**
 * Announces messages to every Hookline process. Called inside the transaction that records
 * what happened, so a subscriber hears of it only once it is committed (and can be read).
 * PostgreSQL delivers NOTIFY across processes; PGlite to the listeners of its own instance.
 */
export async function notifyLive(tx: Db, messages: LiveMessage[]): Promise<void> {
  for (const payload of livePayloads(messages)) {
    await tx.execute(sql`select pg_notify(${LIVE_CHANNEL}, ${payload})`);
  }
}

/** The NOTIFY payloads that carry `messages` on LIVE_CHANNEL, for a statement that sends them itself. */
export function livePayloads(messages: LiveMessage[]): string[] {
  const payloads: string[] = [];
  for (let i = 0; i < messages.length; i += PER_NOTIFY) {
    payloads.push(JSON.stringify(messages.slice(i, i + PER_NOTIFY).map(encode)));
  }
  return payloads;
}

export interface LiveFeed {
  /** Calls `listener` with every message, in commit order; returns the unsubscribe. */
  subscribe(listener: (message: LiveMessage) => void): () => void;
  listeners(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One LISTEN per process, fanned out in memory to every subscription of the process. */
export function createLiveFeed(database: Database, logger: Logger): LiveFeed {
  const listeners = new Set<(message: LiveMessage) => void>();
  let unlisten: (() => Promise<void>) | undefined;
  const onPayload = (payload: string) => {
    let messages: LiveMessage[];
    try {
      messages = (JSON.parse(payload) as Wire[]).map(decode);
    } catch (error) {
      logger.warn({ err: error }, 'ignoring a malformed live message');
      return;
    }
    for (const message of messages) for (const listener of listeners) listener(message);
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    listeners: () => listeners.size,
    async start() {
      unlisten = await database.listen(LIVE_CHANNEL, onPayload);
    },
    async stop() {
      listeners.clear();
      await unlisten?.().catch(() => {});
    },
  };
}
