/**
 * How much of each part a message may hold. A platform lists tiers from generous to terse and
 * takes the first whose message fits; what still does not fit is cut with the marker.
 */
export interface Limits {
  /** Events listed in a batch. */
  events: number;
  /** Changed fields listed per event. */
  fields: number;
  /** Characters of an old or new value. */
  value: number;
  /** Characters of the event's description. */
  text: number;
  /** Characters of one line (headline, fact). */
  line: number;
  /** Whether links are kept (a URL cannot be shortened and still work). */
  links?: boolean;
}

/** The message of the first tier for which `fits` holds, else that of the last tier. */
export function firstThatFits<T>(
  tiers: Limits[],
  build: (limits: Limits) => T,
  fits: (message: T) => boolean,
): T {
  let message = build(tiers[0] as Limits);
  for (const limits of tiers.slice(1)) {
    if (fits(message)) return message;
    message = build(limits);
  }
  return message;
}
