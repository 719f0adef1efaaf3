import type { ConditionScalar, FieldCondition } from './webhook.js';
import type { HooklineEvent } from './event.js';

/**
 * The value a condition's path names: one of the event's own fields, or a dotted path into its
 * `data`. Null counts as missing, as JSON senders use null and absence alike. Validation has
 * already refused any other path, so an unknown one just finds nothing.
 */
export function conditionValue(event: HooklineEvent, path: string): unknown {
  let value: unknown;
  if (path.startsWith('data.')) {
    value = event.data;
    for (const part of path.slice(5).split('.')) {
      // Own properties only: `constructor` or `__proto__` in a path must not reach built-ins.
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
      value = (value as Record<string, unknown>)[part];
    }
  } else if (path === 'actor.name') {
    value = event.actor?.name;
  } else if (
    path === 'entityType' ||
    path === 'entityFqn' ||
    path === 'cluster' ||
    path === 'namespace' ||
    path === 'level'
  ) {
    value = event[path];
  }
  return value === null ? undefined : value;
}

/** Typed equality: the number 5 is not the string "5", so a condition means one thing only. */
const same = (value: unknown, expected: ConditionScalar) => value === expected;

const asList = (value: FieldCondition['value']): ConditionScalar[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/**
 * Whether one condition holds for `event`. A pure function of the two, with no I/O: it runs
 * for every candidate webhook of every published event.
 *
 * NE and NOT_IN are exactly the negations of EQ and IN, so they hold when the field is missing
 * (it is not equal to anything); a filter that needs the field present adds EXISTS. The
 * ordering and prefix operators hold only for a value of their type (a number, a string).
 */
export function conditionHolds(condition: FieldCondition, event: HooklineEvent): boolean {
  const value = conditionValue(event, condition.path);
  const expected = condition.value;
  switch (condition.op) {
    case 'EXISTS':
      return (value !== undefined) === (expected !== false);
    case 'EQ':
      return !Array.isArray(expected) && expected !== undefined && same(value, expected);
    case 'NE':
      return !(!Array.isArray(expected) && expected !== undefined && same(value, expected));
    case 'IN':
      return asList(expected).some((e) => same(value, e));
    case 'NOT_IN':
      return !asList(expected).some((e) => same(value, e));
    case 'PREFIX':
      return typeof value === 'string' && typeof expected === 'string' && value.startsWith(expected);
    default: {
      if (typeof value !== 'number' || typeof expected !== 'number') return false;
      if (condition.op === 'GT') return value > expected;
      if (condition.op === 'GTE') return value >= expected;
      if (condition.op === 'LT') return value < expected;
      return value <= expected;
    }
  }
}

/** Every condition must hold (AND); none at all always holds. */
export const conditionsHold = (conditions: FieldCondition[] | undefined, event: HooklineEvent) =>
  !conditions || conditions.every((c) => conditionHolds(c, event));
