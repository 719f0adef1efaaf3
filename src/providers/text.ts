/** Appended where text was cut to fit a platform's limit. */
export const CUT_MARKER = '… [truncated]';

/**
 * At most `max` characters (UTF-16 code units, which is how Slack, Discord and Teams count),
 * ending with the marker when cut, never splitting a surrogate pair.
 */
export function truncate(text: string, max: number, marker = CUT_MARKER): string {
  if (text.length <= max) return text;
  if (max <= marker.length) return marker.slice(0, Math.max(0, max));
  let end = max - marker.length;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end) + marker;
}

export const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');

/** At most `maxBytes` of UTF-8 (WeCom counts bytes), ending with the marker when cut. */
export function truncateBytes(text: string, maxBytes: number, marker = CUT_MARKER): string {
  if (utf8Length(text) <= maxBytes) return text;
  const budget = maxBytes - utf8Length(marker);
  if (budget <= 0) return '';
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = utf8Length(ch);
    if (used + size > budget) break;
    out += ch;
    used += size;
  }
  return out + marker;
}

/** A value as short readable text: strings as they are, anything else as compact JSON. */
export function show(value: unknown, max = 300): string {
  if (value === undefined || value === null) return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return truncate(text, max);
}

/** Markdown-ish characters escaped for platforms that render user text as markdown. */
export const escapeMarkdown = (text: string) => text.replace(/([\\`*_~[\]()#>|])/g, '\\$1');
