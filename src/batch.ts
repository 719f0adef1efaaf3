/**
 * Collects calls and runs those with the same key as one batch: `run` gets every call's
 * input and answers one result per input, in order. Nothing is cached: each call reads anew.
 *
 * A batch runs on the next `setImmediate`: GraphQL calls the resolvers of a list's items one
 * after another once the list has arrived, through promises that settle without waiting for
 * I/O, so by then every item has asked; the price is one turn of the event loop.
 */
export function batched<I, O>(keyOf: (input: I) => string, run: (inputs: I[]) => Promise<O[]>) {
  type Call = { input: I; resolve: (output: O) => void; reject: (error: unknown) => void };
  let pending = new Map<string, Call[]>();

  function flush() {
    const groups = [...pending.values()];
    pending = new Map();
    for (const calls of groups) {
      Promise.resolve()
        .then(() => run(calls.map((c) => c.input)))
        .then(
          (outputs) => calls.forEach((c, i) => c.resolve(outputs[i] as O)),
          (error) => calls.forEach((c) => c.reject(error)),
        );
    }
  }

  return (input: I): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      if (!pending.size) setImmediate(flush);
      const key = keyOf(input);
      const calls = pending.get(key);
      if (calls) calls.push({ input, resolve, reject });
      else pending.set(key, [{ input, resolve, reject }]);
    });
}
