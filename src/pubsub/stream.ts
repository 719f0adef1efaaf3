/**
 * A subscription's buffer: messages pushed by the live feed wait here until the transport
 * pulls them (graphql-ws pulls the next one only once the previous one was written to the
 * socket). It holds at most `capacity` messages: a subscriber that falls further behind gets
 * `tooSlow` as its last item, is told through `onOverflow` (which disconnects it), and its
 * messages are dropped, so one stuck client can neither grow memory nor slow anyone else.
 */
/** Messages loaded ahead of the subscriber; few enough that their bodies stay a small cost. */
const PREFETCH = 32;

export function boundedStream<M, R>(options: {
  capacity: number;
  /** Registers `push` with the feed; returns the unsubscribe. */
  subscribe: (push: (message: M) => void) => () => void;
  /** Turns a message into what the subscriber receives, or null to skip it. */
  load: (message: M) => Promise<R | null>;
  tooSlow: () => Error;
  onOverflow?: () => void;
  onEnd?: () => void;
}): AsyncIterableIterator<R> & { end(): void } {
  // Each waiting message, with its load once started: the next few are loaded ahead, together,
  // so a busy feed costs one read per batch instead of one per message in turn.
  const queue: { message: M; value?: Promise<R | null> }[] = [];
  let waiting: ((ready: true) => void) | null = null;
  let overflowed = false;
  let ended = false;

  const wake = () => {
    const resolve = waiting;
    waiting = null;
    resolve?.(true);
  };
  let subscribed = true;
  const stopListening = () => {
    if (!subscribed) return;
    subscribed = false;
    unsubscribe();
    options.onEnd?.();
  };
  const unsubscribe = options.subscribe((message) => {
    if (ended || overflowed) return;
    if (queue.length >= options.capacity) {
      // Stop listening at once: the transport may take a while to notice (it is blocked on
      // the very socket that does not drain), and nothing should pile up meanwhile.
      overflowed = true;
      queue.length = 0;
      stopListening();
      options.onOverflow?.();
    } else {
      queue.push({ message });
    }
    wake();
  });
  const end = () => {
    if (ended) return;
    ended = true;
    queue.length = 0;
    stopListening();
    wake();
  };

  const stream = {
    [Symbol.asyncIterator]() {
      return stream;
    },
    async next(): Promise<IteratorResult<R>> {
      for (;;) {
        if (overflowed && !ended) {
          end();
          throw options.tooSlow();
        }
        if (ended) return { done: true, value: undefined };
        for (const item of queue.slice(0, PREFETCH)) item.value ??= options.load(item.message);
        const item = queue.shift();
        if (item === undefined) {
          await new Promise<true>((resolve) => {
            waiting = resolve;
          });
          continue;
        }
        const value = await (item.value ?? options.load(item.message));
        if (value !== null) return { done: false, value };
      }
    },
    async return(): Promise<IteratorResult<R>> {
      end();
      return { done: true, value: undefined };
    },
    async throw(error: unknown): Promise<IteratorResult<R>> {
      end();
      throw error;
    },
    end,
  };
  return stream;
}
