import { resolveCursorConnection } from '@pothos/plugin-relay';
import { badInput } from '../errors.js';
import { decodeCursor, encodeCursor } from '../ids.js';

export interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/** Relay page arguments: first or last (not both), each 0 to 100. */
export function checkPageArgs(args: PageArgs) {
  for (const field of ['first', 'last'] as const) {
    const value = args[field];
    if (value != null && (value < 0 || value > 100)) throw badInput(field, `${field} must be from 0 to 100`);
  }
  if (args.first != null && args.last != null) throw badInput('last', 'give first or last, not both');
}

export interface KeysetPage {
  before: string | undefined;
  after: string | undefined;
  limit: number;
  inverted: boolean;
}

/**
 * A Relay connection over rows keyed by a UUIDv7 `id`, with a lazy `totalCount`. Cursors are
 * the ids, base64url-encoded so clients treat them as opaque.
 */
export async function keysetConnection<T extends { id: string }>(
  args: PageArgs,
  list: (page: KeysetPage) => Promise<T[]>,
  count: () => Promise<number>,
) {
  checkPageArgs(args);
  const { edges, pageInfo } = await resolveCursorConnection<Promise<T[]>>(
    { args, toCursor: (row) => encodeCursor(row.id) },
    ({ before, after, limit, inverted }) =>
      list({
        before: before === undefined ? undefined : decodeCursor(before, 'before'),
        after: after === undefined ? undefined : decodeCursor(after, 'after'),
        limit,
        inverted,
      }),
  );
  return { edges, pageInfo, totalCount: count };
}
