import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClaimAsk, type SlotLimits, Slots } from '../../src/dispatcher/slots.js';

/** 8 slots, 4 per webhook and 12 claimed ahead of them (16 held), a reserve of 1 (the default for 8). */
const limits: SlotLimits = { maxInFlight: 8, perWebhook: 4, prefetch: 12, leaseMarginMs: 15_000 };

function slotsWith(overrides: Partial<SlotLimits> = {}, clock = { now: 0 }) {
  return new Slots<string>({ ...limits, ...overrides }, () => clock.now);
}

/** Claims `count` requests named `<webhook>-1`, `<webhook>-2`... for one webhook in one round. */
function claim(slots: Slots<string>, webhookId: string, tenantId: string, count: number, fifo = false) {
  const ask = slots.ask() as ClaimAsk;
  const requests = Array.from({ length: count }, (_, i) => `${webhookId}-${i + 1}`);
  slots.claimed(ask, [{ webhookId, tenantId, fifo, requests }]);
  return ask;
}

/** A request of `webhookId` is over: its process slot, then its webhook slot, are free. */
function free(slots: Slots<string>, webhookId: string, tenantId: string) {
  slots.freeProcessSlot(tenantId);
  slots.freeWebhookSlot(webhookId);
}

/** As the dispatcher sees a request finish: its slots are free, and what waits for its webhook may go. */
function finish(slots: Slots<string>, webhookId: string, tenantId: string) {
  free(slots, webhookId, tenantId);
  return slots.startable(webhookId);
}

describe('Slots: the limits they are made with', () => {
  it('holds perWebhook + prefetch per webhook, keeps an eighth back, and caps a tenant at twice the rest', () => {
    const slots = new Slots({ maxInFlight: 256, perWebhook: 4, prefetch: 12, leaseMarginMs: 15_000 });
    assert.equal(slots.perWebhookHeld, 16);
    assert.equal(slots.tenantReserve, 32);
    assert.equal(slots.tenantHoldCap, 448);
  });

  it('keeps at least one slot for anyone: the reserve is at most maxInFlight - 1', () => {
    const slots = new Slots({ ...limits, maxInFlight: 4, tenantReserve: 10 });
    assert.equal(slots.tenantReserve, 3);
    assert.equal(slots.tenantHoldCap, 2);
  });
});

describe('Slots: fair share', () => {
  it('with 8 slots and a reserve of 1, one tenant starts 7 and another tenant still starts', () => {
    const slots = slotsWith();
    let started = 0;
    for (const webhook of ['a1', 'a2', 'a3']) {
      while (slots.mayHandOff('A') && slots.reserve(webhook, 'A')) started++;
    }
    assert.equal(started, 7);
    assert.equal(slots.inFlight, 7);
    assert.equal(slots.tenantMayStart('A'), false);
    assert.equal(slots.tenantMayStart('B'), true);
    assert.equal(slots.reserve('b1', 'B'), true);
    assert.equal(slots.inFlight, 8);
    assert.equal(slots.tenantMayStart('B'), false);
    assert.equal(slots.tenantMayStart('C'), false);
  });

  it('gives the reserved slots only to a tenant below its share of the active tenants and one more', () => {
    const slots = slotsWith({ tenantReserve: 2 });
    for (let i = 0; i < 3; i++) slots.reserve(`a${i}`, 'A');
    for (let i = 0; i < 3; i++) slots.reserve(`b${i}`, 'B');
    // 2 free, not more than the reserve: a share is 8 / (2 active + 1) = 2, and A and B hold 3.
    assert.deepEqual(
      ['A', 'B', 'C'].map((t) => slots.tenantMayStart(t)),
      [false, false, true],
    );
    slots.reserve('c1', 'C');
    // 1 free: C holds 1 of its share of 8 / (3 active + 1) = 2.
    assert.deepEqual(
      ['A', 'B', 'C'].map((t) => slots.tenantMayStart(t)),
      [false, false, true],
    );
    slots.reserve('c2', 'C');
    assert.equal(slots.tenantMayStart('C'), false, 'no slot left');
    free(slots, 'a0', 'A');
    // 1 free again: A and C hold their 2; a fourth tenant's share is 8 / 5 = 1.
    assert.deepEqual(
      ['A', 'C', 'D'].map((t) => slots.tenantMayStart(t)),
      [false, false, true],
    );
  });
});

