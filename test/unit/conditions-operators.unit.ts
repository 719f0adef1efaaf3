import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditionHolds, conditionsHold, conditionValue } from '../../src/core/conditions.js';
import type { FieldCondition } from '../../src/core/webhook.js';
import { makeEvent } from './fixtures.js';

const event = makeEvent({
  data: { rows: 1200, state: 'FAILED', flag: false, gone: null, tier: { name: 'gold' }, env: 'prod-eu' },
});

describe('conditionValue: what a condition path names', () => {
  it('reads the event’s own fields and actor.name', () => {
    assert.equal(conditionValue(event, 'entityType'), 'table');
    assert.equal(conditionValue(event, 'entityFqn'), 'snowflake_prod.sales.public.customers');
    assert.equal(conditionValue(event, 'cluster'), 'prod');
    assert.equal(conditionValue(event, 'namespace'), 'sales');
    assert.equal(conditionValue(event, 'level'), 'WARN');
    assert.equal(conditionValue(event, 'actor.name'), 'john.doe');
  });

  it('walks a dotted path into data, by own properties only', () => {
    assert.equal(conditionValue(event, 'data.rows'), 1200);
    assert.equal(conditionValue(event, 'data.tier.name'), 'gold');
    assert.equal(conditionValue(event, 'data.tier.missing'), undefined);
    assert.equal(conditionValue(event, 'data.tier.constructor'), undefined);
    assert.equal(conditionValue(event, 'data.__proto__'), undefined);
  });

  it('treats null as missing, and a field it does not know as nothing', () => {
    assert.equal(conditionValue(event, 'data.gone'), undefined);
    assert.equal(conditionValue(makeEvent({ cluster: null }), 'cluster'), undefined);
    assert.equal(conditionValue(event, 'eventType'), undefined);
  });
});

describe('conditionHolds: each operator', () => {
  const cases: [FieldCondition, boolean][] = [
    [{ path: 'data.state', op: 'EQ', value: 'FAILED' }, true],
    [{ path: 'data.state', op: 'EQ', value: 'failed' }, false],
    [{ path: 'data.rows', op: 'EQ', value: '1200' }, false],
    [{ path: 'data.rows', op: 'EQ', value: 1200 }, true],
    [{ path: 'data.flag', op: 'EQ', value: false }, true],
    [{ path: 'data.state', op: 'EQ', value: ['FAILED'] }, false],
    [{ path: 'data.state', op: 'NE', value: 'OK' }, true],
    [{ path: 'data.state', op: 'NE', value: 'FAILED' }, false],
    [{ path: 'data.missing', op: 'NE', value: 'FAILED' }, true],
    [{ path: 'data.state', op: 'IN', value: ['OK', 'FAILED'] }, true],
    [{ path: 'data.state', op: 'IN', value: ['OK'] }, false],
    [{ path: 'data.state', op: 'IN', value: 'FAILED' }, true],
    [{ path: 'data.missing', op: 'IN', value: ['OK'] }, false],
    [{ path: 'data.state', op: 'NOT_IN', value: ['OK'] }, true],
    [{ path: 'data.state', op: 'NOT_IN', value: ['FAILED'] }, false],
    [{ path: 'data.missing', op: 'NOT_IN', value: ['OK'] }, true],
    [{ path: 'data.env', op: 'PREFIX', value: 'prod-' }, true],
    [{ path: 'data.env', op: 'PREFIX', value: 'dev-' }, false],
    [{ path: 'data.rows', op: 'PREFIX', value: '12' }, false],
    [{ path: 'data.rows', op: 'GT', value: 1000 }, true],
    [{ path: 'data.rows', op: 'GT', value: 1200 }, false],
    [{ path: 'data.rows', op: 'GTE', value: 1200 }, true],
    [{ path: 'data.rows', op: 'LT', value: 1200 }, false],
    [{ path: 'data.rows', op: 'LT', value: 1201 }, true],
    [{ path: 'data.rows', op: 'LTE', value: 1200 }, true],
    [{ path: 'data.rows', op: 'GT', value: '1000' }, false],
    [{ path: 'data.state', op: 'GT', value: 0 }, false],
    [{ path: 'data.state', op: 'EXISTS' }, true],
    [{ path: 'data.state', op: 'EXISTS', value: true }, true],
    [{ path: 'data.state', op: 'EXISTS', value: false }, false],
    [{ path: 'data.gone', op: 'EXISTS' }, false],
    [{ path: 'data.gone', op: 'EXISTS', value: false }, true],
    [{ path: 'actor.name', op: 'EQ', value: 'john.doe' }, true],
  ];
  for (const [condition, expected] of cases) {
    it(`${condition.path} ${condition.op} ${JSON.stringify(condition.value)} ${expected ? 'holds' : 'fails'}`, () => {
      assert.equal(conditionHolds(condition, event), expected);
    });
  }
});

describe('conditionsHold: all of them (AND)', () => {
  it('holds for no conditions at all, and only when every one holds', () => {
    assert.equal(conditionsHold(undefined, event), true);
    assert.equal(conditionsHold([], event), true);
    const rows: FieldCondition = { path: 'data.rows', op: 'GT', value: 1000 };
    assert.equal(conditionsHold([rows, { path: 'level', op: 'EQ', value: 'WARN' }], event), true);
    assert.equal(conditionsHold([rows, { path: 'level', op: 'EQ', value: 'ERROR' }], event), false);
  });
});
