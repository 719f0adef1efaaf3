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
 */
export function fillTemplate(template: unknown, context: Record<string, unknown>): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) return lookup(context, whole[1] as string) ?? null;
    return template.replace(PLACEHOLDER, (_match, ref: string) => asText(lookup(context, ref)));
  }
  if (Array.isArray(template)) return template.map((item) => fillTemplate(item, context));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, fillTemplate(v, context)]));
  }
  return template;
}

/** One filled document per event; a webhook that batches gets `{"events": [...]}` of them. */
export const renderCustom: Renderer = ({ webhook, events }) => {
  const documents = events.map((event) =>
    fillTemplate(webhook.config.template, { ...envelope(event, webhook), summary: summarize(event) }),
  );
  return { body: JSON.stringify(webhook.batchSize > 1 ? { events: documents } : documents[0]) };
};
