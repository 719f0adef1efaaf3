import type { Database } from '../db/client.js';
import { type LiveMessage, listenLive, type Unlisten } from '../db/notify.js';
import type { Logger } from '../logger.js';

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
  let unlisten: Unlisten | undefined;
  const onMessages = (messages: LiveMessage[]) => {
    for (const message of messages) for (const listener of listeners) listener(message);
  };
  const onMalformed = (error: unknown) => logger.warn({ err: error }, 'ignoring a malformed live message');
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    listeners: () => listeners.size,
    async start() {
      unlisten = await listenLive(database, onMessages, onMalformed);
    },
    async stop() {
      listeners.clear();
      await unlisten?.().catch(() => {});
    },
  };
}
