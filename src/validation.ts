import type { z } from 'zod';
import { z as zod } from 'zod';
import { badInput } from './errors.js';

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

/** The first problem of a JSON value that jsonb would refuse or that nests too deep, if any. */
function jsonProblem(value: unknown, maxDepth: number, depth = 0): string | null {
  if (depth > maxDepth) return `must not nest deeper than ${maxDepth} levels`;
  if (typeof value === 'string') return storable(value) ? null : UNSTORABLE;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonProblem(item, maxDepth, depth + 1);
      if (problem) return problem;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (!storable(key)) return UNSTORABLE;
      const problem = jsonProblem(item, maxDepth, depth + 1);
      if (problem) return problem;
    }
  }
  return null;
}

/** Any JSON value that PostgreSQL can store as jsonb, nested at most `maxDepth` levels. */
export const jsonValue = (maxDepth = 32) =>
  zod
    .unknown()
    .superRefine((value, ctx) => {
      const problem = jsonProblem(value, maxDepth);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    // The JSON scalar builds objects without a prototype from inline literals, which drizzle
    // cannot bind; a round trip makes them plain.
    .transform((value) => (value === undefined ? value : JSON.parse(JSON.stringify(value))));

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

/** A JSON value of at most `maxBytes` once serialised (event data, templates). */
export const jsonOfAtMost = (maxBytes: number, maxDepth = 32) =>
  jsonValue(maxDepth).refine(
    (value) => value === undefined || Buffer.byteLength(JSON.stringify(value), 'utf8') <= maxBytes,
    { message: `must be at most ${maxBytes / 1024} KiB as JSON` },
  );

/** PostgreSQL has no year 0 and JavaScript dates reach far past what anyone means: years 1 to 9999. */
export const inDateRange = (d: Date) => d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999;

export const storableDate = zod
  .date({ message: 'must be an RFC 3339 date-time' })
  .refine(inDateRange, { message: 'must be a date between the years 1 and 9999' });