describe('Slots: what a claim round may ask for', () => {
  it('asks for twice the slots when nothing is held, with no webhook or tenant named', () => {
    assert.deepEqual(slotsWith().ask(), { requests: 16, perWebhook: 16, busy: {}, tenantRoom: {} });
  });

  it('counts what is in flight and what waits against the process, the webhook and the tenant', () => {
    const slots = slotsWith();
    claim(slots, 'w1', 't', 10);
    assert.deepEqual(slots.startable('w1'), { start: ['w1-1', 'w1-2', 'w1-3', 'w1-4'], expired: [] });
    assert.equal(slots.inFlight, 4);
    assert.equal(slots.waiting, 6);
    // 16 - 4 in flight - 6 waiting; w1 may hold 16 - 10; t may hold 14 - 10.
    assert.deepEqual(slots.ask(), { requests: 6, perWebhook: 16, busy: { w1: 6 }, tenantRoom: { t: 4 } });
  });

  it('asks for nothing once the slots and as many requests again are held', () => {
    const slots = slotsWith({ tenantReserve: 0 });
    for (const webhook of ['w1', 'w2', 'w3', 'w4']) claim(slots, webhook, webhook, 4);
    for (const webhook of ['w1', 'w2']) slots.startable(webhook);
    assert.equal(slots.inFlight, 8);
    assert.equal(slots.waiting, 8);
    assert.equal(slots.ask(), null);
  });

  it('names a webhook with no room left with 0, and a tenant at its cap with 0', () => {
    // 16 slots: a reserve of 2, so a tenant may hold 2 × 14 = 28.
    const slots = slotsWith({ maxInFlight: 16 });
    claim(slots, 'w1', 't', 16);
    claim(slots, 'w2', 't', 12);
    claim(slots, 'w3', 'u', 2);
    assert.deepEqual(slots.ask(), {
      requests: 2,
      perWebhook: 16,
      busy: { w1: 0, w2: 4, w3: 14 },
      tenantRoom: { t: 0, u: 26 },
    });
  });
});

describe('Slots: starting what waits', () => {
  it('starts at most perWebhook of a webhook, and one more for each of its requests that finishes', () => {
    const slots = slotsWith();
    claim(slots, 'w1', 't', 6);
    assert.deepEqual(slots.startable('w1').start, ['w1-1', 'w1-2', 'w1-3', 'w1-4']);
    assert.deepEqual(slots.startable('w1').start, []);
    assert.equal(slots.inFlightTo('w1'), 4);
    assert.deepEqual(finish(slots, 'w1', 't').start, ['w1-5']);
    assert.equal(slots.inFlightTo('w1'), 4);
    assert.equal(slots.waiting, 1);
  });

  it('gives back what waited longer than half the lease margin, by the injected clock', () => {
    const clock = { now: 1_000 };
    const slots = slotsWith({}, clock);
    claim(slots, 'w1', 't', 7);
    assert.equal(slots.startable('w1').start.length, 4);
    // Exactly half the margin (7.5 s) is not longer than it: sent.
    clock.now = 8_500;
    assert.deepEqual(finish(slots, 'w1', 't'), { start: ['w1-5'], expired: [] });
    // A millisecond more: what still waits goes back, without taking a slot.
    clock.now = 8_501;
    assert.deepEqual(finish(slots, 'w1', 't'), { start: [], expired: ['w1-6', 'w1-7'] });
    assert.equal(slots.inFlightTo('w1'), 3);
    assert.equal(slots.waiting, 0);
    assert.equal(slots.heldBy('t'), 3);
  });

  it('keeps a request the process has no slot for, and starts it when a process slot frees', () => {
    const slots = slotsWith({ maxInFlight: 2, tenantReserve: 0, perWebhook: 2, prefetch: 2 });
    slots.claimed(slots.ask() as ClaimAsk, [
      { webhookId: 'w1', tenantId: 't', fifo: false, requests: ['a1', 'a2'] },
      { webhookId: 'w2', tenantId: 't', fifo: false, requests: ['b1'] },
    ]);
    assert.deepEqual(slots.startable('w1').start, ['a1', 'a2']);
    assert.deepEqual(slots.startable('w2').start, []);
    // w1's own freed slot has nothing of w1's to start: the process's slot goes to w2.
    assert.deepEqual(finish(slots, 'w1', 't').start, []);
    assert.deepEqual(slots.startableForProcess(), { start: ['b1'], expired: [] });
    assert.equal(slots.inFlight, 2);
    assert.deepEqual(slots.startableForProcess(), { start: [], expired: [] });
  });

  it('drops every waiting request, freeing what its tenant holds but no slot in flight', () => {
    const slots = slotsWith();
    claim(slots, 'w1', 't', 6);
    claim(slots, 'w2', 'u', 1);
    slots.startable('w1');
    assert.deepEqual(slots.dropWaiting(), ['w1-5', 'w1-6', 'w2-1']);
    assert.equal(slots.waiting, 0);
    assert.equal(slots.inFlight, 4);
    assert.equal(slots.heldBy('t'), 4);
    assert.equal(slots.heldBy('u'), 0);
    assert.deepEqual(slots.ask()?.busy, { w1: 12 });
  });
});

describe('Slots: a publish hands a request over', () => {
  it('takes a slot unless the webhook is at its limit or older requests of it wait here', () => {
    const slots = slotsWith();
    for (let i = 0; i < 4; i++) assert.equal(slots.reserve('w1', 't'), true);
    assert.equal(slots.reserve('w1', 't'), false, 'at perWebhook');
    claim(slots, 'w2', 't', 1);
    assert.equal(slots.reserve('w2', 't'), false, 'w2-1 waits');
    assert.equal(slots.inFlight, 4);
    assert.equal(slots.heldBy('t'), 5);
  });

  it('marks a webhook it found no slot for, so that its next freed slot wakes the loop', () => {
    const slots = slotsWith();
    for (let i = 0; i < 4; i++) slots.reserve('w1', 't');
    finish(slots, 'w1', 't');
    assert.equal(slots.endpointFreedWakes('w1'), false, 'nothing was refused');
    slots.reserve('w1', 't');
    assert.equal(slots.reserve('w1', 't'), false);
    finish(slots, 'w1', 't');
    assert.equal(slots.endpointFreedWakes('w1'), true);
    assert.equal(slots.endpointFreedWakes('w1'), false, 'once');
  });
});

