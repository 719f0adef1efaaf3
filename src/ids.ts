import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';
import { badInput } from './errors.js';

// uuid draws each id's 16 random bytes through crypto.getRandomValues, whose per-call checks
// cost 2-3% of a busy dispatcher's CPU (an id per attempt, event and delivery): the bytes are
// drawn here from a pool filled 4 KiB at a time.
const pool = new Uint8Array(4096);
let drawn = pool.length;
function randomBytes16(): Uint8Array {
  if (drawn === pool.length) {
    randomFillSync(pool);
    drawn = 0;
  }
  drawn += 16;
  return pool.subarray(drawn - 16, drawn);
}

// Given its random bytes, uuid keeps no state between ids, so the time and counter that keep
// ids of one millisecond in creation order are kept here, as uuid keeps them (RFC 9562, 6.2
// method 1: a counter seeded from the random bytes each millisecond).
let lastMs = -Infinity;
let counter = 0;

/** UUIDv7: time-ordered, so primary-key order is creation order and cursors can use it. */
export function newId(): string {
  const random = randomBytes16();
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter =
      (((random[6] as number) & 0x7f) << 24) |
      ((random[7] as number) << 16) |
      ((random[8] as number) << 8) |
      (random[9] as number);
  } else {
    counter = (counter + 1) | 0;
    if (counter === 0) lastMs++;
  }
  return v7({ random, msecs: lastMs, seq: counter });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isUuid = (value: string) => UUID.test(value);

// Readable typed ids in the manner of Stripe and Svix (`wh_…`), so that an id in a log line,
// a receiver's `webhook-id` header or a curl command says what it points at.
const prefixByType: Record<string, string> = {
  Webhook: 'wh',
  Event: 'evt',
  Delivery: 'dlv',
  DeliveryAttempt: 'att',
  ApiToken: 'tok',
};
const typeByPrefix = Object.fromEntries(Object.entries(prefixByType).map(([t, p]) => [p, t]));

export function encodeGlobalId(typename: string, id: string | number | bigint): string {
  const prefix = prefixByType[typename];
  if (!prefix) throw new Error(`no global id prefix for ${typename}`);
  return `${prefix}_${id}`;
}

export function decodeGlobalId(globalId: string, field = 'id'): { typename: string; id: string } {
  const cut = globalId.indexOf('_');
  const typename = cut > 0 ? typeByPrefix[globalId.slice(0, cut)] : undefined;
  const id = globalId.slice(cut + 1);
  if (!typename || !isUuid(id)) throw badInput(field, `${field} is not a valid Hookline id`);
  return { typename, id };
}

/** The database id behind a global id that must name a `typename`. */
export function idOf(typename: string, globalId: string, field = 'id'): string {
  const decoded = decodeGlobalId(globalId, field);
  if (decoded.typename !== typename) throw badInput(field, `${field} is not a ${typename} id`);
  return decoded.id;
}

export const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');

export function decodeCursor(cursor: string, field: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isUuid(id)) throw badInput(field, `${field} is not a valid cursor`);
  return id;
}
