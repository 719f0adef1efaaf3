import { type Column, getTableColumns, type SQL, sql, type Table } from 'drizzle-orm';
import { compiledOnce } from './client.js';
import { rememberJsonText } from '../json-text.js';

/**
 * A table's columns for a hand-written statement: `alias.column as "prefix.key"`, one per
 * drizzle column (the JSON columns named in `asText` as their text, see `decodeValues`), so
 * that one statement can return several tables' rows side by side (the dispatcher's claim)
 * without restating their column lists here. Compiled to text at once: as 40-odd fragments,
 * drizzle walked them every time the claim was compiled, once a round.
 */
export function selectColumns(table: Table, alias: string, prefix: string, asText: string[] = []): SQL {
  return compiledOnce(
    sql.join(
      columnsOf(table).map(([key, column]) => {
        const cast = asText.includes(key) ? sql.raw('::text') : sql``;
        return sql`${sql.identifier(alias)}.${sql.identifier(column.name)}${cast} as ${sql.identifier(`${prefix}.${key}`)}`;
      }),
      sql`, `,
    ),
  );
}

const columnLists = new WeakMap<Table, [string, Column][]>();
/** A table's columns, listed once: decoding runs for every row the dispatcher claims. */
function columnsOf(table: Table): [string, Column][] {
  let list = columnLists.get(table);
  if (!list) {
    list = Object.entries(getTableColumns(table));
    columnLists.set(table, list);
  }
  return list;
}

/**
 * The row `selectColumns(table, _, prefix, asText)` selected, as drizzle's query builder would
 * give it (see `decodeValues`).
 */
export function decodeColumns<T extends Table>(
  table: T,
  row: Record<string, unknown>,
  prefix: string,
  asText: string[] = [],
): T['$inferSelect'] {
  return decodeValues(
    table,
    columnsOf(table).map(([key]) => row[`${prefix}.${key}`]),
    0,
    asText,
  );
}

/** How many columns `selectColumns(table, …)` selects: where the next table's start in a row of values. */
export const columnCount = (table: Table): number => columnsOf(table).length;

/**
 * A table's row from a row of values (`Database.preparedValues`) holding the columns
 * `selectColumns(table, …, asText)` selected, in order, from `offset`: each value through its
 * column's own decoding (timestamps, JSON), the same on both drivers. A JSON column selected
 * `asText` is parsed here with its text remembered (`rememberJsonText`), so that serialising
 * it gives the stored text without serialising it again.
 */
export function decodeValues<T extends Table>(
  table: T,
  row: unknown[],
  offset: number,
  asText: string[] = [],
): T['$inferSelect'] {
  const out: Record<string, unknown> = {};
  let i = offset;
  for (const [key, column] of columnsOf(table)) {
    const value = row[i++];
    if (value === null || value === undefined) out[key] = null;
    else if (asText.includes(key))
      out[key] = rememberJsonText(JSON.parse(value as string) as unknown, value as string);
    else out[key] = column.mapFromDriverValue(value);
  }
  return out as T['$inferSelect'];
}

/**
 * An array of values of `type` as one JSON parameter (a statement text that never changes,
 * and one that both drivers pass alike: PGlite took a JS array parameter as a malformed array
 * literal). `column = any (…)` over it is an index condition: the array is an InitPlan.
 */
export const jsonArray = (values: readonly string[], type: 'uuid' | 'text'): SQL =>
  sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb)::${sql.raw(type)})`;
