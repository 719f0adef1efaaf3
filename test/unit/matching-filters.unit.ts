import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  auditTypesFor,
  eventPeople,
  filterMatches,
  matchKeys,
  webhookMatches,
} from '../../src/core/matching.js';
import type { EventFilter } from '../../src/core/webhook.js';
import { makeEvent, makeWebhook } from './fixtures.js';

const event = makeEvent({
  data: { domain: { name: 'Sales' }, tags: [{ tagFQN: 'PII.Sensitive' }], owner: 'ada', count: 5 },
  changedFields: [{ name: 'columns.description', oldValue: 'a', newValue: 'b' }],
});

describe('filterMatches: every field a filter sets must hold', () => {
  const cases: [string, EventFilter, boolean][] = [
    ['an empty filter', {}, true],
    ['the event type listed', { eventTypes: ['entityUpdated'] }, true],
    ['another event type', { eventTypes: ['entityCreated'] }, false],
    ['* for the event type', { eventTypes: ['*'] }, true],
    ['ALL_NOTIFICATIONS for the event type', { eventTypes: ['ALL_NOTIFICATIONS'] }, true],
    ['ALL_NOTIFICATIONS is no wildcard for entities', { entities: ['ALL_NOTIFICATIONS'] }, false],
    ['the entity type listed', { entities: ['topic', 'table'] }, true],
    ['another entity type', { entities: ['topic'] }, false],
    ['the cluster listed', { clusters: ['prod'] }, true],
    ['another cluster', { clusters: ['dev'] }, false],
    ['the namespace listed', { namespaces: ['sales'] }, true],
    ['another namespace', { namespaces: ['hr'] }, false],
    ['type right, entity wrong', { eventTypes: ['entityUpdated'], entities: ['topic'] }, false],
    ['include a changed field', { include: ['columns'] }, true],
    ['include the changed field by its full name', { include: ['columns.description'] }, true],
    ['include a field that only shares a prefix', { include: ['col'] }, false],
    ['include an entity reference by name', { include: ['domain:Sales'] }, true],
    ['include a tag label by its FQN', { include: ['tags:PII.Sensitive'] }, true],
    ['include an own field', { include: ['level:WARN'] }, true],
    ['include the actor by name', { include: ['actor:john.doe'] }, true],
    ['include a number compared as text', { include: ['count:5'] }, true],
    ['include nothing that matches', { include: ['domain:HR', 'owners'] }, false],
    ['include *', { include: ['*'] }, true],
    ['exclude a changed field', { exclude: ['columns'] }, false],
    ['exclude something else', { exclude: ['domain:HR'] }, true],
    ['exclude wins over include', { include: ['domain:Sales'], exclude: ['level:WARN'] }, false],
    ['a built-in name in a path reaches nothing', { include: ['constructor:x', 'toString'] }, false],
    ['a where condition that holds', { where: [{ path: 'data.count', op: 'GT', value: 4 }] }, true],
    ['a where condition that fails', { where: [{ path: 'data.count', op: 'GT', value: 5 }] }, false],
  ];
  for (const [name, filter, expected] of cases) {
    it(`${name}: ${expected ? 'matches' : 'does not match'}`, () => {
      assert.equal(filterMatches(filter, event), expected);
    });
  }

  it('takes an operational event only when its type is named, never by a wildcard', () => {
    const failing = makeEvent({ eventType: 'delivery.failing' });
    assert.equal(filterMatches({ eventTypes: ['*'] }, failing), false);
    assert.equal(filterMatches({}, failing), false);
    assert.equal(filterMatches({ eventTypes: ['delivery.failing'] }, failing), true);
  });
});

