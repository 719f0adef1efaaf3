import type { z } from 'zod';
import { z as zod } from 'zod';
import { badInput } from './errors.js';
import { rememberJsonText } from './json-text.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** PostgreSQL text and jsonb refuse NUL, and UTF-8 cannot encode a lone surrogate. */
export const storable = (s: string) => !s.includes('\u0000') && !LONE_SURROGATE.test(s);
// A string, not a shared params object: zod rewrites the params objects it is given.
const UNSTORABLE = 'must not contain NUL characters or unpaired surrogates';

export const text = (max: number) =>
  zod
    .string({ message: 'must be a string' })
    .max(max, { message: `must be at most ${max} characters` })
    .refine(storable, { message: UNSTORABLE });

export const nonEmptyText = (max: number) =>
  text(max).refine((s) => s.trim().length > 0, { message: 'must not be empty' });

/**
 * Parses an input object, or throws BAD_USER_INPUT naming the first bad field (a dotted path
 * relative to the object) with every issue listed in `extensions.issues`.
 */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, index?: number): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const [first] = issues;
  if (!first) throw badInput('', 'invalid input');
  const where = index === undefined ? '' : ` (item ${index})`;
  throw badInput(first.field, `${first.field || 'input'} ${first.message}${where}`, {
    ...(index === undefined ? {} : { index }),
    ...(issues.length > 1 ? { issues } : {}),
  });
}

/**
 * What a walk of a JSON value finds that its text cannot say: whether it nests deeper than
 * `maxDepth`, and whether any object lacks a prototype (the JSON scalar builds those from
 * inline literals, which drizzle cannot bind).
 */
function jsonShape(value: unknown, maxDepth: number, depth = 0): 'deep' | 'bare' | 'plain' {
  if (depth > maxDepth) return 'deep';
  if (value === null || typeof value !== 'object') return 'plain';
  let shape: 'bare' | 'plain' = Object.getPrototypeOf(value) === null ? 'bare' : 'plain';
  // Walked in place rather than through Object.values, whose array per object was most of the
  // walk's cost. A JSON object's prototype, when it has one, is Object.prototype: for-in sees
  // its own keys only.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const inner = jsonShape(value[i], maxDepth, depth + 1);
      if (inner === 'deep') return inner;
      if (inner === 'bare') shape = inner;
    }
    return shape;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const inner = jsonShape(record[key], maxDepth, depth + 1);
    if (inner === 'deep') return inner;
    if (inner === 'bare') shape = inner;
  }
  return shape;
}

/**
 * A NUL or an unpaired surrogate in serialised JSON: JSON.stringify writes both as \u escapes
 * (and nothing else as these), so an escape not itself escaped (an odd run of backslashes) is one.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/;

/**
 * A JSON value of at most `maxBytes` once serialised (event data, templates), checked on its
 * text: one serialisation, which is remembered (`jsonText`) for storing it.
 */
export const jsonOfAtMost = (maxBytes: number, maxDepth = 32) =>
  zod.unknown().transform((value, ctx) => {
    if (value === undefined) return value;
    const shape = jsonShape(value, maxDepth);
    if (shape === 'deep') {
      ctx.addIssue({ code: 'custom', message: `must not nest deeper than ${maxDepth} levels` });
      return zod.NEVER;
    }
    const serialised = JSON.stringify(value);
    // Most JSON holds no \u escape at all: one scan for it is cheaper than the pattern's.
    if (serialised.includes('\\u') && UNSTORABLE_ESCAPE.test(serialised)) {
      ctx.addIssue({ code: 'custom', message: UNSTORABLE });
      return zod.NEVER;
    }
    // A UTF-16 unit is at most 3 bytes of UTF-8: short text needs no count.
    if (serialised.length * 3 > maxBytes && Buffer.byteLength(serialised, 'utf8') > maxBytes) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${maxBytes / 1024} KiB as JSON` });
      return zod.NEVER;
    }
    return rememberJsonText(shape === 'bare' ? JSON.parse(serialised) : value, serialised);
  });

/** PostgreSQL has no year 0 and JavaScript dates reach far past what anyone means: years 1 to 9999. */
export const inDateRange = (d: Date) => d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999;

export const storableDate = zod
  .date({ message: 'must be an RFC 3339 date-time' })
  .refine(inDateRange, { message: 'must be a date between the years 1 and 9999' });
