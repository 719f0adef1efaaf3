import type { Database } from '../db/client.js';
import { listenDeliveries, listenWebhooks } from '../db/notify.js';
import type { Logger } from '../logger.js';
import type { Tracing } from '../tracing/tracing.js';
import type { StoredWebhook } from '../webhooks/repository.js';
import type { DeliveryJob } from '../core/delivery.js';
import type { Handoff } from '../events/handoff.js';
import type { DeliveryReport } from '../core/delivery.js';
import type { Deliverer } from './deliver.js';
import { createClaimLoop } from './claim-loop.js';
import { type ClaimAsk, type ClaimedFor, Slots, type Startable } from './slots.js';
import { type ClaimedDelivery, claimDue, nextDueAt, releaseClaims } from './sql/claim.js';

export interface DispatcherOptions {
  database: Database;
  deliverer: Deliverer;
  logger: Logger;
  workerId: string;
  /** Requests in flight at once in this process. */
  maxInFlight?: number;
  /** Requests in flight at once to one webhook, so a slow endpoint holds at most this many slots. */
  perWebhook?: number;
  /**
   * Requests of a webhook claimed ahead of its free slots and held here (default: three times
   * perWebhook), so that a slot freed by an answer starts the next request at once instead of
   * waiting for a claim round, and so that a round claims many rows: a claim costs about as
   * much for 10 rows as for 100, and under a backlog its cost per row was the engine's largest.
   */
  prefetch?: number;
  /** Safety-net poll; LISTEN/NOTIFY and timers for known due times do the real waking. */
  pollMs?: number;
  leaseMarginMs?: number;
  /** Called after every recorded request (live logs hang off this). */
  onReport?: (report: DeliveryReport) => void;
  /**
   * Slots kept back from a tenant that already holds its share (default: an eighth of
   * maxInFlight), so that one tenant's endpoints, however slow, never hold every slot.
   */
  tenantReserve?: number;
  /** A span per claim round that claimed something or failed (null: off). */
  tracing?: Tracing | null;
}

/** One request: deliveries of one webhook sent together (up to its batch size). */
interface Request {
  stored: StoredWebhook;
  jobs: DeliveryJob[];
}

export interface Dispatcher extends Handoff {
  start(): Promise<void>;
  /** Wakes the loop now (a publish in this process, a freed slot). */
  wake(): void;
  /**
   * A webhook changed (disabled, deleted, reconfigured): the requests claimed ahead go back to
   * the queue instead of being sent as claimed. Changes made elsewhere arrive by NOTIFY.
   */
  webhooksChanged(): void;
  /**
   * Stops claiming, lets requests in flight finish for up to `graceMs`, then gives back the
   * deliveries it still holds so another process can send them at once.
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Wires the engine's parts: the slots (what is in flight and held here, and who may start),
 * the claim loop (when to claim), the claim's SQL and the deliverer (sending and recording).
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { database, deliverer, logger, workerId } = options;
  const perWebhook = options.perWebhook ?? 4;
  const leaseMarginMs = options.leaseMarginMs ?? 15_000;
  const slots = new Slots<Request>({
    maxInFlight: options.maxInFlight ?? 256,
    perWebhook,
    prefetch: options.prefetch ?? 3 * perWebhook,
    tenantReserve: options.tenantReserve,
    leaseMarginMs,
  });
  const tracing = options.tracing ?? null;
  const loop = createClaimLoop<ClaimAsk, ClaimedDelivery>({
    ask: () => slots.ask(),
    claim,
    onClaimed: hold,
    nextDueAt: () => nextDueAt(database),
    pollMs: options.pollMs ?? 2000,
    logger,
  });
  const wake = loop.wake;
  const unlisten: (() => Promise<void>)[] = [];
  let idle: (() => void) | undefined;

  async function claim(ask: ClaimAsk): Promise<ClaimedDelivery[]> {
    const startedAt = performance.now();
    let claimed: ClaimedDelivery[];
    try {
      claimed = await claimDue(database, { workerId, leaseMarginMs, ...ask });
    } catch (error) {
      if (tracing) traceClaim(tracing, startedAt, ask.requests, [], error as Error);
      throw error;
    }
    if (tracing && claimed.length) traceClaim(tracing, startedAt, ask.requests, claimed, null);
    return claimed;
  }

  /** Holds what a round claimed, cut into requests per webhook, and starts what may start. */
  function hold(ask: ClaimAsk, claimed: ClaimedDelivery[]) {
    const byWebhook = new Map<string, Request>();
    for (const { delivery, event, webhook } of claimed) {
      const group = byWebhook.get(webhook.webhook.id) ?? { stored: webhook, jobs: [] };
      group.jobs.push({ delivery, event });
      byWebhook.set(webhook.webhook.id, group);
    }
    const held: ClaimedFor<Request>[] = [];
    for (const { stored, jobs } of byWebhook.values()) {
      const { id, tenantId, batchSize, fifo } = stored.webhook;
      // Due time, then id: UUIDv7 ids are creation order, so a batch keeps publish order.
      jobs.sort(
        ({ delivery: a }, { delivery: b }) =>
          (a.nextAttemptAt?.getTime() ?? 0) - (b.nextAttemptAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1),
      );
      const requests: Request[] = [];
      for (let i = 0; i < jobs.length; i += batchSize)
        requests.push({ stored, jobs: jobs.slice(i, i + batchSize) });
      held.push({ webhookId: id, tenantId, fifo, requests });
    }
    slots.claimed(ask, held);
    for (const { webhookId } of held) startWaiting(webhookId);
  }