describe('webhookMatches: the webhook as a whole', () => {
  it('takes every ordinary event when it has no filters, but no operational one', () => {
    assert.equal(webhookMatches(makeWebhook(), event), true);
    assert.equal(webhookMatches(makeWebhook(), makeEvent({ eventType: 'webhook.disabled' })), false);
  });

  it('takes an event when any one of its filters matches (OR)', () => {
    const webhook = makeWebhook({ eventFilters: [{ entities: ['topic'] }, { clusters: ['prod'] }] });
    assert.equal(webhookMatches(webhook, event), true);
    const neither = makeWebhook({ eventFilters: [{ entities: ['topic'] }, { clusters: ['dev'] }] });
    assert.equal(webhookMatches(neither, event), false);
  });

  it('takes nothing while disabled or deleted', () => {
    assert.equal(webhookMatches(makeWebhook({ enabled: false }), event), false);
    assert.equal(webhookMatches(makeWebhook({ deleted: true }), event), false);
  });

  it('takes events at or above minLevel (TRACE < DEBUG < INFO < WARN < ERROR)', () => {
    assert.equal(webhookMatches(makeWebhook({ minLevel: 'WARN' }), event), true);
    assert.equal(webhookMatches(makeWebhook({ minLevel: 'ERROR' }), event), false);
    assert.equal(webhookMatches(makeWebhook({ minLevel: 'INFO' }), makeEvent({ level: 'DEBUG' })), false);
  });

  it('applies eventsPolicy INCLUDE and EXCLUDE, * standing for every type', () => {
    const policy = (mode: 'INCLUDE' | 'EXCLUDE', eventTypes: string[]) =>
      makeWebhook({ eventsPolicy: { mode, eventTypes } });
    assert.equal(webhookMatches(policy('INCLUDE', ['entityUpdated']), event), true);
    assert.equal(webhookMatches(policy('INCLUDE', ['entityCreated']), event), false);
    assert.equal(webhookMatches(policy('EXCLUDE', ['entityUpdated']), event), false);
    assert.equal(webhookMatches(policy('EXCLUDE', ['entityCreated']), event), true);
    assert.equal(webhookMatches(policy('EXCLUDE', ['*']), event), false);
  });

  it('gives a personal webhook only the events about entities its owner owns or follows', () => {
    const personal = makeWebhook({ personal: true, owner: { id: null, type: 'user', name: 'ada' } });
    assert.equal(webhookMatches(personal, event), true, 'ada owns it');
    const follower = makeEvent({ data: { followers: [{ name: 'ada' }] } });
    assert.equal(webhookMatches(personal, follower), true, 'ada follows it');
    assert.equal(webhookMatches(personal, makeEvent({ data: { owner: 'bob' } })), false);
    assert.equal(
      webhookMatches({ ...personal, global: true }, makeEvent({ data: {} })),
      true,
      'unless global',
    );
  });

  it('sends audit records by verbosity alone, and a personal webhook only its owner’s own', () => {
    const mutation = makeEvent({ eventType: 'audit.mutation', actor: { name: 'ada', roles: [] } });
    const query = makeEvent({ eventType: 'audit.query', actor: { name: 'ada', roles: [] } });
    assert.equal(webhookMatches(makeWebhook(), mutation), false, 'no verbosity, no audit records');
    assert.equal(webhookMatches(makeWebhook({ verbosity: 'MUTATIONS' }), mutation), true);
    assert.equal(webhookMatches(makeWebhook({ verbosity: 'MUTATIONS' }), query), false);
    assert.equal(webhookMatches(makeWebhook({ verbosity: 'ALL' }), query), true);
    // Filters and minLevel play no part for audit records.
    const filtered = makeWebhook({
      verbosity: 'ALL',
      minLevel: 'ERROR',
      eventFilters: [{ entities: ['x'] }],
    });
    assert.equal(webhookMatches(filtered, query), true);
    const personal = (name: string) =>
      makeWebhook({ verbosity: 'ALL', personal: true, owner: { id: null, type: 'user', name } });
    assert.equal(webhookMatches(personal('ada'), mutation), true);
    assert.equal(webhookMatches(personal('bob'), mutation), false);
  });
});

describe('matchKeys: the indexed keys a webhook is found by', () => {
  it('is * for both when there are no filters', () => {
    assert.deepEqual(matchKeys([]), { eventTypes: ['*'], entities: ['*'] });
  });

  it('is the sorted union of the filters’ lists, without duplicates', () => {
    assert.deepEqual(
      matchKeys([
        { eventTypes: ['entityUpdated', 'entityCreated'], entities: ['table'] },
        { eventTypes: ['entityCreated'], entities: ['topic', 'table'] },
      ]),
      { eventTypes: ['entityCreated', 'entityUpdated'], entities: ['table', 'topic'] },
    );
  });

  it('is * for a field that any one filter leaves open or sets to a wildcard', () => {
    assert.deepEqual(matchKeys([{ eventTypes: ['a'] }, { entities: ['table'] }]), {
      eventTypes: ['*'],
      entities: ['*'],
    });
    assert.deepEqual(matchKeys([{ eventTypes: ['ALL_NOTIFICATIONS'], entities: ['table'] }]), {
      eventTypes: ['*'],
      entities: ['table'],
    });
  });

  it('ignores where conditions, which can only narrow a filter', () => {
    assert.deepEqual(
      matchKeys([{ eventTypes: ['a'], where: [{ path: 'level', op: 'EQ', value: 'WARN' }] }]),
      {
        eventTypes: ['a'],
        entities: ['*'],
      },
    );
  });
});

describe('eventPeople and auditTypesFor', () => {
  it('reads owners from owner and owners, and followers, as names, references or lists', () => {
    const people = eventPeople(
      makeEvent({
        data: {
          owner: { name: 'ada', id: 'u-1' },
          owners: ['bob', { fullyQualifiedName: 'team.data' }],
          followers: [{ name: 'cy' }, 42],
        },
      }),
    );
    assert.deepEqual(people, { owners: ['ada', 'u-1', 'bob', 'team.data'], followers: ['cy'] });
    assert.deepEqual(eventPeople(makeEvent({ data: null })), { owners: [], followers: [] });
  });

  it('maps each verbosity to the audit event types it takes', () => {
    assert.deepEqual(auditTypesFor('ALL'), ['audit.mutation', 'audit.query']);
    assert.deepEqual(auditTypesFor('QUERIES'), ['audit.query']);
    assert.deepEqual(auditTypesFor('MUTATIONS'), ['audit.mutation']);
    assert.deepEqual(auditTypesFor(null), []);
  });
});
