import { type Database, reconnectDelay } from '../db/client.js';
import { DELIVERIES_CHANNEL } from '../deliveries/model.js';
import type { Logger } from '../logger.js';
import type { StoredWebhook } from '../webhooks/repository.js';
import type { Deliverer, DeliveryJob, DeliveryReport } from './deliver.js';
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
  /** Safety-net poll; LISTEN/NOTIFY and timers for known due times do the real waking. */
  pollMs?: number;
  leaseMarginMs?: number;
  /** Called after every recorded request (live logs hang off this). */
  onReport?: (report: DeliveryReport) => void;
}

export interface Dispatcher {
  start(): Promise<void>;
  /** Wakes the loop now (a publish in this process, a freed slot). */
  wake(): void;
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
  const pollMs = options.pollMs ?? 2000;
  const leaseMarginMs = options.leaseMarginMs ?? 15_000;

  let running = false;
  let pumping = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let inFlight = 0;
  /** Failed rounds in a row (the database is unreachable): the wait before the next one grows. */
  let failures = 0;
  const perWebhookInFlight = new Map<string, number>();
  /** The last claim round used every free slot of the process, so more may have been due. */
  let processLimited = false;
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

  /** Returns false when there was no free slot to claim for. */
  async function claimRound(): Promise<boolean> {
    const free = maxInFlight - inFlight;
    if (free <= 0) return false;
    const busy: Record<string, number> = {};
    for (const [id, n] of perWebhookInFlight) busy[id] = perWebhook - n;
    const claimed = await claimDue(database, { workerId, requests: free, perWebhook, busy, leaseMarginMs });
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
    let started = 0;
    for (const { stored, jobs } of byWebhook.values()) {
      // Due time, then id: UUIDv7 ids are creation order, so a batch keeps publish order.
      jobs.sort(
        ({ delivery: a }, { delivery: b }) =>
          (a.nextAttemptAt?.getTime() ?? 0) - (b.nextAttemptAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1),
      );
      for (let i = 0; i < jobs.length; i += stored.webhook.batchSize) {
        start(stored, jobs.slice(i, i + stored.webhook.batchSize));
        started++;
      }
    }
    processLimited = started >= free;
    // Something was due, so more may be: claim again until a round finds nothing.
    again = true;
    return true;
  }

  /**
   * A finished request wakes the loop only once a quarter of its webhook's slots are free, or,
   * when the last round was cut short by the process's own limit, a quarter of the process's:
   * under a backlog one claim round then fills many slots, instead of a round (and an empty one
   * after it) for every request. The last request of a webhook always wakes it.
   */
  function endpointFreed(webhookId: string) {
    if ((perWebhookInFlight.get(webhookId) ?? 0) <= perWebhook * 0.75) wake();
  }
  function slotFreed() {
    if (processLimited && inFlight <= maxInFlight * 0.75) wake();
  }

  function start(stored: StoredWebhook, jobs: DeliveryJob[]) {
    const id = stored.webhook.id;
    inFlight++;
    perWebhookInFlight.set(id, (perWebhookInFlight.get(id) ?? 0) + 1);
    // The webhook's slot is the request to its endpoint: free once the endpoint has answered,
    // while the attempt is still being written (the process-wide slot waits for that).
    let endpointFree = false;
    const freeEndpoint = () => {
      if (endpointFree) return;
      endpointFree = true;
      const left = (perWebhookInFlight.get(id) ?? 1) - 1;
      if (left > 0) perWebhookInFlight.set(id, left);
      else perWebhookInFlight.delete(id);
      endpointFreed(id);
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
        inFlight--;
        freeEndpoint();
        requests.delete(request);
        if (inFlight === 0) idle?.();
        slotFreed();
      });
    requests.add(request);
  }

  return {
    async start() {
      running = true;
      unlisten = await database.listen(DELIVERIES_CHANNEL, wake);
      wake();
    },
    wake,
    async stop(graceMs = 10_000) {
      running = false;
      clearTimeout(timer);
      await unlisten?.().catch(() => {});
      while (pumping) await new Promise((r) => setTimeout(r, 10));
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
