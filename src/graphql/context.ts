import type { Principal } from '../auth/principal.js';
import type { WebhookService } from '../webhooks/service.js';

/** Everything a resolver may use; built per request, after authentication. */
export interface Context {
  principal: Principal;
  webhooks: WebhookService;
  /** Base of `href` links, e.g. `http://127.0.0.1:4000`. */
  publicUrl: string;
}
