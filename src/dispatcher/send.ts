import { isIP } from 'node:net';
import { Agent, type Dispatcher, errors } from 'undici';
import type { ErrorKind } from '../core/delivery.js';
import type { TargetPolicy } from '../core/targets.js';
import { memo } from '../memo.js';

export const RESPONSE_BODY_LIMIT = 4096;

export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowInvalidCerts: boolean;
}

export interface SendResult {
  statusCode: number | null;
  headers: Record<string, string> | null;
  /** At most RESPONSE_BODY_LIMIT bytes of the response body, as text. */
  body: string | null;
  durationMs: number;
  error: { kind: ErrorKind; message: string } | null;
}

export interface Sender {
  send(req: OutboundRequest): Promise<SendResult>;
  close(): Promise<void>;
}

// The subject of a refusal's sentence, as config.endpoint's host is when a webhook is saved.
const ENDPOINT_HOST = "the endpoint's host";

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_SSL/;

function classify(error: unknown, timedOut: boolean): { kind: ErrorKind; message: string } {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  const message = e.cause?.message ?? e.message ?? String(error);
  if (
    timedOut ||
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError
  ) {
    return { kind: 'TIMEOUT', message: timedOut ? 'no complete response within the timeout' : message };
  }
  // The target policy's lookup refused the address the name resolved to (its message names the class).
  if (code === 'TARGET_NOT_ALLOWED')
    return { kind: 'TARGET_NOT_ALLOWED', message: `${ENDPOINT_HOST} ${message}` };
  if (TLS_CODES.test(code)) return { kind: 'TLS', message: `${code}: ${message}` };
  return { kind: 'CONNECTION', message: code ? `${code}: ${message}` : message };
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * POSTs with undici. One Agent keeps a keep-alive pool per origin; a second one, used only by
 * webhooks that allow invalid certificates, skips verification. Redirects are never followed
 * (undici's dispatch does not follow them). The whole attempt, connect to last byte read, is
 * bounded by the webhook's timeout, and at most 4 KiB of the response is read before the
 * socket is let go, so a receiver that trickles or floods cannot hold a worker.
 *
 * The request goes through the Agent's `dispatch` with a handler of callbacks, not `request`:
 * the answer is a few callbacks instead of a stream and an async iterator, and the deadline is
 * a plain timer calling the dispatch's own abort instead of an AbortSignal, whose listeners
 * cost as much as the rest of the client's work (measured: 35-45 µs a request with
 * `request`, a signal and the stream read; about half without).
 */
export function createSender(targets: TargetPolicy): Sender {
  // Every connection resolves its host through the target policy and connects to the address
  // it checked, so a name cannot be re-pointed at a private address between check and use.
  const options = {
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connect: { timeout: 10_000, lookup: targets.lookup },
  };
  const strict = new Agent(options);
  const insecure = new Agent({ ...options, connect: { ...options.connect, rejectUnauthorized: false } });
  // Each endpoint's URL parsed, and its host checked when it is an IP literal (never looked up,
  // so checked here: http://2130706433/ arrives as 127.0.0.1), once rather than per request: the
  // target policy is fixed for the process's life, so the answer holds.
  const endpoints = memo<{ url: URL; refused: string | null }>({ maxAgeMs: Infinity, max: 1024 });
  const endpointOf = (raw: string) =>
    endpoints.get(raw, async () => {
      const url = new URL(raw);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      return { url, refused: isIP(host) ? await targets.checkHost(host) : null };
    });

  return {
    async send(req) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const { url, refused } = await endpointOf(req.url);
      if (refused) {
        return {
          statusCode: null,
          headers: null,
          body: null,
          durationMs: 0,
          error: { kind: 'TARGET_NOT_ALLOWED', message: `${ENDPOINT_HOST} ${refused}` },
        };
      }
      return new Promise<SendResult>((resolve) => {
        let controller: Dispatcher.DispatchController | null = null;
        let timedOut = false;
        let settled = false;
        let statusCode = 0;
        let headers: Record<string, string> = {};
        const chunks: Buffer[] = [];
        let size = 0;
        const settle = (result: SendResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(result);
        };
        const answered = () =>
          settle({
            statusCode,
            headers,
            // PostgreSQL text cannot hold NUL, so a receiver answering with one must not make
            // the attempt unrecordable (it would be sent again and again).
            body: Buffer.concat(chunks)
              .subarray(0, RESPONSE_BODY_LIMIT)
              .toString('utf8')
              .replaceAll('\u0000', '\uFFFD'),
            durationMs: elapsed(),
            error: null,
          });
        const failed = (error: unknown) =>
          settle({
            statusCode: null,
            headers: null,
            body: null,
            durationMs: elapsed(),
            error: classify(error, timedOut),
          });
        const timer = setTimeout(() => {
          timedOut = true;
          const error = new errors.RequestAbortedError('no complete response within the timeout');
          if (controller) controller.abort(error);
          failed(error);
        }, req.timeoutMs);
        (req.allowInvalidCerts ? insecure : strict).dispatch(
          {
            origin: url.origin,
            path: `${url.pathname}${url.search}`,
            method: 'POST',
            headers: req.headers,
            body: req.body,
            headersTimeout: req.timeoutMs,
            bodyTimeout: req.timeoutMs,
          },
          {
            onRequestStart(c) {
              controller = c;
              if (settled) c.abort(new errors.RequestAbortedError('no complete response within the timeout'));
            },
            onResponseStart(_c, code, answer) {
              statusCode = code;
              headers = flatten(answer);
            },
            onResponseData(c, chunk) {
              chunks.push(chunk);
              size += chunk.length;
              // Enough of the answer is read: the rest is not waited for (the socket is let go).
              if (size >= RESPONSE_BODY_LIMIT) {
                answered();
                c.abort(new errors.RequestAbortedError('response body limit reached'));
              }
            },
            onResponseEnd() {
              answered();
            },
            onResponseError(_c, error) {
              failed(error);
            },
          },
        );
      });
    },
    async close() {
      await Promise.all([strict.close(), insecure.close()]);
    },
  };
}
