import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { SecretReference, StoredConfig, WebhookSecrets } from './webhook.js';

export class SecretUnavailable extends Error {}

/** Stands in a preview for every value computed from the webhook's secret. */
export const SIGNATURE_PLACEHOLDER = '<signature computed at send time>';

/** Standard Webhooks: a `whsec_` secret is base64 after the prefix; any other string is its UTF-8 bytes. */
export const secretBytes = (secret: string) =>
  secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');

const fileCache = new Map<string, { mtimeMs: number; value: string }>();

/** A secret file is re-read only when it changes, so rotating it on disk needs no restart. */
async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    const info = await stat(path);
    // A regular, small file only: never a FIFO or a device, which could block a worker.
    if (!info.isFile() || info.size > 4096) throw new Error('not a small regular file');
    const { mtimeMs } = info;
    const cached = fileCache.get(path);
    if (cached && cached.mtimeMs === mtimeMs) return cached.value;
    const value = (await readFile(path, 'utf8')).trim();
    fileCache.set(path, { mtimeMs, value });
    return value;
  } catch {
    throw new SecretUnavailable(`the ${what} file ${path} cannot be read`);
  }
}

/**
 * A secret read now from the environment variable or the file a reference names; `what` names
 * it in the error (which names the variable or path, never a value).
 */
export async function readReference(ref: SecretReference, what: string): Promise<string> {
  if (ref.env) {
    const value = process.env[ref.env];
    if (!value)
      throw new SecretUnavailable(`the environment variable ${ref.env} holding the ${what} is not set`);
    return value;
  }
  if (ref.file) return readSecretFile(ref.file, what);
  throw new SecretUnavailable(`the ${what} names no variable or file`);
}

/** The signing secret as the user gave it: a value, or read now from a variable or file. */
export async function currentSecret(config: StoredConfig, secrets: WebhookSecrets): Promise<string | null> {
  if (secrets.secretKey) return secrets.secretKey;
  if (config.secretFrom) return readReference(config.secretFrom, 'signing secret');
  return null;
}

const hmacKeys = new Map<string, KeyObject>();

/**
 * A secret's HMAC key, decoded and imported once per secret: done for every request, it was
 * about a fifth of what the signature cost. At most 1,024 are kept (then all are dropped), so
 * rotated secrets do not pile up.
 */
function hmacKey(secret: string): KeyObject {
  let key = hmacKeys.get(secret);
  if (!key) {
    if (hmacKeys.size >= 1024) hmacKeys.clear();
    key = createSecretKey(secretBytes(secret));
    hmacKeys.set(secret, key);
  }
  return key;
}

/**
 * The keys that sign a request, newest first: the current secret (`currentSecret`'s answer)
 * and, during a rotation, the previous one until it expires.
 */
export function signingKeys(secret: string | null, secrets: WebhookSecrets, now: Date): KeyObject[] {
  const keys: KeyObject[] = [];
  if (secret) keys.push(hmacKey(secret));
  if (
    secrets.previousSecretKey &&
    secrets.previousSecretExpiresAt &&
    Date.parse(secrets.previousSecretExpiresAt) > now.getTime()
  ) {
    keys.push(hmacKey(secrets.previousSecretKey));
  }
  return keys;
}

const hmac = (key: KeyObject, data: string) => createHmac('sha256', key).update(data);

/**
 * The signature headers for `body`; none when the webhook has no secret. For a preview each
 * signature is SIGNATURE_PLACEHOLDER behind its scheme's prefix: the headers show what will be
 * sent, but previewPayload takes any event a user describes, and a real signature of that
 * would let them forge a delivery without ever seeing the secret.
 */
export function signatureHeaders(args: {
  keys: KeyObject[];
  messageId: string;
  timestamp: number;
  body: string;
  xSignature: boolean;
  /** The name of the `sha256=<hex>` header (X-Hookline-Signature unless the webhook names another). */
  signatureHeader: string;
  preview: boolean;
}): Record<string, string> {
  const { keys, messageId, timestamp, body, preview } = args;
  if (!keys.length) return {};
  const signed = `${messageId}.${timestamp}.${body}`;
  const each = (sign: (key: KeyObject) => string) =>
    keys.map((k) => (preview ? SIGNATURE_PLACEHOLDER : sign(k)));
  const headers: Record<string, string> = {
    'webhook-signature': each((k) => hmac(k, signed).digest('base64'))
      .map((s) => `v1,${s}`)
      .join(' '),
    [args.signatureHeader.toLowerCase()]: each((k) => hmac(k, body).digest('hex'))
      .map((s) => `sha256=${s}`)
      .join(' '),
  };
  if (args.xSignature) headers['x-signature'] = each((k) => hmac(k, body).digest('base64')).join(' ');
  return headers;
}
