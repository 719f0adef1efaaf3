import type { DeliveryJob } from '../core/delivery.js';
import type { StoredWebhook } from '../webhooks/repository.js';

/**
 * How a publish in this process hands its new deliveries straight to the dispatcher: it
 * reserves a request slot before it stores them, stores them IN_FLIGHT under this process's
 * lease instead of PENDING, and launches them once committed. A delivery so stored needs no
 * claim round (a round trip, and the wait for the NOTIFY before it, on the path of every
 * delivery); if the process dies before sending it, its lease runs out and any dispatcher
 * claims it, as for a claimed one. Declared here, where publishing uses it; the dispatcher
 * implements it and `main` hands it over.
 */
export interface Handoff {
  /**
   * A slot for one request to `stored` (up to its batch size of deliveries) due now, or null
   * when it must wait for a claim round: the dispatcher is not running or has no slot free for
   * it, or the webhook's requests are ordered or paced by the claim (FIFO, rate-limited,
   * throttled), or it may not be sent to.
   */
  reserve(stored: StoredWebhook): HandoffLease | null;
  /** Sends a reserved request whose deliveries are committed under the lease. */
  launch(stored: StoredWebhook, jobs: DeliveryJob[]): void;
  /** Gives back a reserved slot whose deliveries were not stored. */
  release(stored: StoredWebhook): void;
}

export interface HandoffLease {
  leasedBy: string;
  /** How long the lease runs from the store (the webhook's timeout plus the margin). */
  leaseMs: number;
}
