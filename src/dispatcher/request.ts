import type { HooklineEvent } from '../events/model.js';
import { renderGeneric } from '../providers/generic.js';
import type { RendererRegistry } from '../providers/renderer.js';
import { version } from '../version.js';
import { MASK } from '../webhooks/changes.js';
import type { StoredWebhook } from '../webhooks/repository.js';
import type { OutboundRequest } from './send.js';
import { currentSecret, signatureHeaders, signingKeys } from './signing.js';

const USER_AGENT = `Hookline/${version}`;

export interface PreparedRequest {
  request: OutboundRequest;
  /** The headers as the history and previewPayload show them: credentials and secret values masked. */
  shownHeaders: Record<string, string>;
}

/**
 * The request for `events` to a webhook: the body from the webhook type's renderer, then the
 * webhook's headers, its auth, the Standard Webhooks headers and the signatures. The
 * dispatcher sends it; previewPayload shows it.
 */
export async function buildRequest(
  { webhook, secrets }: StoredWebhook,
  events: HooklineEvent[],
  options: { messageId: string; now: Date; renderers: RendererRegistry },
): Promise<PreparedRequest> {
  const { messageId, now } = options;
  const config = webhook.config;
  const secret = await currentSecret(config, secrets);
  const render = options.renderers[webhook.webhookType] ?? renderGeneric;
  const rendered = render({ webhook, events, now, secret });
  const timestamp = Math.floor(now.getTime() / 1000);
  const headers: Record<string, string> = {};
  const shown: Record<string, string> = {};
  const set = (name: string, value: string, masked = false) => {
    headers[name] = value;
    shown[name] = masked ? MASK : value;
  };
  set('content-type', 'application/json');
  set('user-agent', USER_AGENT);
  for (const h of config.headers) {
    const value = h.secret ? secrets.headers?.[h.name.toLowerCase()] : h.value;
    if (value !== undefined) set(h.name.toLowerCase(), value, h.secret);
  }
  if (config.httpAuthType === 'BASIC') {
    const credentials = Buffer.from(
      `${config.httpAuthUsername ?? ''}:${secrets.httpAuthSecret ?? ''}`,
    ).toString('base64');
    headers.authorization = `Basic ${credentials}`;
    shown.authorization = `Basic ${MASK}`;
  } else if (config.httpAuthType === 'BEARER') {
    headers.authorization = `Bearer ${secrets.httpAuthSecret ?? ''}`;
    shown.authorization = `Bearer ${MASK}`;
  }
  set('webhook-id', messageId);
  set('webhook-timestamp', String(timestamp));
  const keys = await signingKeys(config, secrets, now);
  const signatures = signatureHeaders({
    keys,
    messageId,
    timestamp,
    body: rendered.body,
    xSignature: config.xSignature ?? false,
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
  };
}
