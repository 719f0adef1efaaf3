import { DomainError } from '../errors.js';

/** How many live subscriptions may be open at once in one process. */
export interface SubscriptionLimits {
  /** Per token (keyed on its id, so every socket and stream of one token shares the count). */
  perToken: number;
  /** In the whole process, whoever opens them. */
  total: number;
}

/**
 * Slots for open subscriptions. A subscription holds buffers, a feed listener and a socket,
 * so without a cap one token could hold the process's memory. `acquire` takes a slot or
 * refuses with TOO_MANY_SUBSCRIPTIONS; its release gives the slot back once, however many
 * ways the subscription ends.
 */
export function createSubscriptionQuota(limits: SubscriptionLimits) {
  const byToken = new Map<string, number>();
  let total = 0;
  return {
    acquire(tokenId: string): () => void {
      const mine = byToken.get(tokenId) ?? 0;
      if (mine >= limits.perToken) {
        throw new DomainError(
          'TOO_MANY_SUBSCRIPTIONS',
          `this token has ${limits.perToken} subscriptions open, the most one token may have (HOOKLINE_MAX_SUBSCRIPTIONS_PER_TOKEN); end one to open another`,
          { limit: limits.perToken },
        );
      }
      if (total >= limits.total) {
        throw new DomainError(
          'TOO_MANY_SUBSCRIPTIONS',
          `this server has ${limits.total} subscriptions open, the most it serves at once (HOOKLINE_MAX_SUBSCRIPTIONS); try again later`,
          { limit: limits.total },
        );
      }
      byToken.set(tokenId, mine + 1);
      total += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total -= 1;
        const left = (byToken.get(tokenId) ?? 1) - 1;
        // Tokens without subscriptions leave no entry behind.
        if (left > 0) byToken.set(tokenId, left);
        else byToken.delete(tokenId);
      };
    },
  };
}
