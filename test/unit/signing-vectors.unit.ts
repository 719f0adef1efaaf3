import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import {
  currentSecret,
  readReference,
  SecretUnavailable,
  secretBytes,
  signatureHeaders,
  signingKeys,
} from '../../src/core/signing.js';
import type { WebhookSecrets } from '../../src/core/webhook.js';
import { makeWebhook } from './fixtures.js';

// The example of the Standard Webhooks specification (spec/standard-webhooks.md, "Signature scheme").
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  messageId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

// RFC 4231, test case 2: HMAC-SHA256 with the key "Jefe".
const RFC4231 = {
  key: 'Jefe',
  data: 'what do ya want for nothing?',
  hex: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
};

// Signed with the keys the dispatcher uses (KeyObjects), made from each secret's bytes.
const sign = (keys: Buffer[], overrides: Partial<Parameters<typeof signatureHeaders>[0]> = {}) =>
  signatureHeaders({
    keys: keys.map((k) => createSecretKey(k)),
    messageId: SPEC.messageId,
    timestamp: SPEC.timestamp,
    body: SPEC.body,
    xSignature: false,
    signatureHeader: 'X-Hookline-Signature',
    preview: false,
    ...overrides,
  });

describe('signatureHeaders: the known vectors', () => {
  it('gives the Standard Webhooks specification’s example signature', () => {
    const headers = sign([secretBytes(SPEC.secret)]);
    assert.equal(headers['webhook-signature'], SPEC.signature);
  });

  it('is what the standardwebhooks library verifies', () => {
    // The library refuses timestamps more than five minutes off, so this one is now.
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = sign([secretBytes(SPEC.secret)], { timestamp });
    const verified = new StandardWebhook(SPEC.secret).verify(SPEC.body, {
      'webhook-id': SPEC.messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': headers['webhook-signature'] as string,
    });
    assert.deepEqual(verified, { test: 2432232314 });
  });

  it('signs the body alone as sha256=<hex> and, asked to, as base64 in X-Signature (RFC 4231)', () => {
    const headers = sign([secretBytes(RFC4231.key)], { body: RFC4231.data, xSignature: true });
    assert.equal(headers['x-hookline-signature'], `sha256=${RFC4231.hex}`);
    assert.equal(headers['x-signature'], Buffer.from(RFC4231.hex, 'hex').toString('base64'));
  });
});

describe('signatureHeaders: which headers, and how many signatures', () => {
  it('sends no header at all without a key', () => {
    assert.deepEqual(sign([]), {});
  });

  it('sends X-Signature only when asked', () => {
    assert.deepEqual(Object.keys(sign([secretBytes('k')])), ['webhook-signature', 'x-hookline-signature']);
  });

  it('names the sha256 header as the webhook says, in lower case', () => {
    const headers = sign([secretBytes(RFC4231.key)], {
      body: RFC4231.data,
      signatureHeader: 'X-OM-Signature',
    });
    assert.equal(headers['x-om-signature'], `sha256=${RFC4231.hex}`);
    assert.equal(headers['x-hookline-signature'], undefined);
  });

  it('signs with every key, newest first, space-separated as the specification allows', () => {
    const headers = sign([secretBytes(SPEC.secret), secretBytes(RFC4231.key)], { xSignature: true });
    const [current, previous] = (headers['webhook-signature'] as string).split(' ');
    assert.equal(current, SPEC.signature);
    assert.match(previous as string, /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.equal((headers['x-hookline-signature'] as string).split(' ').length, 2);
    assert.equal((headers['x-signature'] as string).split(' ').length, 2);
  });

  it('shows only placeholders in a preview, behind each scheme’s prefix', () => {
    const placeholder = '<signature computed at send time>';
    assert.deepEqual(sign([secretBytes(SPEC.secret)], { preview: true, xSignature: true }), {
      'webhook-signature': `v1,${placeholder}`,
      'x-hookline-signature': `sha256=${placeholder}`,
      'x-signature': placeholder,
    });
  });
});

describe('secretBytes and signingKeys', () => {
  it('reads a whsec_ secret as base64 after the prefix, and any other as its UTF-8 bytes', () => {
    assert.deepEqual(secretBytes('whsec_AAEC'), Buffer.from([0, 1, 2]));
    assert.deepEqual(secretBytes('clé'), Buffer.from([0x63, 0x6c, 0xc3, 0xa9]));
  });

  it('keeps signing with the previous secret until it expires', async () => {
    const { config } = makeWebhook();
    const now = new Date('2026-03-05T10:00:00.000Z');
    const secrets = {
      secretKey: 'new',
      previousSecretKey: 'old',
      previousSecretExpiresAt: '2026-03-05T10:00:01.000Z',
    };
    const keys = async (s: WebhookSecrets) =>
      signingKeys(await currentSecret(config, s), s, now).map((k) => k.export());
    assert.deepEqual(await keys(secrets), [Buffer.from('new'), Buffer.from('old')]);
    const expired = { ...secrets, previousSecretExpiresAt: '2026-03-05T10:00:00.000Z' };
    assert.deepEqual(await keys(expired), [Buffer.from('new')]);
    assert.deepEqual(await keys({}), []);
  });

  it('reads a secret from the variable its reference names, and names the variable when it is not set', async () => {
    const name = 'HOOKLINE_UNIT_SIGNING_SECRET';
    process.env[name] = 'from-env';
    try {
      assert.equal(await readReference({ env: name }, 'signing secret'), 'from-env');
      const { config } = makeWebhook({}, { secretFrom: { env: name } });
      const keys = signingKeys(await currentSecret(config, {}), {}, new Date());
      assert.deepEqual(
        keys.map((k) => k.export()),
        [Buffer.from('from-env')],
      );
    } finally {
      delete process.env[name];
    }
    await assert.rejects(readReference({ env: name }, 'signing secret'), (error: Error) => {
      assert.ok(error instanceof SecretUnavailable);
      assert.equal(error.message, `the environment variable ${name} holding the signing secret is not set`);
      return true;
    });
    await assert.rejects(readReference({}, 'token'), { message: 'the token names no variable or file' });
  });
});
