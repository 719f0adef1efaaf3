import { type Database, reconnectDelay } from '../db/client.js';
import { listenDeliveries, listenWebhooks } from '../db/notify.js';
import type { Logger } from '../logger.js';
import type { Tracing } from '../tracing/tracing.js';
import type { StoredWebhook } from '../webhooks/repository.js';
import type { DeliveryJob } from '../core/delivery.js';
import type { Handoff } from '../events/handoff.js';
import type { DeliveryReport } from '../core/delivery.js';
import type { Deliverer } from './deliver.js';
import { claimDue, nextDueAt, releaseClaims } from './sql/claim.js';

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

/** A request claimed ahead, waiting here for a free slot. */
interface Waiting {
  stored: StoredWebhook;
  jobs: DeliveryJob[];
  /** When the claim answered, by this process's clock. */
  claimedAt: number;
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

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { database, deliverer, logger, workerId } = options;
  const maxInFlight = options.maxInFlight ?? 256;
  const perWebhook = options.perWebhook ?? 4;
  const prefetch = options.prefetch ?? 3 * perWebhook;
  /** What one webhook may have claimed here at once: in flight, and waiting for a slot. */
  const perWebhookHeld = perWebhook + prefetch;
  const pollMs = options.pollMs ?? 2000;
  const leaseMarginMs = options.leaseMarginMs ?? 15_000;
  const reserve = Math.min(maxInFlight - 1, options.tenantReserve ?? Math.floor(maxInFlight / 8));
  /** What one tenant may hold here at once (in flight and waiting), so others can always be claimed. */
  const tenantHoldCap = 2 * (maxInFlight - reserve);
  const tracing = options.tracing ?? null;

  let running = false;
  let pumping = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  const unlisten: (() => Promise<void>)[] = [];
  let inFlight = 0;
  /** Failed rounds in a row (the database is unreachable): the wait before the next one grows. */
  let failures = 0;
  const perWebhookInFlight = new Map<string, number>();
  /** Requests in flight, and held here (in flight and waiting), per tenant. */
  const tenantInFlight = new Map<string, number>();
  const tenantHeld = new Map<string, number>();
  /** Tenants the last claim round held to their cap: one of their requests finishing wakes the loop. */
  const tenantLimited = new Set<string>();
  const bump = (counts: Map<string, number>, key: string, by: number) => {
    const n = (counts.get(key) ?? 0) + by;
    if (n > 0) counts.set(key, n);
    else counts.delete(key);
  };
  /** The last claim round used every free slot of the process, so more may have been due. */
  let processLimited = false;
  /**
   * Webhooks that may have deliveries due that no slot was free for (a claim round used all
   * theirs, or a publish found none): a request of theirs that finishes wakes the loop. For
   * any other webhook nothing is waiting, so a finished request needs no claim round.
   */
  const backlogged = new Set<string>();
  /** Requests claimed ahead, per webhook, oldest first (in flight and waiting: 2 × maxInFlight at most). */
  const waiting = new Map<string, Waiting[]>();
  let waitingCount = 0;
  /**
   * A held request found its webhook's slot free but none of the process's: a freed process
   * slot then looks through what waits. Otherwise a webhook's own freed slot starts its requests.
   */
  let heldForProcess = false;
  const requests = new Set<Promise<void>>();
  let idle: (() => void) | undefined;

  const wake = () => {
    if (!running) return;
    if (pumping) {
      again = true;
      return;
    }
    void pump();
  };

  async function pump() {
    pumping = true;
    let failed = false;
    let full = false;
    try {
      do {
        again = false;
        full = !(await claimRound());
      } while (again && running);
    } catch (error) {
      failed = true;
      failures++;
      const retryInMs = reconnectDelay(failures);
      // Once per outage at error level, then quietly: a down database would flood the log.
      if (failures === 1) logger.error({ err: error, retryInMs }, 'cannot claim deliveries; backing off');
      else logger.debug({ err: error, retryInMs, failures }, 'still cannot claim deliveries');
    } finally {
      pumping = false;
    }
    if (!failed && failures > 0) {
      logger.info({ failures }, 'claiming deliveries again');
      failures = 0;
    }
    if (failed) schedule(reconnectDelay(failures));
    // Every slot busy: the next request to finish wakes the loop, so there is nothing to read.
    else if (full) schedule(pollMs);
    else await arm();
  }

