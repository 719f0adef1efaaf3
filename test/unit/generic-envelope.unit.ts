import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entityOf } from '../../src/providers/entity.js';
import { changeDescriptionOf } from '../../src/providers/generic.js';
import { EVENT_ID, makeEvent, makeWebhook, manyEvents, render, TABLE_URL } from './fixtures.js';

describe('GENERIC: the event envelope', () => {
  it('renders one event as OpenMetadata’s payload shape, exactly', () => {
    const { body, url } = render('GENERIC');
    assert.equal(url, undefined, 'posted to the endpoint as it is');
    assert.deepEqual(JSON.parse(body), {
      eventId: `evt_${EVENT_ID}`,
      eventType: 'entityUpdated',
      timestamp: 1772706180000,
      entity: {
        id: 't-42',
        type: 'table',
        fullyQualifiedName: 'snowflake_prod.sales.public.customers',
        description: 'Customer information table',
      },
      changeDescription: {
        fieldsAdded: [],
        fieldsUpdated: [
          { name: 'tags', oldValue: [], newValue: [{ tagFQN: 'PII.Sensitive' }] },
          { name: 'retention', oldValue: '30d', newValue: '90d' },
        ],
        fieldsDeleted: [],
      },
      webhookName: 'alerts',
      cluster: 'prod',
      namespace: 'sales',
      actor: { name: 'john.doe', roles: ['DataSteward'] },
      level: 'WARN',
      data: { url: TABLE_URL, description: 'Customer information table' },
    });
  });

  it('sends {"events": [...]} to a webhook that batches, even for one event', () => {
    const batch = render('GENERIC', manyEvents(3)).json;
    assert.deepEqual(
      batch.events.map((e: { entity: { id: string } }) => e.entity.id),
      ['t-0', 't-1', 't-2'],
    );
    const one = render('GENERIC', manyEvents(1), { webhook: makeWebhook({ batchSize: 5 }) }).json;
    assert.equal(one.events.length, 1);
  });

  it('sends an audit record as the record itself, as Kpow does', () => {
    const record = { type: 'kpow/mutation', cluster_id: 'hookline', event: 'createWebhook' };
    assert.deepEqual(
      render('GENERIC', [makeEvent({ eventType: 'audit.mutation', data: record })]).json,
      record,
    );
  });

  it('sends data as null when the event has none', () => {
    assert.equal(render('GENERIC', [makeEvent({ data: undefined })]).json.data, null);
  });
});

describe('changeDescriptionOf: added, updated and deleted fields', () => {
  it('sorts each change by which of its values is present', () => {
    assert.deepEqual(
      changeDescriptionOf([
        { name: 'added', newValue: 1 },
        { name: 'addedFromNull', oldValue: null, newValue: 'x' },
        { name: 'updated', oldValue: 1, newValue: 2 },
        { name: 'deleted', oldValue: 'x' },
        { name: 'neither' },
      ]),
      {
        fieldsAdded: [
          { name: 'added', newValue: 1 },
          { name: 'addedFromNull', oldValue: null, newValue: 'x' },
        ],
        fieldsUpdated: [{ name: 'updated', oldValue: 1, newValue: 2 }],
        fieldsDeleted: [{ name: 'deleted', oldValue: 'x' }],
      },
    );
  });
});

describe('entityOf: the envelope’s entity', () => {
  it('adds name, description, owner and tags from data when they have the expected shape', () => {
    const event = makeEvent({
      data: {
        name: 'customers',
        description: 'All customers',
        owner: { id: 'u-1', type: 'user', name: 'ada', extra: 'dropped' },
        tags: ['PII.Sensitive', { tagFQN: 'Tier.Gold', labelType: 'Manual' }],
      },
    });
    assert.deepEqual(entityOf(event), {
      id: 't-42',
      type: 'table',
      name: 'customers',
      fullyQualifiedName: 'snowflake_prod.sales.public.customers',
      description: 'All customers',
      owner: { id: 'u-1', type: 'user', name: 'ada' },
      tags: [{ tagFQN: 'PII.Sensitive' }, { tagFQN: 'Tier.Gold' }],
    });
  });

  it('leaves out what is absent or of another shape, never sending null', () => {
    const event = makeEvent({ data: { name: 7, owner: 'ada', tags: ['ok', { label: 'no FQN' }] } });
    assert.deepEqual(entityOf(event), {
      id: 't-42',
      type: 'table',
      fullyQualifiedName: 'snowflake_prod.sales.public.customers',
    });
    assert.deepEqual(Object.keys(entityOf(makeEvent({ data: ['a list'] }))), [
      'id',
      'type',
      'fullyQualifiedName',
    ]);
  });
});
