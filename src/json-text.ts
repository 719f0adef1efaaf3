/**
 * The JSON text of a value, serialised once: an event's data is serialised to check its size,
 * again to store it, and again to leave it out of a stored request body. Values given here are
 * never changed afterwards (validated input, rows read back), so the text stays theirs.
 */
const texts = new WeakMap<object, string>();

export function jsonText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  let text = texts.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    texts.set(value, text);
  }
  return text;
}

/** Remembers `text` as the JSON text of `value` (which it must be). */
export function rememberJsonText<T>(value: T, text: string): T {
  if (value !== null && typeof value === 'object') texts.set(value, text);
  return value;
}