  function schedule(delay: number) {
    clearTimeout(timer);
    if (running) timer = setTimeout(wake, delay);
  }

  /** Sleeps until the earliest known due time, but never longer than the poll interval. */
  async function arm() {
    if (!running) return;
    let delay = pollMs;
    try {
      const next = await nextDueAt(database);
      if (next) delay = Math.max(0, Math.min(pollMs, next.getTime() - Date.now() + 5));
    } catch (error) {
      logger.warn({ err: error }, 'could not read the next due time');
    }
    schedule(delay);
  }

  /** Returns false when there was no room to claim for. */
  async function claimRound(): Promise<boolean> {
    // Free slots, and room to hold as many requests again ahead of them.
    const room = 2 * maxInFlight - inFlight - waitingCount;
    if (room <= 0) return false;
    const busy: Record<string, number> = {};
    for (const [id, n] of perWebhookInFlight) busy[id] = perWebhookHeld - n;
    for (const [id, held] of waiting) busy[id] = (busy[id] ?? perWebhookHeld) - held.length;
    const tenantRoom: Record<string, number> = {};
    for (const [tenant, held] of tenantHeld) tenantRoom[tenant] = Math.max(0, tenantHoldCap - held);
    const startedAt = performance.now();
    let claimed: Awaited<ReturnType<typeof claimDue>>;
    try {
      claimed = await claimDue(database, {
        workerId,
        requests: room,
        perWebhook: perWebhookHeld,
        busy,
        leaseMarginMs,
        tenantRoom,
      });
    } catch (error) {
      if (tracing) traceClaim(tracing, startedAt, room, [], error as Error);
      throw error;
    }
    if (tracing && claimed.length) traceClaim(tracing, startedAt, room, claimed, null);
    for (const [id, left] of Object.entries(busy)) if (left <= 0) backlogged.add(id);
    for (const [tenant, left] of Object.entries(tenantRoom)) if (left <= 0) tenantLimited.add(tenant);
    if (!claimed.length) {
      processLimited = false;
      return true;
    }
    const byWebhook = new Map<string, { stored: StoredWebhook; jobs: DeliveryJob[] }>();
    for (const { delivery, event, webhook } of claimed) {
      const group = byWebhook.get(webhook.webhook.id) ?? { stored: webhook, jobs: [] };
      group.jobs.push({ delivery, event });
      byWebhook.set(webhook.webhook.id, group);
    }
    let claimedRequests = 0;
    const claimedAt = Date.now();
    for (const { stored, jobs } of byWebhook.values()) {
      const { id, batchSize, fifo } = stored.webhook;
      // Due time, then id: UUIDv7 ids are creation order, so a batch keeps publish order.
      jobs.sort(
        ({ delivery: a }, { delivery: b }) =>
          (a.nextAttemptAt?.getTime() ?? 0) - (b.nextAttemptAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1),
      );
      const held = waiting.get(id) ?? [];
      let requests = 0;
      for (let i = 0; i < jobs.length; i += batchSize) {
        held.push({ stored, jobs: jobs.slice(i, i + batchSize), claimedAt });
        waitingCount++;
        requests++;
        bump(tenantHeld, stored.webhook.tenantId, 1);
      }
      waiting.set(id, held);
      if (requests >= (fifo ? 1 : (busy[id] ?? perWebhookHeld))) backlogged.add(id);
      const tenant = stored.webhook.tenantId;
      if ((tenantHeld.get(tenant) ?? 0) >= tenantHoldCap) tenantLimited.add(tenant);
      claimedRequests += requests;
      startWaiting(id);
    }
    processLimited = claimedRequests >= room;
    // Something was due, so more may be: claim again until a round finds nothing.
    again = true;
    return true;
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
    claimed: Awaited<ReturnType<typeof claimDue>>,
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

  /**
   * Starts what waits for `webhookId` while it and the process have free slots. The lease is the
   * webhook's timeout plus the margin, counted from the claim: a request that waited here for
   * half the margin is given back instead of sent, so that it is never still in flight when its
   * lease runs out (another dispatcher would claim it again). What a claim round starts at once
   * has not waited, so a round always makes progress.
   */
  function startWaiting(webhookId: string) {
    const held = waiting.get(webhookId);
    if (!held) return;
    const expiring: { tenantId: string; id: string }[] = [];
    while (
      held.length &&
      running &&
      tenantMayStart((held[0] as Waiting).stored.webhook.tenantId) &&
      (perWebhookInFlight.get(webhookId) ?? 0) < perWebhook
    ) {
      const next = held.shift() as Waiting;
      waitingCount--;
      if (Date.now() - next.claimedAt > leaseMarginMs / 2) {
        bump(tenantHeld, next.stored.webhook.tenantId, -1);
        for (const job of next.jobs) expiring.push(job.delivery);
        continue;
      }
      take(next.stored);
      send(next.stored, next.jobs);
    }
    if (!held.length && waiting.get(webhookId) === held) waiting.delete(webhookId);
    else if (held.length && !tenantMayStart((held[0] as Waiting).stored.webhook.tenantId))
      heldForProcess = true;
    if (expiring.length) giveBackClaimed(expiring);
  }

  /** Drops every waiting request and returns its deliveries to the queue. */
  function dropWaiting() {
    const ids = [...waiting.values()].flatMap((held) =>
      held.flatMap((request) => request.jobs.map((job) => job.delivery)),
    );
    for (const held of waiting.values())
      for (const request of held) bump(tenantHeld, request.stored.webhook.tenantId, -1);
    waiting.clear();
    waitingCount = 0;
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

  /**
   * A finished request wakes the loop only once half of what its webhook may hold here is
   * free, or, when the last round was cut short by the process's own limit, a quarter of the
   * process's slots: under a backlog one claim round then fills many slots, instead of a round
   * (and an empty one after it) for every request. Requests waiting here keep the slots busy
   * meanwhile. The last request of a webhook always wakes it.
   */
  function endpointFreed(webhookId: string) {
    startWaiting(webhookId);
    const held = (perWebhookInFlight.get(webhookId) ?? 0) + (waiting.get(webhookId)?.length ?? 0);
    if (!backlogged.has(webhookId) || held > perWebhookHeld / 2) return;
    backlogged.delete(webhookId);
    wake();
  }
  function slotFreed() {
    if (heldForProcess) {
      heldForProcess = false;
      for (const id of waiting.keys()) {
        if (inFlight >= maxInFlight) break;
        startWaiting(id);
      }
      // Full again before every webhook was looked at: the next freed slot goes on.
      if (inFlight >= maxInFlight && waiting.size) heldForProcess = true;
    }
    if (processLimited && inFlight <= maxInFlight * 0.75) wake();
  }

  /**
   * Whether a tenant may start one more request now. Slots are shared fairly: anyone may take
   * a free slot while more than `reserve` are free; the last ones go only to a tenant below its
   * share (the slots divided among the tenants with requests in flight and one more). So a
   * tenant whose endpoints never answer holds at most maxInFlight - reserve slots, and another
   * tenant's request starts at once.
   */
  function tenantMayStart(tenantId: string): boolean {
    const free = maxInFlight - inFlight;
    if (free <= 0) return false;
    if (free > reserve) return true;
    const mine = tenantInFlight.get(tenantId) ?? 0;
    const active = tenantInFlight.size + (mine === 0 ? 1 : 0);
    return mine < Math.floor(maxInFlight / (active + 1));
  }

  function take(stored: StoredWebhook) {
    const { id, tenantId } = stored.webhook;
    inFlight++;
    perWebhookInFlight.set(id, (perWebhookInFlight.get(id) ?? 0) + 1);
    bump(tenantInFlight, tenantId, 1);
  }

  /** Sends a request whose slots `take` counted. */
  function send(stored: StoredWebhook, jobs: DeliveryJob[]) {
    const id = stored.webhook.id;
    // The webhook's slot is the request to its endpoint: free once the endpoint has answered,
    // while the attempt is still being written (the process-wide slot waits for that).
    let endpointFree = false;
    const freeEndpoint = () => {
      if (endpointFree) return;
      endpointFree = true;
      freeWebhookSlot(id);
    };
    const request = deliverer
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
        inFlight--;
        bump(tenantInFlight, stored.webhook.tenantId, -1);
        bump(tenantHeld, stored.webhook.tenantId, -1);
        tenantFreed(stored.webhook.tenantId);
        freeEndpoint();
        requests.delete(request);
        processSlotFreed();
      });
    requests.add(request);
  }