describe('Slots: when a freed slot wakes the claim loop', () => {
  it('a backlogged webhook wakes it once half of what it may hold (8 of 16) is free', () => {
    const slots = slotsWith();
    const ask = claim(slots, 'w1', 't', 16);
    assert.equal(ask.requests, 16);
    slots.startable('w1');
    const wakes: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      finish(slots, 'w1', 't');
      wakes.push(slots.endpointFreedWakes('w1'));
    }
    // Held after each: 15, 14, ... 6; 8 is half.
    assert.deepEqual(wakes, [false, false, false, false, false, false, false, true, false, false]);
  });

  it('a webhook whose round claimed less than its room does not wake it', () => {
    const slots = slotsWith();
    claim(slots, 'w1', 't', 4);
    slots.startable('w1');
    finish(slots, 'w1', 't');
    assert.equal(slots.endpointFreedWakes('w1'), false);
  });

  it('a FIFO webhook that claimed one request is backlogged', () => {
    const slots = slotsWith();
    claim(slots, 'w1', 't', 1, true);
    slots.startable('w1');
    finish(slots, 'w1', 't');
    assert.equal(slots.endpointFreedWakes('w1'), true);
  });

  it('a round that used every free slot of the process wakes it once 75% or fewer are in flight', () => {
    const slots = slotsWith({ tenantReserve: 0, perWebhook: 2, prefetch: 2 });
    const ask = slots.ask() as ClaimAsk;
    slots.claimed(
      ask,
      ['w1', 'w2', 'w3', 'w4'].map((w) => ({
        webhookId: w,
        tenantId: w,
        fifo: false,
        requests: [1, 2, 3, 4].map((i) => `${w}-${i}`),
      })),
    );
    for (const w of ['w1', 'w2', 'w3', 'w4']) slots.startable(w);
    assert.equal(slots.inFlight, 8);
    const wakes: boolean[] = [];
    for (const w of ['w1', 'w2', 'w3']) {
      free(slots, w, w);
      wakes.push(slots.processFreedWakes());
    }
    assert.deepEqual(wakes, [false, true, true]);
  });

  it('a round that claimed less than its room, or nothing, leaves a freed process slot quiet', () => {
    const slots = slotsWith();
    claim(slots, 'w1', 't', 4);
    slots.startable('w1');
    finish(slots, 'w1', 't');
    assert.equal(slots.processFreedWakes(), false);
    assert.equal(slots.mayHandOff('t'), true);
  });

  it('a publish that found the process full wakes it as a full round does, at 15 of 20', () => {
    const slots = slotsWith({ maxInFlight: 20, tenantReserve: 0 });
    for (let i = 0; i < 20; i++) slots.reserve(`w${i}`, 't');
    assert.equal(slots.mayHandOff('t'), false);
    const wakes: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      free(slots, `w${i}`, 't');
      wakes.push(slots.processFreedWakes());
    }
    // In flight after each: 19, 18, 17, 16, 15, 14.
    assert.deepEqual(wakes, [false, false, false, false, true, true]);
    slots.claimed(slots.ask() as ClaimAsk, []);
    assert.equal(slots.processFreedWakes(), false, 'an empty round found nothing more');
  });

  it('a tenant held to its cap (14) wakes it once it holds 75% of it (10.5) or less', () => {
    const slots = slotsWith();
    claim(slots, 'w1', 't', 14);
    assert.equal(slots.heldBy('t'), 14);
    slots.startable('w1');
    const wakes: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      slots.freeProcessSlot('t');
      wakes.push(slots.tenantFreedWakes('t'));
      slots.freeWebhookSlot('w1');
      slots.startable('w1');
    }
    // Held after each: 13, 12, 11, 10, 9, 8.
    assert.deepEqual(wakes, [false, false, false, true, false, false]);
  });

  it('a tenant a round found with no room left (as publishes filled it) is held to its cap', () => {
    const slots = slotsWith({ maxInFlight: 4, tenantReserve: 2 });
    assert.equal(slots.tenantHoldCap, 4);
    for (let i = 0; i < 4; i++) slots.reserve('w1', 't');
    slots.freeProcessSlot('t');
    assert.equal(slots.tenantFreedWakes('t'), false, 'no round was held back');
    slots.freeWebhookSlot('w1');
    slots.reserve('w1', 't');
    const ask = slots.ask() as ClaimAsk;
    assert.deepEqual(ask.tenantRoom, { t: 0 });
    slots.claimed(ask, []);
    slots.freeProcessSlot('t');
    assert.equal(slots.tenantFreedWakes('t'), true, '3 held of 4');
  });
});
