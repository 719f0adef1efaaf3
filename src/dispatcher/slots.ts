/**
 * The dispatcher's bookkeeping of request slots: how many requests are in flight in the
 * process, per webhook and per tenant, the requests claimed ahead and held here waiting for a
 * slot, and the rules on them: who may start, what a claim round may ask for, and when a freed
 * slot is worth a claim round. No I/O and no timers: the dispatcher does what these answer.
 */

export interface SlotLimits {
  /** Requests in flight at once in this process. */
  maxInFlight: number;
  /** Requests in flight at once to one webhook. */
  perWebhook: number;
  /** Requests of a webhook claimed ahead of its free slots and held here. */
  prefetch: number;
  /** Slots kept back from a tenant that already holds its share (default: an eighth of maxInFlight). */
  tenantReserve?: number;
  /** Added to a webhook's timeout to make a claim's lease. */
  leaseMarginMs: number;
}

/** What a claim round may ask for (the claim's `requests`, `perWebhook`, `busy` and `tenantRoom`). */
export interface ClaimAsk {
  /** Free slots, and room to hold as many requests again ahead of them. */
  requests: number;
  /** What one webhook may have claimed here at once. */
  perWebhook: number;
  /** Webhooks holding requests here, and how many more each may have claimed. */
  busy: Record<string, number>;
  /** Tenants holding requests here, and how many more each may have claimed. */
  tenantRoom: Record<string, number>;
}

/** The requests a claim round brought for one webhook, in the order they are to be sent. */
export interface ClaimedFor<T> {
  webhookId: string;
  tenantId: string;
  fifo: boolean;
  requests: T[];
}

/** What waits for a webhook and may go now: `start` has its slots taken, `expired` is to be given back. */
export interface Startable<T> {
  start: T[];
  expired: T[];
}

/** A request claimed ahead, waiting here for a free slot. */
interface Waiting<T> {
  request: T;
  tenantId: string;
  /** When the claim answered, by this process's clock. */
  claimedAt: number;
}

const bump = (counts: Map<string, number>, key: string, by: number) => {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
};

export class Slots<T> {
  readonly maxInFlight: number;
  readonly perWebhook: number;
  /** What one webhook may have claimed here at once: in flight, and waiting for a slot. */
  readonly perWebhookHeld: number;
  readonly tenantReserve: number;
  /** What one tenant may hold here at once (in flight and waiting), so others can always be claimed. */
  readonly tenantHoldCap: number;
  readonly leaseMarginMs: number;

  #inFlight = 0;
  readonly #perWebhookInFlight = new Map<string, number>();
  /** Requests in flight, and held here (in flight and waiting), per tenant. */
  readonly #tenantInFlight = new Map<string, number>();
  readonly #tenantHeld = new Map<string, number>();
  /** Tenants the last claim round held to their cap: one of their requests finishing wakes the loop. */
  readonly #tenantLimited = new Set<string>();
  /** The last claim round used every free slot of the process, so more may have been due. */
  #processLimited = false;
  /**
   * Webhooks that may have deliveries due that no slot was free for (a claim round used all
   * theirs, or a publish found none): a request of theirs that finishes wakes the loop. For
   * any other webhook nothing is waiting, so a finished request needs no claim round.
   */
  readonly #backlogged = new Set<string>();
  /** Requests claimed ahead, per webhook, oldest first (in flight and waiting: 2 × maxInFlight at most). */
  readonly #waiting = new Map<string, Waiting<T>[]>();
  #waitingCount = 0;
  /**
   * A held request found its webhook's slot free but none of the process's: a freed process
   * slot then looks through what waits. Otherwise a webhook's own freed slot starts its requests.
   */
  #heldForProcess = false;
  readonly #now: () => number;

  constructor(limits: SlotLimits, now: () => number = Date.now) {
    this.maxInFlight = limits.maxInFlight;
    this.perWebhook = limits.perWebhook;
    this.perWebhookHeld = limits.perWebhook + limits.prefetch;
    this.tenantReserve = Math.min(
      limits.maxInFlight - 1,
      limits.tenantReserve ?? Math.floor(limits.maxInFlight / 8),
    );
    this.tenantHoldCap = 2 * (limits.maxInFlight - this.tenantReserve);
    this.leaseMarginMs = limits.leaseMarginMs;
    this.#now = now;
  }

  /** Requests in flight in the process. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests claimed ahead and waiting here for a slot. */
  get waiting(): number {
    return this.#waitingCount;
  }

