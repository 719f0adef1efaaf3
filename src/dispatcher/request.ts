import type { HooklineEvent } from '../core/event.js';
import { renderGeneric } from '../providers/generic.js';
import { assertFits, BodyTooLarge } from '../providers/budget.js';
import type { Rendered, Renderer, RendererRegistry, RenderInput } from '../providers/renderer.js';
import { version } from '../version.js';
import { MASK } from '../webhooks/changes.js';
import { type SecretReference, signatureHeaderOf } from '../core/webhook.js';
import type { StoredWebhook } from '../webhooks/repository.js';
import type { OutboundRequest } from './send.js';
import {
  currentSecret,
  readReference,
  SecretUnavailable,
  signatureHeaders,
  signingKeys,
} from '../core/signing.js';

const USER_AGENT = `Hookline/${version}`;

// Control characters other than tab: never in a header value (RFC 9110) or a Basic password (RFC 7617).
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const refName = (ref: SecretReference) =>
  ref.env ? `the environment variable ${ref.env}` : `the file ${ref.file}`;

export interface PreparedRequest {
  request: OutboundRequest;
  /** The headers as the history and previewPayload show them: credentials and secret values masked. */
  shownHeaders: Record<string, string>;
  /**
   * How many of the events, from the first, the request holds: all of them unless together
   * they would pass the size limit (a batch), then as many as fit.
   */
  events: number;
}

/**
 * The body of the most events, from the first, that fit in `maxBytes`: all of them, or for a
 * batch that does not fit, the longest run found by halving (a body grows with its events). A
 * renderer that repeats its input stops at the limit, so each try builds about `maxBytes` plus
 * one event at most. Throws BodyTooLarge when the first event alone does not fit.
 */
function renderWithin(render: Renderer, input: RenderInput): { rendered: Rendered; events: number } {
  const attempt = (count: number): Rendered | null => {
    try {
      const rendered = render({ ...input, events: input.events.slice(0, count) });
      assertFits(rendered.body, input.maxBytes);
      return rendered;
    } catch (error) {
      if (error instanceof BodyTooLarge) return null;
      throw error;
    }
  };
  const all = input.events.length;
  const whole = attempt(all);
  if (whole) return { rendered: whole, events: all };
  let best = all > 1 ? attempt(1) : null;
  if (!best) throw new BodyTooLarge(input.maxBytes);
  let fits = 1;
  let fails = all;
  while (fails - fits > 1) {
    const middle = Math.floor((fits + fails) / 2);
    const rendered = attempt(middle);
    if (rendered) [best, fits] = [rendered, middle];
    else fails = middle;
  }
  return { rendered: best, events: fits };
}

/**
 * The request for `events` to a webhook: the body from the webhook type's renderer, then the
 * webhook's headers, its auth, the Standard Webhooks headers and the signatures. The
 * dispatcher sends it; previewPayload shows it (`preview`: signatures are placeholders).
 * Throws BodyTooLarge when the body of the first event alone would pass `maxBytes`.
 */
export async function buildRequest(
  { webhook, secrets }: StoredWebhook,
  events: HooklineEvent[],
  options: {
    messageId: string;
    now: Date;
    renderers: RendererRegistry;
    maxBytes: number;
    preview?: boolean;
  },
): Promise<PreparedRequest> {
  const { messageId, now, maxBytes } = options;
  const preview = options.preview ?? false;
  const config = webhook.config;
  const secret = await currentSecret(config, secrets);
  const render = options.renderers[webhook.webhookType] ?? renderGeneric;
  const { rendered, events: held } = renderWithin(render, {
    webhook,
    events,
    now,
    secret,
    maxBytes,
    preview,
  });
  const timestamp = Math.floor(now.getTime() / 1000);
  const headers: Record<string, string> = {};
  const shown: Record<string, string> = {};
  const set = (name: string, value: string, masked = false) => {
    headers[name] = value;
    shown[name] = masked ? MASK : value;
  };
  set('content-type', 'application/json');
  set('user-agent', USER_AGENT);
  // A preview shows credentials masked, so it never reads the server's variables or files.
  const referenced = async (ref: SecretReference, what: string) => {
    if (preview) return MASK;
    const value = await readReference(ref, what);
    // A stored credential is checked when saved; one read now is checked here, or it would
    // break the request's framing (and undici would refuse it with a less useful error).
    if (CONTROL.test(value))
      throw new SecretUnavailable(`the ${what} read from ${refName(ref)} holds control characters`);
    return value;
  };
  for (const h of config.headers) {
    const value = h.valueFrom
      ? await referenced(h.valueFrom, `value of header ${h.name}`)
      : h.secret
        ? secrets.headers?.[h.name.toLowerCase()]
        : h.value;
    if (value !== undefined) set(h.name.toLowerCase(), value, h.secret);
  }
  if (config.httpAuthType === 'BASIC') {
    const password = config.httpAuthSecretFrom
      ? await referenced(config.httpAuthSecretFrom, 'Basic password')
      : (secrets.httpAuthSecret ?? '');
    const credentials = Buffer.from(`${config.httpAuthUsername ?? ''}:${password}`).toString('base64');
    headers.authorization = `Basic ${credentials}`;
    shown.authorization = `Basic ${MASK}`;
  } else if (config.httpAuthType === 'BEARER') {
    const token = config.httpAuthSecretFrom
      ? await referenced(config.httpAuthSecretFrom, 'Bearer token')
      : (secrets.httpAuthSecret ?? '');
    headers.authorization = `Bearer ${token}`;
    shown.authorization = `Bearer ${MASK}`;
  }
  set('webhook-id', messageId);
  set('webhook-timestamp', String(timestamp));
  const keys = signingKeys(secret, secrets, now);
  const signatures = signatureHeaders({
    keys,
    messageId,
    timestamp,
    body: rendered.body,
    xSignature: config.xSignature ?? false,
    signatureHeader: signatureHeaderOf(config),
    preview,
  });
  for (const [name, value] of Object.entries(signatures)) set(name, value);
  const url = rendered.url ?? config.endpoint;
  return {
    request: {
      url,
      headers,
      body: rendered.body,
      timeoutMs: config.timeoutMs,
      allowInvalidCerts: config.allowInvalidCerts,
    },
    shownHeaders: shown,
    events: held,
  };
}
