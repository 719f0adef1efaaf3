import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { printedSchema } from '../../src/graphql/schema.js';

describe('schema.graphql', () => {
  it('is the schema the code builds (run `npm run print-schema` after changing a type)', async () => {
    const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    assert.equal(committed, printedSchema());
  });

  it('names every type of the contract in ARCHITECTURE.md that exists so far', () => {
    const sdl = printedSchema();
    for (const name of [
      'type Webhook implements Node',
      'type WebhookConnection',
      'type WebhookVersion',
      'type EventFilter',
      'type WebhookConfig',
      'type RetryPolicy',
      'type FailureDetails',
      'type EntityReference',
      'type TagLabel',
      'type ChangeDescription',
      'type FieldChange',
      'enum WebhookType',
      'enum WebhookStatus',
      'input CreateWebhookInput',
      'input UpdateWebhookInput',
      'input WebhookConfigInput',
      'input EventFilterInput',
      'input RetryPolicyInput',
    ]) {
      assert.ok(sdl.includes(name), name);
    }
  });
});
