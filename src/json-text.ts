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

// The text of each property made lazy by `lazyJson`, by the object that holds it.
const lazyTexts = new WeakMap<object, Map<string, string>>();

const settle = (holder: object, key: string, value: unknown) => {
  Object.defineProperty(holder, key, { value, writable: true, enumerable: true, configurable: true });
  return value;
};

/**
 * Sets `holder[key]` to the value of the JSON `text`, parsed only when first read (and then
 * remembered with its text); `jsonTextOf` gives the text without parsing it. An event's data
 * read by the dispatcher goes into most requests as it is (the GENERIC envelope): its text is
 * spliced in, not serialised again. (The envelope still reads a few fields of the data, its
 * entity's name and tags, so the data is parsed all the same; a renderer that needed none
 * would not parse it.)
 */
export function lazyJson<T extends object>(holder: T, key: string, text: string | null): T {
  if (text === null) {
    settle(holder, key, null);
    return holder;
  }
  const texts = lazyTexts.get(holder) ?? new Map<string, string>();
  texts.set(key, text);
  lazyTexts.set(holder, texts);
  Object.defineProperty(holder, key, {
    enumerable: true,
    configurable: true,
    get() {
      return settle(this as object, key, rememberJsonText(JSON.parse(text) as unknown, text));
    },
    set(value: unknown) {
      lazyTexts.get(this as object)?.delete(key);
      settle(this as object, key, value);
    },
  });
  return holder;
}

/** The JSON text of `holder[key]` (null when it is null or missing), without parsing a lazy one. */
export function jsonTextOf<T extends object>(holder: T, key: keyof T & string): string | null {
  const lazy = lazyTexts.get(holder)?.get(key);
  if (lazy !== undefined) return lazy;
  const value = holder[key];
  return value === null || value === undefined ? null : jsonText(value);
}
