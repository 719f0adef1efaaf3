import type { Principal } from '../core/principal.js';
import type { TokenService } from '../auth/service.js';
import type { DeliveryService, WebhookDeliveries } from '../deliveries/service.js';
import type { EventService } from '../events/service.js';
import type { Disconnect, LiveService } from '../pubsub/subscriptions.js';
import type { WebhookService } from '../webhooks/service.js';

/** Everything a resolver may use; built per request, after authentication. */
export interface Context {
  principal: Principal;
  webhooks: WebhookService;
  events: EventService;
  deliveries: DeliveryService;
  /** `Webhook.deliveries` of every webhook in a response, read together (one per request). */
  webhookDeliveries: WebhookDeliveries;
  live: LiveService;
  tokens: TokenService;
  /** Where the request came from, for audit records. */
  via?: 'api' | 'ui';
  /** Set by transports that can drop a subscriber (graphql-ws). */
  disconnect?: Disconnect;
  /** Base of `href` links, e.g. `http://127.0.0.1:4000`. */
  publicUrl: string;
}
