import type { Db } from '../db/client.js';
import type { StoredWebhook } from '../webhooks/repository.js';
import { webhooksOwnedBy } from '../webhooks/repository.js';
import { eventPeople } from '../core/matching.js';
import type { HooklineEvent } from '../core/event.js';

/** An event and a webhook it is to be delivered to. */
export interface Match {
  event: HooklineEvent;
  stored: StoredWebhook;
}

const notifies = ({ webhook: { config: c } }: StoredWebhook) =>
  c.sendToAdmins || c.sendToOwners || c.sendToFollowers;

/**
 * OpenMetadata's sendToAdmins / sendToOwners / sendToFollowers: who, besides the webhook's own
 * endpoint, is notified of each event it matches. A person is notified through the webhooks
 * they own (owner type user, their name): the tenant's ADMINs, the event's owners, its
 * followers. Returns the matches to add: each (event, webhook) once, and none a webhook already
 * has. One read, and only when a matched webhook sets a flag: publishing costs nothing more
 * for tenants that use none.
 */
export async function notifiedMatches(db: Db, tenantId: string, matches: Match[]): Promise<Match[]> {
  const notifying = matches.filter((m) => notifies(m.stored));
  if (!notifying.length) return [];
  /** Per event, who it notifies (names), and whether its ADMINs too. */
  const wanted = new Map<HooklineEvent, { names: Set<string>; admins: boolean }>();
  for (const { event, stored } of notifying) {
    const { sendToAdmins, sendToOwners, sendToFollowers } = stored.webhook.config;
    const entry = wanted.get(event) ?? { names: new Set<string>(), admins: false };
    const { owners, followers } = eventPeople(event);
    if (sendToOwners) for (const n of owners) entry.names.add(n);
    if (sendToFollowers) for (const n of followers) entry.names.add(n);
    entry.admins ||= sendToAdmins;
    wanted.set(event, entry);
  }
  const names = [...new Set([...wanted.values()].flatMap((w) => [...w.names]))];
  const admins = [...wanted.values()].some((w) => w.admins);
  if (!names.length && !admins) return [];
  const owned = await webhooksOwnedBy(db, tenantId, names, admins);
  if (!owned.length) return [];
  const taken = new Set(matches.map((m) => `${m.event.id} ${m.stored.webhook.id}`));
  const added: Match[] = [];
  for (const [event, { names: people, admins: toAdmins }] of wanted) {
    for (const { stored, admin } of owned) {
      if (!people.has(stored.webhook.owner?.name ?? '') && !(toAdmins && admin)) continue;
      const key = `${event.id} ${stored.webhook.id}`;
      if (taken.has(key)) continue;
      taken.add(key);
      added.push({ event, stored });
    }
  }
  return added;
}
