import type { HooklineEvent } from '../core/event.js';
import type { Webhook, WebhookType } from '../core/webhook.js';

export interface RenderInput {
  webhook: Webhook;
  /** One event, or several when the webhook batches (batchSize > 1). */
  events: HooklineEvent[];
  /** When the request is made (platforms that sign with a timestamp use it). */
  now: Date;
  /**
   * The webhook's current signing secret as the user gave it, for platforms whose own
   * signing goes in the URL or body (DingTalk, Feishu); null when it has none.
   */
  secret: string | null;
  /**
   * HOOKLINE_MAX_REQUEST_BYTES. A renderer whose body grows with its input (a template, a
   * batch) counts as it builds and throws BodyTooLarge past it; every body is measured
   * exactly afterwards anyway (`assertFits`).
   */
  maxBytes: number;
  /**
   * The request is shown (previewPayload), never sent: what would be computed from the secret
   * (DingTalk's and Feishu's `sign`) is SIGNATURE_PLACEHOLDER, so a preview is no way to have
   * Hookline sign a made-up event.
   */
  preview: boolean;
}

export interface Rendered {
  /** The JSON document to POST. */
  body: string;
  /** Where to POST it, when the platform wants more than the endpoint (signed query strings). */
  url?: string;
}

/** One per webhook type; the dispatcher and previewPayload call the same one. */
export type Renderer = (input: RenderInput) => Rendered;

export type RendererRegistry = Partial<Record<WebhookType, Renderer>>;
