/**
 * Answers kept by key for a while: at most `max` of them (the oldest dropped first), each for
 * `maxAgeMs`. The promise is kept, so callers that ask while a read is under way share it; a
 * read that fails is forgotten, so the next caller reads again.
 */
export function memo<T>(options: { maxAgeMs: number; max: number }) {
  let entries = new Map<string, { value: Promise<T>; at: number }>();
  return {
    get(key: string, read: () => Promise<T>): Promise<T> {
      const now = Date.now();
      const hit = entries.get(key);
      if (hit && now - hit.at < options.maxAgeMs) return hit.value;
      const kept = entries;
      const entry = { value: read(), at: now };
      kept.delete(key);
      kept.set(key, entry);
      // Insertion order makes the first key the oldest.
      if (kept.size > options.max) kept.delete(kept.keys().next().value as string);
      entry.value.catch(() => {
        if (kept.get(key) === entry) kept.delete(key);
      });
      return entry.value;
    },
    /** Forgets everything; reads under way are not kept when they end. */
    clear() {
      entries = new Map();
    },
  };
}