  inFlightTo(webhookId: string): number {
    return this.#perWebhookInFlight.get(webhookId) ?? 0;
  }

  /** What a tenant holds here: its requests in flight and waiting. */
  heldBy(tenantId: string): number {
    return this.#tenantHeld.get(tenantId) ?? 0;
  }

  /**
   * Whether a tenant may start one more request now. Slots are shared fairly: anyone may take
   * a free slot while more than `tenantReserve` are free; the last ones go only to a tenant
   * below its share (the slots divided among the tenants with requests in flight and one
   * more). So a tenant whose endpoints never answer holds at most maxInFlight - tenantReserve
   * slots, and another tenant's request starts at once.
   */
  tenantMayStart(tenantId: string): boolean {
    const free = this.maxInFlight - this.#inFlight;
    if (free <= 0) return false;
    if (free > this.tenantReserve) return true;
    const mine = this.#tenantInFlight.get(tenantId) ?? 0;
    const active = this.#tenantInFlight.size + (mine === 0 ? 1 : 0);
    return mine < Math.floor(this.maxInFlight / (active + 1));
  }

  /** What a claim round may ask for now, or null when there is no room to claim for. */
  ask(): ClaimAsk | null {
    // Free slots, and room to hold as many requests again ahead of them.
    const requests = 2 * this.maxInFlight - this.#inFlight - this.#waitingCount;
    if (requests <= 0) return null;
    const busy: Record<string, number> = {};
    for (const [id, n] of this.#perWebhookInFlight) busy[id] = this.perWebhookHeld - n;
    for (const [id, held] of this.#waiting) busy[id] = (busy[id] ?? this.perWebhookHeld) - held.length;
    const tenantRoom: Record<string, number> = {};
    for (const [tenant, held] of this.#tenantHeld)
      tenantRoom[tenant] = Math.max(0, this.tenantHoldCap - held);
    return { requests, perWebhook: this.perWebhookHeld, busy, tenantRoom };
  }

  /**
   * Holds what a round asked for by `ask` claimed, per webhook, until `startable` lets it go.
   * A webhook or tenant the round left no room for, or that used all the room it had, is
   * marked: one of its requests finishing is worth another round.
   */
  claimed(ask: ClaimAsk, claimed: ClaimedFor<T>[]): void {
    for (const [id, left] of Object.entries(ask.busy)) if (left <= 0) this.#backlogged.add(id);
    for (const [tenant, left] of Object.entries(ask.tenantRoom))
      if (left <= 0) this.#tenantLimited.add(tenant);
    const claimedAt = this.#now();
    let claimedRequests = 0;
    for (const { webhookId, tenantId, fifo, requests } of claimed) {
      const held = this.#waiting.get(webhookId) ?? [];
      for (const request of requests) {
        held.push({ request, tenantId, claimedAt });
        this.#waitingCount++;
        bump(this.#tenantHeld, tenantId, 1);
      }
      this.#waiting.set(webhookId, held);
      if (requests.length >= (fifo ? 1 : (ask.busy[webhookId] ?? this.perWebhookHeld)))
        this.#backlogged.add(webhookId);
      if ((this.#tenantHeld.get(tenantId) ?? 0) >= this.tenantHoldCap) this.#tenantLimited.add(tenantId);
      claimedRequests += requests.length;
    }
    this.#processLimited = claimedRequests >= ask.requests;
  }

  /**
   * Takes what waits for `webhookId` while it and the process have free slots. The lease is the
   * webhook's timeout plus the margin, counted from the claim: a request that waited here for
   * half the margin is given back instead of sent, so that it is never still in flight when its
   * lease runs out (another dispatcher would claim it again). What a claim round starts at once
   * has not waited, so a round always makes progress.
   */
  startable(webhookId: string): Startable<T> {
    const taken: Startable<T> = { start: [], expired: [] };
    this.#takeWaiting(webhookId, taken);
    return taken;
  }

  /**
   * A freed process slot: when a held request found its webhook's slot free but none of the
   * process's, looks through every webhook's waiting requests while the process has slots.
   */
  startableForProcess(): Startable<T> {
    const taken: Startable<T> = { start: [], expired: [] };
    if (!this.#heldForProcess) return taken;
    this.#heldForProcess = false;
    for (const id of this.#waiting.keys()) {
      if (this.#inFlight >= this.maxInFlight) break;
      this.#takeWaiting(id, taken);
    }
    // Full again before every webhook was looked at: the next freed slot goes on.
    if (this.#inFlight >= this.maxInFlight && this.#waiting.size) this.#heldForProcess = true;
    return taken;
  }

  #takeWaiting(webhookId: string, taken: Startable<T>) {
    const held = this.#waiting.get(webhookId);
    if (!held) return;
    while (
      held.length &&
      this.tenantMayStart((held[0] as Waiting<T>).tenantId) &&
      this.inFlightTo(webhookId) < this.perWebhook
    ) {
      const next = held.shift() as Waiting<T>;
      this.#waitingCount--;
      if (this.#now() - next.claimedAt > this.leaseMarginMs / 2) {
        bump(this.#tenantHeld, next.tenantId, -1);
        taken.expired.push(next.request);
        continue;
      }
      this.#take(webhookId, next.tenantId);
      taken.start.push(next.request);
    }
    if (!held.length) this.#waiting.delete(webhookId);
    else if (!this.tenantMayStart((held[0] as Waiting<T>).tenantId)) this.#heldForProcess = true;
  }

  /** Drops every waiting request, to be given back to the queue. */
  dropWaiting(): T[] {
    const dropped: T[] = [];
    for (const held of this.#waiting.values()) {
      for (const { request, tenantId } of held) {
        bump(this.#tenantHeld, tenantId, -1);
        dropped.push(request);
      }
    }
    this.#waiting.clear();
    this.#waitingCount = 0;
    return dropped;
  }

  /**
   * Whether a publish may hand a request of `tenantId` over now. When it may not, freed slots
   * wake the loop, as after a claim round cut short by the process's limit.
   */
  mayHandOff(tenantId: string): boolean {
    if (this.tenantMayStart(tenantId)) return true;
    this.#processLimited = true;
    return false;
  }

  /**
   * Takes a slot for a request handed over by a publish, unless the webhook is at its limit or
   * older requests of it wait here (they go first): then it is marked as backlogged.
   */
  reserve(webhookId: string, tenantId: string): boolean {
    if (this.inFlightTo(webhookId) >= this.perWebhook || this.#waiting.has(webhookId)) {
      this.#backlogged.add(webhookId);
      return false;
    }
    this.#take(webhookId, tenantId);
    bump(this.#tenantHeld, tenantId, 1);
    return true;
  }

  #take(webhookId: string, tenantId: string) {
    this.#inFlight++;
    this.#perWebhookInFlight.set(webhookId, this.inFlightTo(webhookId) + 1);
    bump(this.#tenantInFlight, tenantId, 1);
  }

  /** A request of `tenantId` is over (recorded, or not sent): its process slot is free. */
  freeProcessSlot(tenantId: string): void {
    this.#inFlight--;
    bump(this.#tenantInFlight, tenantId, -1);
    bump(this.#tenantHeld, tenantId, -1);
  }

  /** The endpoint of `webhookId` answered a request (or it was not sent): its webhook slot is free. */
  freeWebhookSlot(webhookId: string): void {
    const left = (this.#perWebhookInFlight.get(webhookId) ?? 1) - 1;
    if (left > 0) this.#perWebhookInFlight.set(webhookId, left);
    else this.#perWebhookInFlight.delete(webhookId);
  }

  /** A tenant held to its cap has a quarter of it free again: its waiting rows can be claimed. */
  tenantFreedWakes(tenantId: string): boolean {
    if (
      !this.#tenantLimited.has(tenantId) ||
      (this.#tenantHeld.get(tenantId) ?? 0) > this.tenantHoldCap * 0.75
    )
      return false;
    this.#tenantLimited.delete(tenantId);
    return true;
  }

  /**
   * A finished request wakes the loop only once half of what its webhook may hold here is
   * free, or, when the last round was cut short by the process's own limit, a quarter of the
   * process's slots: under a backlog one claim round then fills many slots, instead of a round
   * (and an empty one after it) for every request. Requests waiting here keep the slots busy
   * meanwhile. The last request of a webhook always wakes it.
   */
  endpointFreedWakes(webhookId: string): boolean {
    const held = this.inFlightTo(webhookId) + (this.#waiting.get(webhookId)?.length ?? 0);
    if (!this.#backlogged.has(webhookId) || held > this.perWebhookHeld / 2) return false;
    this.#backlogged.delete(webhookId);
    return true;
  }

  /** See `endpointFreedWakes`: the process's quarter. */
  processFreedWakes(): boolean {
    return this.#processLimited && this.#inFlight <= this.maxInFlight * 0.75;
  }
}
