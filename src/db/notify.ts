import { sql } from 'drizzle-orm';
import type { DeliveryStatus } from '../core/delivery.js';
import type { WebhookStatus } from '../core/webhook.js';
import type { Database, Db } from './client.js';

/**
 * Every LISTEN/NOTIFY channel of Hookline, what its payload holds, and the helpers that send
 * and listen: no other module spells a channel's name or encodes a payload. The two statements
 * that send a NOTIFY themselves (events/repository.ts, dispatcher/sql/complete.ts) take the
 * channel and the payloads from here.
 *
 * A NOTIFY sent inside a transaction goes out only when it commits, so a listener hears only
 * of what it can read. PostgreSQL delivers it to every process; PGlite to the listeners of
 * its own instance. A NOTIFY sent while a process is not listening is lost to it: the
 * dispatcher also polls, and the webhook cache forgets all it holds when its LISTEN is
 * re-established. Who sends and who listens on each channel: docs/architecture.md.
 */

/** A stop to a LISTEN. */
export type Unlisten = () => Promise<void>;

/** "There may be due deliveries": any dispatcher that hears it claims now instead of at its next poll. */
export const DELIVERIES_CHANNEL = 'hookline_deliveries';

/**
 * "A webhook a publish could see has changed": sent by the trigger of drizzle/0007 (the
 * columns the dispatcher writes on claims and attempts excepted, drizzle/0008), never by code.
 */
export const WEBHOOKS_CHANNEL = 'hookline_webhooks';

/** What live subscriptions watch: attempts, webhook statuses and revoked tokens (LiveMessage). */
export const LIVE_CHANNEL = 'hookline_live';

/** Wakes every dispatcher; inside a transaction it is sent only if the transaction commits. */
export async function notifyDispatchers(db: Db): Promise<void> {
  await db.execute(sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`);
}

/** Calls `onNotify` each time deliveries may be due. */
export const listenDeliveries = (database: Database, onNotify: () => void): Promise<Unlisten> =>
  database.listen(DELIVERIES_CHANNEL, onNotify);

/**
 * Calls `onChange` each time a webhook changes, and `onListen` each time the LISTEN is
 * (re-)established: what changed meanwhile was not heard.
 */
export const listenWebhooks = (
  database: Database,
  onChange: () => void,
  onListen?: () => void,
): Promise<Unlisten> => database.listen(WEBHOOKS_CHANNEL, onChange, onListen);

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

/**
 * Calls `onMessages` with the messages of each NOTIFY on LIVE_CHANNEL, in commit order, and
 * `onMalformed` instead for a payload that cannot be read.
 */
export const listenLive = (
  database: Database,
  onMessages: (messages: LiveMessage[]) => void,
  onMalformed: (error: unknown) => void,
): Promise<Unlisten> =>
  database.listen(LIVE_CHANNEL, (payload) => {
    let messages: LiveMessage[];
    try {
      messages = (JSON.parse(payload) as Wire[]).map(decode);
    } catch (error) {
      onMalformed(error);
      return;
    }
    onMessages(messages);
  });
