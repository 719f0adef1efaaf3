import {
  defaultPolicySettings,
  demandManageWebhooks,
  type PolicySettings,
  webhookScope,
} from '../core/policy.js';
import type { Principal } from '../core/principal.js';
import type { Database } from '../db/client.js';
import { notifyDispatchers } from '../db/notify.js';
import type { Deliverer } from '../dispatcher/deliver.js';
import { badInput, DomainError, notFound } from '../errors.js';
import type { HooklineEvent } from '../core/event.js';
import { TEST_EVENT_TYPE } from '../core/event.js';
import { storeEvents, visibleEvent } from '../events/repository.js';
import { newEventFrom } from '../events/service.js';
import { parsePublishEvent } from '../events/validation.js';
import { buildRequest } from '../dispatcher/request.js';
import { SecretUnavailable } from '../core/signing.js';
import { DEFAULT_MAX_REQUEST_BYTES } from '../config.js';
import { BodyTooLarge } from '../providers/budget.js';
import { renderers } from '../providers/index.js';
import { encodeGlobalId, newId } from '../ids.js';
import { findWebhook, type StoredWebhook } from '../webhooks/repository.js';
import { batched } from '../batch.js';
import type { Delivery, DeliveryStatus, RecordedAttempt } from '../core/delivery.js';
import {
  attemptsOf,
  countDeliveries,
  countDeliveriesOfWebhooks,
  deliveriesOfEvent,
  type DeliveryFilter,
  type DeliveryPage,
  findAttempt,
  findDelivery,
  healthOfWebhooks,
  insertedDelivery,
  listDeliveries,
  listDeliveriesOfWebhooks,
  requeue,
  requestBodies,
  testInFlight,
} from './repository.js';