  /**
   * The span of a round, recorded once it is over: an idle dispatcher's empty rounds (one every
   * HOOKLINE_POLL_MS) would be most of a trace store's spans and say nothing. A new trace,
   * linked to the publishes of what it claimed (the first 32).
   */
  function traceClaim(
    tracing: Tracing,
    startTime: number,
    room: number,
    claimed: ClaimedDelivery[],
    error: Error | null,
  ) {
    const links = [
      ...new Set(claimed.flatMap(({ event }) => (event.traceparent ? [event.traceparent] : []))),
    ];
    const span = tracing.start('hookline.claim', {
      parent: null,
      startTime,
      links: links.slice(0, 32),
      attributes: {
        'hookline.claim.room': room,
        'hookline.claim.deliveries': claimed.length,
        'hookline.claim.webhooks': new Set(claimed.map((c) => c.webhook.webhook.id)).size,
        'hookline.worker.id': workerId,
      },
    });
    if (error) tracing.fail(span, error.message);
    span.end();
  }

  /** Sends what waits for `webhookId` and may go now (see `Slots.startable`). */
  function startWaiting(webhookId: string) {
    if (loop.running) go(slots.startable(webhookId));
  }

  function go({ start, expired }: Startable<Request>) {
    for (const { stored, jobs } of start) send(stored, jobs);
    if (expired.length) giveBackClaimed(expired.flatMap(deliveriesOf));
  }

  function deliveriesOf(request: Request) {
    return request.jobs.map((job) => job.delivery);
  }

  /** Drops every waiting request and returns its deliveries to the queue. */
  function dropWaiting() {
    const ids = slots.dropWaiting().flatMap(deliveriesOf);
    if (ids.length) giveBackClaimed(ids);
  }

  /** Claimed deliveries this process will not send: back to the queue, and a round to claim them again. */
  function giveBackClaimed(ids: { tenantId: string; id: string }[]) {
    releaseClaims(database, workerId, ids)
      .catch((error) =>
        logger.warn(
          { err: error, deliveries: ids.length },
          'could not give back claimed deliveries; their lease will bring them back',
        ),
      )
      .finally(wake);
  }

  /** Sends a request whose slots are taken. */
  function send(stored: StoredWebhook, jobs: DeliveryJob[]) {
    const { id, tenantId } = stored.webhook;
    // The webhook's slot is the request to its endpoint: free once the endpoint has answered,
    // while the attempt is still being written (the process-wide slot waits for that).
    let endpointFree = false;
    const freeEndpoint = () => {
      if (endpointFree) return;
      endpointFree = true;
      freeWebhookSlot(id);
    };
    deliverer
      .deliver(stored, jobs, freeEndpoint)
      .then((report) => {
        options.onReport?.(report);
        // What the claim saw while this request was in flight has changed once it is
        // recorded: a FIFO webhook's next delivery has its turn, and the loop's timer may be
        // later than the retry this delivery now awaits.
        if (stored.webhook.fifo || report.attempts.some((a) => a.status === 'AWAITING_RETRY')) wake();
      })
      .catch((error) => logger.error({ err: error, webhookId: id }, 'recording a delivery attempt failed'))
      .finally(() => {
        // The process's slot first: a wake for the endpoint's claims for the free slots.
        slots.freeProcessSlot(tenantId);
        if (slots.tenantFreedWakes(tenantId)) wake();
        freeEndpoint();
        processSlotFreed();
      });
  }

  function freeWebhookSlot(webhookId: string) {
    slots.freeWebhookSlot(webhookId);
    startWaiting(webhookId);
    if (slots.endpointFreedWakes(webhookId)) wake();
  }

  function processSlotFreed() {
    if (slots.inFlight === 0) idle?.();
    if (loop.running) go(slots.startableForProcess());
    if (slots.processFreedWakes()) wake();
  }

  /** Frees the slots taken for a request that is not sent. */
  function giveBack(stored: StoredWebhook) {
    slots.freeProcessSlot(stored.webhook.tenantId);
    freeWebhookSlot(stored.webhook.id);
    processSlotFreed();
  }

  return {
    reserve(stored) {
      const webhook = stored.webhook;
      if (!loop.running || !slots.mayHandOff(webhook.tenantId)) return null;
      // What the claim would order, pace, hold back or refuse is left to it.
      if (webhook.fifo || webhook.rateLimit !== null || webhook.retryPolicy.throttleMs > 0) return null;
      if (!webhook.enabled || webhook.deleted || webhook.status === 'FAILED') return null;
      // Older deliveries claimed ahead go first.
      if (!slots.reserve(webhook.id, webhook.tenantId)) return null;
      return { leasedBy: workerId, leaseMs: webhook.config.timeoutMs + leaseMarginMs };
    },
    launch(stored, jobs) {
      // Stopping: not sent. The stop gives the rows back with the rest this process holds (it
      // waits for this slot), or if it has already, their lease runs out and any dispatcher
      // claims them.
      if (!loop.running) giveBack(stored);
      else send(stored, jobs);
    },
    release: giveBack,
    async start() {
      loop.start();
      unlisten.push(await listenDeliveries(database, wake));
      unlisten.push(await listenWebhooks(database, dropWaiting));
      wake();
    },
    wake,
    webhooksChanged: dropWaiting,
    async stop(graceMs = 10_000) {
      const roundsOver = loop.stop();
      await Promise.all(unlisten.splice(0).map((stop) => stop().catch(() => {})));
      await roundsOver;
      // What waits here is given back below with the rest this process holds.
      slots.dropWaiting();
      if (slots.inFlight > 0) {
        const drained = new Promise<void>((resolve) => {
          idle = resolve;
        });
        await Promise.race([drained, new Promise((r) => setTimeout(r, graceMs))]);
      }
      const released = await releaseClaims(database, workerId);
      if (released) logger.info({ released }, 'gave back deliveries still in flight');
    },
  };
}