  function freeWebhookSlot(webhookId: string) {
    const left = (perWebhookInFlight.get(webhookId) ?? 1) - 1;
    if (left > 0) perWebhookInFlight.set(webhookId, left);
    else perWebhookInFlight.delete(webhookId);
    endpointFreed(webhookId);
  }

  /** A tenant held to its cap has a quarter of it free again: its waiting rows can be claimed. */
  function tenantFreed(tenantId: string) {
    if (!tenantLimited.has(tenantId) || (tenantHeld.get(tenantId) ?? 0) > tenantHoldCap * 0.75) return;
    tenantLimited.delete(tenantId);
    wake();
  }

  function processSlotFreed() {
    if (inFlight === 0) idle?.();
    slotFreed();
  }

  /** Frees the slots `take` counted for a request that is not sent. */
  function giveBack(stored: StoredWebhook) {
    inFlight--;
    bump(tenantInFlight, stored.webhook.tenantId, -1);
    bump(tenantHeld, stored.webhook.tenantId, -1);
    freeWebhookSlot(stored.webhook.id);
    processSlotFreed();
  }

  return {
    reserve(stored) {
      const webhook = stored.webhook;
      if (!running) return null;
      if (!tenantMayStart(webhook.tenantId)) {
        // As after a claim round cut short by the process's limit: freed slots wake the loop.
        processLimited = true;
        return null;
      }
      // What the claim would order, pace, hold back or refuse is left to it.
      if (webhook.fifo || webhook.rateLimit !== null || webhook.retryPolicy.throttleMs > 0) return null;
      if (!webhook.enabled || webhook.deleted || webhook.status === 'FAILED') return null;
      // Older deliveries claimed ahead go first.
      if ((perWebhookInFlight.get(webhook.id) ?? 0) >= perWebhook || waiting.has(webhook.id)) {
        backlogged.add(webhook.id);
        return null;
      }
      take(stored);
      bump(tenantHeld, webhook.tenantId, 1);
      return { leasedBy: workerId, leaseMs: webhook.config.timeoutMs + leaseMarginMs };
    },
    launch(stored, jobs) {
      // Stopping: not sent. The stop gives the rows back with the rest this process holds (it
      // waits for this slot), or if it has already, their lease runs out and any dispatcher
      // claims them.
      if (!running) giveBack(stored);
      else send(stored, jobs);
    },
    release: giveBack,
    async start() {
      running = true;
      unlisten.push(await listenDeliveries(database, wake));
      unlisten.push(await listenWebhooks(database, dropWaiting));
      wake();
    },
    wake,
    webhooksChanged: dropWaiting,
    async stop(graceMs = 10_000) {
      running = false;
      clearTimeout(timer);
      await Promise.all(unlisten.splice(0).map((stop) => stop().catch(() => {})));
      while (pumping) await new Promise((r) => setTimeout(r, 10));
      // What waits here is given back below with the rest this process holds.
      for (const held of waiting.values())
        for (const request of held) bump(tenantHeld, request.stored.webhook.tenantId, -1);
      waiting.clear();
      waitingCount = 0;
      if (inFlight > 0) {
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
