import { budget, type Budget, documentsBody } from './budget.js';
import { envelope } from './generic.js';
import type { Renderer } from './renderer.js';
import { summarize } from './summary.js';

// `{{ path.to.field }}`: identifiers and list positions separated by dots.
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|\d+))*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|\d+))*)\s*\}\}$/;

/** What a template may refer to: the GENERIC envelope's fields, plus `summary` (one readable line and friends). */
export const templateRoots = [
  'eventId',
  'eventType',
  'timestamp',
  'entity',
  'changeDescription',
  'webhookName',
  'cluster',
  'namespace',
  'actor',
  'level',
  'data',
  'summary',
] as const;

/**
 * Why a template cannot be used, or null. Placeholders live in string values only; a string
 * that is a placeholder and nothing else becomes the value itself (any JSON type), one with
 * other text around becomes text. Object keys are fixed.
 */
export function templateProblem(template: unknown, path = ''): string | null {
  if (typeof template === 'string') {
    const opened = (template.match(/\{\{/g) ?? []).length;
    const valid = [...template.matchAll(PLACEHOLDER)];
    if (opened !== valid.length)
      return `${path || 'template'}: a placeholder is malformed; write {{path.to.field}}`;
    for (const [, ref] of valid) {
      const root = (ref as string).split('.')[0] as (typeof templateRoots)[number];
      if (!templateRoots.includes(root)) {
        return `${path || 'template'}: {{${ref}}} names nothing; a placeholder starts with one of ${templateRoots.join(', ')}`;
      }
    }
    return null;
  }
  if (Array.isArray(template)) {
    for (const [i, item] of template.entries()) {
      const problem = templateProblem(item, `${path}[${i}]`);
      if (problem) return problem;
    }
  } else if (template !== null && typeof template === 'object') {
    for (const [key, value] of Object.entries(template)) {
      if (key.includes('{{')) return `${path ? `${path}.` : ''}${key}: placeholders are not allowed in keys`;
      const problem = templateProblem(value, path ? `${path}.${key}` : key);
      if (problem) return problem;
    }
  }
  return null;
}

function lookup(context: Record<string, unknown>, ref: string): unknown {
  let value: unknown = context;
  for (const part of ref.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const asText = (value: unknown) =>
  value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);

/**
 * Fills the template by walking it as data, never by pasting text into JSON: whatever an
 * event holds (quotes, braces, newlines) ends up as a value inside the document that
 * JSON.stringify escapes, so it cannot change the document's shape.
 *
 * A template can repeat a placeholder thousands of times, and so multiply the event's data:
 * every piece is counted on `spent` before it is added, so filling stops (BodyTooLarge) as
 * soon as the document passes the limit instead of building it first.
 */
export function fillTemplate(template: unknown, context: Record<string, unknown>, spent: Budget): unknown {
  // One event's values, each looked up, turned into text and measured once however often used.
  const values = new Map<string, { value: unknown; text: string | undefined; size: number | undefined }>();
  const resolve = (ref: string) => {
    let found = values.get(ref);
    if (!found) {
      found = { value: lookup(context, ref) ?? null, text: undefined, size: undefined };
      values.set(ref, found);
    }
    return found;
  };
  const textOf = (ref: string) => {
    const found = resolve(ref);
    found.text ??= asText(found.value);
    return found.text;
  };

  const fill = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const whole = WHOLE.exec(node);
      if (whole) {
        const found = resolve(whole[1] as string);
        // The value is shared, not copied, until JSON.stringify writes it out once per use.
        found.size ??=
          typeof found.value === 'string' ? found.value.length : JSON.stringify(found.value).length;
        spent.spend(found.size);
        return found.value;
      }
      let out = '';
      let at = 0;
      for (const match of node.matchAll(PLACEHOLDER)) {
        const before = node.slice(at, match.index);
        const text = textOf(match[1] as string);
        spent.spend(before.length + text.length);
        out += before + text;
        at = match.index + match[0].length;
      }
      const rest = node.slice(at);
      spent.spend(rest.length);
      return at === 0 ? node : out + rest;
    }
    if (Array.isArray(node)) return node.map(fill);
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).map(([k, v]) => {
          spent.spend(k.length);
          return [k, fill(v)];
        }),
      );
    }
    return node;
  };
  return fill(template);
}

/** One filled document per event; a webhook that batches gets `{"events": [...]}` of them. */
export const renderCustom: Renderer = ({ webhook, events, maxBytes }) => {
  const spent = budget(maxBytes);
  function* documents() {
    for (const event of events) {
      yield fillTemplate(
        webhook.config.template,
        { ...envelope(event, webhook), summary: summarize(event) },
        spent,
      );
    }
  }
  return { body: documentsBody(documents(), { batched: webhook.batchSize > 1, maxBytes }) };
};
