import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorsOrigins } from '../config.js';

// The token travels in Authorization, set by the page's script, never in a cookie: so no
// Access-Control-Allow-Credentials. Without it a browser attaches no cookie or HTTP auth of
// its own, and a proxy in front that authenticates by cookie cannot be ridden by a listed page.
const METHODS = 'GET, POST, OPTIONS';
// accept picks SSE (text/event-stream); the rest are what Hookline's clients send.
const HEADERS = 'authorization, content-type, accept, x-request-id, x-hookline-via';
// So a browser client can quote the id of a failed request, and know when to retry a 429.
const EXPOSED = 'x-request-id, retry-after';
// Browsers cap this anyway (Chrome at 2 h); 10 min spares most preflights.
const MAX_AGE_SECONDS = '600';

export function createCors(origins: CorsOrigins) {
  const listed = new Set(origins === '*' ? [] : origins);
  const allowOrigin = (origin: string | undefined) => {
    if (!origin) return null;
    if (origins === '*') return '*';
    return listed.has(origin) ? origin : null;
  };

  return {
    /** Adds the CORS headers to an API response; called before anything is written. */
    apply(req: IncomingMessage, res: ServerResponse) {
      // The answer names the caller's origin, so a cache must keep one per origin.
      if (listed.size) res.setHeader('vary', 'Origin');
      const allowed = allowOrigin(req.headers.origin);
      if (!allowed) return;
      res.setHeader('access-control-allow-origin', allowed);
      res.setHeader('access-control-expose-headers', EXPOSED);
    },

    /** Answers a preflight: what a listed origin may send; nothing for any other. */
    preflight(req: IncomingMessage, res: ServerResponse) {
      const headers: Record<string, string> = { allow: METHODS, 'content-length': '0' };
      if (allowOrigin(req.headers.origin) && req.headers['access-control-request-method']) {
        headers['access-control-allow-methods'] = METHODS;
        headers['access-control-allow-headers'] = HEADERS;
        headers['access-control-max-age'] = MAX_AGE_SECONDS;
      }
      res.writeHead(204, headers);
      res.end();
    },
  };
}
