import { utf8Length } from './text.js';

/** A request body would pass HOOKLINE_MAX_REQUEST_BYTES; it is neither sent nor shown. */
export class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the rendered request body would be larger than ${maxBytes} bytes (HOOKLINE_MAX_REQUEST_BYTES)`);
    this.name = 'BodyTooLarge';
  }
}

/** The one check every platform's body passes, exactly, in bytes, before it is sent or shown. */
export function assertFits(body: string, maxBytes: number): void {
  if (utf8Length(body) > maxBytes) throw new BodyTooLarge(maxBytes);
}

export interface Budget {
  /** Counts `chars` more of output, and throws BodyTooLarge once the body cannot fit any more. */
  spend(chars: number): void;
}

/**
 * What a renderer that repeats its input (a template, a batch) counts while it builds, so that
 * it stops before anything big is allocated. It counts UTF-16 code units of what goes in,
 * before JSON escaping: never more than the body's UTF-8 bytes, so passing `maxBytes` here
 * proves the body too large; a body that stays under it is at most a few times `maxBytes`
 * (escaping), and `assertFits` then measures it exactly.
 */
export function budget(maxBytes: number): Budget {
  let used = 0;
  return {
    spend(chars) {
      used += chars;
      if (used > maxBytes) throw new BodyTooLarge(maxBytes);
    },
  };
}

/**
 * A body of documents serialized one by one, each counted before the next is made: the one
 * document, or `{"events":[…]}` of them for a webhook that batches. It is byte for byte
 * JSON.stringify of the same value.
 */
export function documentsBody(
  documents: Iterable<unknown>,
  options: {
    batched: boolean;
    maxBytes: number;
    /** Each document's JSON text, when the caller has a cheaper way to it than JSON.stringify. */
    serialize?: (document: unknown) => string;
  },
): string {
  const spent = budget(options.maxBytes);
  const parts: string[] = [];
  for (const document of documents) {
    // JSON.stringify gives undefined for undefined; inside an array that is null.
    const part = options.serialize ? options.serialize(document) : (JSON.stringify(document) ?? 'null');
    spent.spend(part.length + 1);
    parts.push(part);
  }
  return options.batched ? `{"events":[${parts.join(',')}]}` : (parts[0] ?? 'null');
}
