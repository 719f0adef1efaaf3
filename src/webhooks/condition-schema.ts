import { z } from 'zod';
import { storable } from '../validation.js';
import { conditionFields, type FieldCondition, type FilterOp, filterOps } from '../core/webhook.js';

export const MAX_CONDITIONS = 20;
export const MAX_IN_VALUES = 100;
export const MAX_PATH_LENGTH = 256;
/** Segments after `data.`: deeper than any payload anyone filters on, and a bound on each walk. */
export const MAX_DATA_DEPTH = 10;
const MAX_STRING = 1024;

const fields: readonly string[] = conditionFields;

/** What is wrong with a path, if anything: an event field, or data.<1 to 10 non-empty segments>. */
function pathProblem(path: string): string | null {
  if (fields.includes(path)) return null;
  if (!path.startsWith('data.')) {
    return `must be one of ${conditionFields.join(', ')} or data.<dotted path>`;
  }
  const parts = path.slice(5).split('.');
  if (parts.some((p) => p === '')) return 'must not have an empty segment';
  if (parts.length > MAX_DATA_DEPTH) return `must have at most ${MAX_DATA_DEPTH} segments after data.`;
  return null;
}

/** Why a value is not a scalar a condition can compare with, if it is not one. */
function scalarProblem(value: unknown): string | null {
  if (typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'must be a finite number';
  if (typeof value === 'string') {
    if (value.length > MAX_STRING) return `must be at most ${MAX_STRING} characters`;
    return storable(value) ? null : 'must not contain NUL characters or unpaired surrogates';
  }
  return 'must be a string, number or boolean';
}

/** The checks of `value` for each operator; each adds its issues under `value`. */
function checkValue(op: FilterOp, value: unknown, ctx: z.RefinementCtx) {
  const issue = (message: string, ...at: number[]) =>
    ctx.addIssue({ code: 'custom', path: ['value', ...at], message });
  switch (op) {
    case 'EXISTS':
      if (value != null && typeof value !== 'boolean') issue('must be true, false or absent for EXISTS');
      return;
    case 'IN':
    case 'NOT_IN': {
      if (!Array.isArray(value) || value.length === 0) return issue(`must be a non-empty list for ${op}`);
      if (value.length > MAX_IN_VALUES) return issue(`must have at most ${MAX_IN_VALUES} values`);
      value.forEach((item, i) => {
        const problem = scalarProblem(item);
        if (problem) issue(problem, i);
      });
      return;
    }
    case 'PREFIX': {
      if (typeof value !== 'string' || value === '') return issue('must be a non-empty string for PREFIX');
      const problem = scalarProblem(value);
      if (problem) issue(problem);
      return;
    }
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE':
      // Numbers only: the fields a condition can name hold no times, and comparing RFC 3339
      // strings as times would need a parse per event and a rule for offsets and precision;
      // PREFIX covers a day or a month ("2026-12").
      if (typeof value !== 'number' || !Number.isFinite(value)) issue(`must be a number for ${op}`);
      return;
    default: {
      if (value == null) return issue(`is required for ${op}`);
      const problem = scalarProblem(value);
      if (problem) issue(problem);
    }
  }
}

const condition = z
  .strictObject(
    {
      path: z
        .string({ message: 'must be a string' })
        .max(MAX_PATH_LENGTH, { message: `must be at most ${MAX_PATH_LENGTH} characters` })
        .superRefine((path, ctx) => {
          const problem = pathProblem(path);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      op: z.enum(filterOps, { message: `must be one of ${filterOps.join(', ')}` }),
      value: z.unknown().optional(),
    },
    { message: 'must be a field condition' },
  )
  .superRefine((c, ctx) => checkValue(c.op, c.value, ctx))
  // Stored as it will be read: no value key when there is none (EXISTS), plain arrays.
  .transform((c): FieldCondition => {
    const value =
      c.value == null ? undefined : (JSON.parse(JSON.stringify(c.value)) as FieldCondition['value']);
    return value === undefined ? { path: c.path, op: c.op } : { path: c.path, op: c.op, value };
  });

/** A filter's `where`: conditions that must all hold. */
export const fieldConditions = z
  .array(condition, { message: 'must be a list of field conditions' })
  .max(MAX_CONDITIONS, { message: `must have at most ${MAX_CONDITIONS} conditions` });