export interface DeliveryServiceDeps {
  database: Database;
  /** Sends test deliveries from this process, whatever its role. */
  deliverer: Deliverer;
  workerId: string;
  /** Added to the webhook's timeout to make a test's lease, as the dispatcher's claims do. */
  leaseMarginMs?: number;
  /** HOOKLINE_MAX_REQUEST_BYTES: a preview past it is refused, as the send would be. */
  maxRequestBytes?: number;
  clock?: () => Date;
  policy?: PolicySettings;
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
export type WebhookDeliveries = ReturnType<DeliveryService['ofWebhooks']>;

type Status = DeliveryStatus[] | null | undefined;

/** The window of `Webhook.health`. */
export const HEALTH_WINDOW_MS = 60 * 60 * 1000;

export interface WebhookHealth {
  since: Date;
  attempts: number;
  succeeded: number;
  p95DurationMs: number | null;
}
const statusKey = (status: Status) => JSON.stringify(status ?? []);
const pageKey = (p: DeliveryPage) => JSON.stringify([p.before ?? null, p.after ?? null, p.limit, p.inverted]);

export function createDeliveryService({
  database,
  deliverer,
  workerId,
  leaseMarginMs = 15_000,
  maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES,
  clock = () => new Date(),
  policy = defaultPolicySettings,
}: DeliveryServiceDeps) {
  const { db } = database;
  const mayManage = (actor: Principal, what: string) => demandManageWebhooks(actor, policy, what);

  async function mustFindWebhook(actor: Principal, id: string) {
    const found = await findWebhook(db, webhookScope(actor), { id });
    if (!found) throw notFound('webhook');
    return found;
  }

  // The bodies asked for together (a page of attempts) are read in one statement.
  const readRequestBody = batched(
    () => '',
    (attempts: RecordedAttempt[]) => requestBodies(db, attempts),
  );

  return {
    list: (actor: Principal, filter: DeliveryFilter, page: DeliveryPage) =>
      listDeliveries(db, webhookScope(actor), filter, page),
    count: (actor: Principal, filter: DeliveryFilter) => countDeliveries(db, webhookScope(actor), filter),

    /**
     * `list` and `count` of one webhook's deliveries, for one request: the calls made for the
     * webhooks of a list (one per item) are read together, one statement for all those that
     * ask the same page with the same filter; a call alone reads as `list` and `count` do.
     */
    ofWebhooks(actor: Principal) {
      const scope = webhookScope(actor);
      type Call = { webhookId: string; status: Status };
      const list = batched(
        (c: Call & { page: DeliveryPage }) => `${statusKey(c.status)}${pageKey(c.page)}`,
        async (calls) => {
          const { webhookId, status, page } = calls[0]!;
          if (calls.length === 1) return [await listDeliveries(db, scope, { webhookId, status }, page)];
          const ids = calls.map((c) => c.webhookId);
          const pages = await listDeliveriesOfWebhooks(db, scope, ids, { status }, page);
          return ids.map((id) => pages.get(id) ?? []);
        },
      );
      const count = batched(
        (c: Call) => statusKey(c.status),
        async (calls) => {
          const { webhookId, status } = calls[0]!;
          if (calls.length === 1) return [await countDeliveries(db, scope, { webhookId, status })];
          const ids = calls.map((c) => c.webhookId);
          const counts = await countDeliveriesOfWebhooks(db, scope, ids, { status });
          return ids.map((id) => counts.get(id) ?? 0);
        },
      );
      // One window for the whole request, so every webhook of a page is measured alike.
      const health = batched(
        () => '',
        async (webhookIds: string[]) => {
          const since = new Date(clock().getTime() - HEALTH_WINDOW_MS);
          const byWebhook = await healthOfWebhooks(db, actor.tenantId, webhookIds, since);
          return webhookIds.map((id): WebhookHealth => ({ since, ...byWebhook.get(id)! }));
        },
      );
      return {
        list: (webhookId: string, status: Status, page: DeliveryPage) => list({ webhookId, status, page }),
        count: (webhookId: string, status: Status) => count({ webhookId, status }),
        /** The webhook's attempts over the last hour; the caller has already seen the webhook. */
        health: (webhookId: string) => health(webhookId),
      };
    },
    get: (actor: Principal, id: string) => findDelivery(db, webhookScope(actor), id),
    ofEvent: (actor: Principal, eventId: string) => deliveriesOfEvent(db, webhookScope(actor), eventId),
    attempts: (delivery: Delivery) => attemptsOf(db, delivery.id),
    /** An attempt's request body, read apart (the attempt was read through the caller's scope). */
    requestBody: (attempt: RecordedAttempt) => readRequestBody(attempt),
    attempt: (actor: Principal, id: string) => findAttempt(db, webhookScope(actor), id),

    /** Sends any delivery again (failed or not), with the same id and so the same `webhook-id`. */
    async retry(actor: Principal, id: string): Promise<Delivery> {
      mayManage(actor, 'retry deliveries');
      const delivery = await findDelivery(db, webhookScope(actor), id);
      if (!delivery) throw notFound('delivery');
      const [queued] = await db.transaction(async (tx) => {
        const rows = await requeue(tx, webhookScope(actor), { ids: [id] });
        if (rows.length) await notifyDispatchers(tx);
        return rows;
      });
      if (!queued) {
        throw new DomainError('CONFLICT', `delivery is already queued (${delivery.status})`, { field: 'id' });
      }
      return queued;
    },

    /** Queues again every finished delivery of a webhook created in [since, until). */
    async replay(
      actor: Principal,
      args: { webhookId: string; since?: Date | null; until?: Date | null; status?: DeliveryStatus[] | null },
    ): Promise<number> {
      mayManage(actor, 'replay deliveries');
      await mustFindWebhook(actor, args.webhookId);
      return db.transaction(async (tx) => {
        const rows = await requeue(tx, webhookScope(actor), args);
        if (rows.length) await notifyDispatchers(tx);
        return rows.length;
      });
    },

    /**
     * The request a webhook would get for an event, built by the same code as a real send
     * but not sent: a stored event (`eventId`), or one described as for publishEvent.
     * Secrets are masked in the headers, and whatever is computed from the signing secret is
     * a placeholder: a user may describe any event, and must not get it signed.
     */
    async preview(
      actor: Principal,
      webhook: string | StoredWebhook,
      source: { eventId: string } | { input: unknown },
    ): Promise<{ url: string; method: string; headers: Record<string, string>; body: string }> {
      // A stored webhook by id, or one not created yet (WebhookService.draft).
      const stored = typeof webhook === 'string' ? await mustFindWebhook(actor, webhook) : webhook;
      const now = clock();
      let event: HooklineEvent | undefined;
      if ('eventId' in source) {
        event = await visibleEvent(db, webhookScope(actor), source.eventId);
        if (!event) throw notFound('event');
      } else {
        const parsed = newEventFrom(parsePublishEvent(source.input));
        event = {
          ...parsed,
          id: newId(),
          tenantId: actor.tenantId,
          occurredAt: parsed.occurredAt ?? now,
          createdAt: now,
          traceparent: null,
        };
      }
      try {
        const { request, shownHeaders } = await buildRequest(stored, [event], {
          messageId: encodeGlobalId('Delivery', newId()),
          now,
          renderers,
          maxBytes: maxRequestBytes,
          preview: true,
        });
        return { url: request.url, method: 'POST', headers: shownHeaders, body: request.body };
      } catch (error) {
        if (error instanceof SecretUnavailable) {
          throw new DomainError('CONFLICT', error.message, { field: 'config.secretFrom' });
        }
        if (error instanceof BodyTooLarge) {
          // The event is what the user chose here; the webhook's template may be what multiplies it.
          throw badInput('eventId' in source ? 'eventId' : 'event', error.message, {
            maxBytes: error.maxBytes,
          });
        }
        throw error;
      }
    },

    /**
     * Sends a test event to one webhook now, whatever its filters, and returns the finished
     * delivery. It is tried once: a test that fails is not retried. A person checks an
     * endpoint with it, so it goes out at once, outside the queue: to a disabled webhook too
     * (an endpoint is checked before the webhook is enabled again), and not behind the
     * webhook's backlog, throttle or rate limit. So that it cannot become a way past those
     * limits, one test per webhook is in flight at a time, across every process.
     */
    async test(actor: Principal, webhookId: string): Promise<Delivery> {
      mayManage(actor, 'test webhooks');
      const now = clock();
      const { stored, job } = await db.transaction(async (tx) => {
        // The row lock puts two tests of one webhook in turn, from any process sharing the
        // database: the second reads the first's delivery, committed, and is refused.
        const stored = await findWebhook(
          tx,
          webhookScope(actor),
          { id: webhookId },
          { lock: 'no key update' },
        );
        if (!stored) throw notFound('webhook');
        if (stored.webhook.deleted) {
          throw new DomainError('CONFLICT', 'webhook is deleted; restore it before testing it', {
            field: 'id',
          });
        }
        if (await testInFlight(tx, webhookId)) {
          throw new DomainError(
            'CONFLICT',
            'a test of this webhook is still in flight; test it again once that one has finished',
            { field: 'id' },
          );
        }
        const event: HooklineEvent = {
          id: newId(),
          tenantId: actor.tenantId,
          eventType: TEST_EVENT_TYPE,
          entityType: 'webhook',
          entityId: encodeGlobalId('Webhook', webhookId),
          entityFqn: stored.webhook.name,
          cluster: null,
          namespace: null,
          actor: { name: actor.name, roles: [actor.role] },
          level: 'INFO',
          changedFields: [],
          data: { message: `Test event from Hookline for webhook ${stored.webhook.name}` },
          traceparent: null,
          occurredAt: now,
          createdAt: now,
          idempotencyKey: null,
        };
        // Leased as a dispatcher leases a claim: a process that dies mid-test leaves a lease
        // that runs out, and the webhook can be tested again.
        const delivery = insertedDelivery({
          id: newId(),
          tenantId: actor.tenantId,
          eventId: event.id,
          webhookId,
          status: 'IN_FLIGHT',
          leasedBy: workerId,
          leaseUntil: new Date(now.getTime() + stored.webhook.config.timeoutMs + leaseMarginMs),
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
        });
        await storeEvents(tx, [event], [delivery]);
        return { stored, job: { delivery, event } };
      });
      // The deliverer leaves the webhook's status and failure details as they are for a test: a
      // success does not enable a webhook a person disabled, nor a failure disable one.
      await deliverer.deliver(stored, [job]);
      return (await findDelivery(db, webhookScope(actor), job.delivery.id)) as Delivery;
    },
  };
}
