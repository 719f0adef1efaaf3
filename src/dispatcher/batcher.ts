export interface BatcherOptions<I, O> {
  /** Writes a batch; answers one result per input, in order. */
  write(inputs: I[]): Promise<O[]>;
  /**
   * Whether a batch of more than one that failed with `error` is written again one input at a
   * time (default: always), so that one bad input does not cost the others theirs. An error
   * every input would meet again (the database is unreachable) fails the whole batch instead.
   */
  oneByOne?: (error: unknown) => boolean;
  /**
   * Starts the first batch after a quiet spell (default: `setImmediate`, after the I/O callbacks
   * already due have run, so that the inputs that arrived with this one join its batch instead
   * of waiting for the next).
   */
  defer?: (start: () => void) => void;
}

/**
 * Writes one batch at a time: whatever arrives while a batch is being written goes in the next
 * one. So an idle writer writes each input (almost) at once, and a busy one writes in as few
 * batches as its writes allow, however many inputs come. (`batched` in src/batch.ts runs
 * batches side by side instead, one per key, and never tries an input alone.)
 */
export function createBatcher<I, O>(options: BatcherOptions<I, O>): (input: I) => Promise<O> {
  const { write } = options;
  const oneByOne = options.oneByOne ?? (() => true);
  const defer = options.defer ?? setImmediate;
  type Pending = { input: I; resolve(output: O): void; reject(error: unknown): void };
  let queue: Pending[] = [];
  let writing = false;

  async function writeBatch(batch: Pending[]) {
    const outputs = await write(batch.map((p) => p.input));
    batch.forEach((p, i) => p.resolve(outputs[i] as O));
  }

  /** Writes until the queue is empty; the caller marks the writer busy before it schedules this. */
  async function drain() {
    while (queue.length) {
      const batch = queue;
      queue = [];
      try {
        await writeBatch(batch);
      } catch (error) {
        if (batch.length === 1 || !oneByOne(error)) {
          for (const p of batch) p.reject(error);
          continue;
        }
        for (const p of batch) await writeBatch([p]).catch(p.reject);
      }
    }
    writing = false;
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (writing) return;
      writing = true;
      defer(() => void drain());
    });
}
