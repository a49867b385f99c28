import { describe, expect, it } from '@jest/globals';
import type { DelegationConstraints } from '@latchkey/contracts';
import { evaluateChain, evaluateGrant, evaluateSchedule, type GrantTerms, localTime, type Verdict } from './constraints.js';

const at = (iso: string) => new Date(iso);
const terms = (overrides: Partial<GrantTerms> = {}): GrantTerms => ({
  status: 'active',
  notBefore: at('2026-01-01T00:00:00Z'),
  expiresAt: at('2027-01-01T00:00:00Z'),
  constraints: null,
  uses: 0,
  ...overrides,
});
const USES = { countUses: true };
const refusal = (verdict: Verdict) => (verdict.usable ? 'usable' : verdict.refusal);
const schedule = (constraints: DelegationConstraints, iso: string) => refusal(evaluateSchedule(constraints, at(iso)));

// 2026-11-23 is a Monday. Europe/Zurich is UTC+1 in winter, UTC+2 in summer (DST from 2026-03-29 01:00 UTC
// to 2026-10-25 01:00 UTC); Pacific/Auckland is UTC+13 in November; Asia/Kolkata UTC+5:30 all year.

describe('evaluateGrant', () => {
  it.each(['revoked', 'declined', 'expired'])('case=should refuse a %s grant', (status) => {
    expect(evaluateGrant(terms({ status }), at('2026-06-01T12:00:00Z'), USES)).toEqual({ usable: false, refusal: 'inactive', reason: `the grant is ${status}` });
  });

  it('case=should accept [notBefore, expiresAt) and nothing outside it', () => {
    const grant = terms({ notBefore: at('2026-06-01T10:00:00Z'), expiresAt: at('2026-06-01T11:00:00Z') });
    expect(evaluateGrant(grant, at('2026-06-01T09:59:59.999Z'), USES)).toEqual({
      usable: false,
      refusal: 'not_yet_valid',
      reason: 'the grant is not valid before 2026-06-01T10:00:00.000Z',
    });
    expect(refusal(evaluateGrant(grant, at('2026-06-01T10:00:00Z'), USES))).toBe('usable');
    expect(refusal(evaluateGrant(grant, at('2026-06-01T10:59:59.999Z'), USES))).toBe('usable');
    expect(evaluateGrant(grant, at('2026-06-01T11:00:00Z'), USES)).toEqual({ usable: false, refusal: 'expired', reason: 'the grant expired at 2026-06-01T11:00:00.000Z' });
  });

  it('case=should count uses only where a use is about to be counted', () => {
    const constraints = { timeZone: 'UTC', maxUses: 3 };
    const now = at('2026-06-01T12:00:00Z');
    expect(refusal(evaluateGrant(terms({ constraints, uses: 2 }), now, USES))).toBe('usable');
    expect(evaluateGrant(terms({ constraints, uses: 3 }), now, USES)).toEqual({ usable: false, refusal: 'used_up', reason: 'the grant is used up (3 of 3 uses)' });
    // CheckGrant: the token in use was counted when it was issued.
    expect(refusal(evaluateGrant(terms({ constraints, uses: 3 }), now, { countUses: false }))).toBe('usable');
  });

  it('case=should check status before the window and the window before the schedule', () => {
    const grant = terms({ status: 'revoked', expiresAt: at('2026-01-02T00:00:00Z'), constraints: { timeZone: 'UTC', weekdays: ['sat'] } });
    expect(refusal(evaluateGrant(grant, at('2026-06-01T12:00:00Z'), USES))).toBe('inactive');
    expect(refusal(evaluateGrant({ ...grant, status: 'active' }, at('2026-06-01T12:00:00Z'), USES))).toBe('expired');
  });
});

describe('evaluateSchedule', () => {
  it('case=should take the weekday in the grant time zone, not in UTC', () => {
    const weekdays: DelegationConstraints = { timeZone: 'Pacific/Auckland', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] };
    // Sunday 20:00 UTC is Monday 09:00 in Auckland; Friday 22:00 UTC is Saturday 11:00 there.
    expect(schedule(weekdays, '2026-11-22T20:00:00Z')).toBe('usable');
    expect(schedule(weekdays, '2026-11-27T22:00:00Z')).toBe('weekday');
    expect(evaluateSchedule(weekdays, at('2026-11-27T22:00:00Z'))).toEqual({
      usable: false,
      refusal: 'weekday',
      reason: 'the grant is usable only on mon, tue, wed, thu, fri (Pacific/Auckland)',
    });
    expect(schedule({ ...weekdays, timeZone: 'UTC' }, '2026-11-22T20:00:00Z')).toBe('weekday');
  });

  it('case=should include `from` and exclude `to` of a same-day window', () => {
    const office: DelegationConstraints = { timeZone: 'Europe/Zurich', timeOfDay: { from: '08:00', to: '18:00' } };
    // Winter: Zurich = UTC+1.
    expect(schedule(office, '2026-11-23T06:59:00Z')).toBe('time_of_day');
    expect(schedule(office, '2026-11-23T07:00:00Z')).toBe('usable');
    expect(schedule(office, '2026-11-23T16:59:59Z')).toBe('usable');
    expect(schedule(office, '2026-11-23T17:00:00Z')).toBe('time_of_day');
    expect(evaluateSchedule(office, at('2026-11-23T17:00:00Z'))).toEqual({
      usable: false,
      refusal: 'time_of_day',
      reason: 'the grant is usable only between 08:00 and 18:00 (Europe/Zurich)',
    });
  });

  it('case=should handle half-hour offsets', () => {
    const morning: DelegationConstraints = { timeZone: 'Asia/Kolkata', timeOfDay: { from: '09:00', to: '09:30' } };
    expect(schedule(morning, '2026-11-23T03:29:00Z')).toBe('time_of_day');
    expect(schedule(morning, '2026-11-23T03:30:00Z')).toBe('usable');
    expect(schedule(morning, '2026-11-23T03:59:00Z')).toBe('usable');
    expect(schedule(morning, '2026-11-23T04:00:00Z')).toBe('time_of_day');
  });

  describe('a window crossing midnight (22:00–06:00, Europe/Zurich, winter)', () => {
    const nights: DelegationConstraints = { timeZone: 'Europe/Zurich', timeOfDay: { from: '22:00', to: '06:00' } };
    const weeknights: DelegationConstraints = { ...nights, weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] };

    it.each([
      ['2026-11-23T20:59:00Z', 'Mon 21:59', 'time_of_day'],
      ['2026-11-23T21:00:00Z', 'Mon 22:00', 'usable'],
      ['2026-11-23T22:59:00Z', 'Mon 23:59', 'usable'],
      ['2026-11-23T23:00:00Z', 'Tue 00:00', 'usable'],
      ['2026-11-24T04:59:00Z', 'Tue 05:59', 'usable'],
      ['2026-11-24T05:00:00Z', 'Tue 06:00', 'time_of_day'],
      ['2026-11-24T11:00:00Z', 'Tue 12:00', 'time_of_day'],
    ])('case=%s (%s) should be %s', (iso, _local, expected) => {
      expect(schedule(nights, iso)).toBe(expected);
    });

    it.each([
      // The night belongs to the day it starts on.
      ['2026-11-27T22:00:00Z', 'Fri 23:00', 'usable'],
      ['2026-11-28T04:00:00Z', 'Sat 05:00 (Friday night)', 'usable'],
      ['2026-11-28T22:00:00Z', 'Sat 23:00', 'weekday'],
      ['2026-11-29T04:00:00Z', 'Sun 05:00 (Saturday night)', 'weekday'],
      ['2026-11-30T04:00:00Z', 'Mon 05:00 (Sunday night)', 'weekday'],
      ['2026-11-30T21:30:00Z', 'Mon 22:30', 'usable'],
      ['2026-12-01T04:00:00Z', 'Tue 05:00 (Monday night)', 'usable'],
      ['2026-11-30T12:00:00Z', 'Mon 13:00', 'time_of_day'],
    ])('case=with weekdays mon–fri, %s (%s) should be %s', (iso, _local, expected) => {
      expect(schedule(weeknights, iso)).toBe(expected);
    });
  });

  describe('DST days', () => {
    it('case=should never open a window inside the hour skipped when clocks go forward', () => {
      // 2026-03-29 in Zurich: 01:59 CET is followed by 03:00 CEST.
      const skipped: DelegationConstraints = { timeZone: 'Europe/Zurich', timeOfDay: { from: '02:00', to: '03:00' } };
      expect(schedule(skipped, '2026-03-29T00:59:00Z')).toBe('time_of_day');
      expect(schedule(skipped, '2026-03-29T01:00:00Z')).toBe('time_of_day');
      // The day after, 02:00 exists again (CEST: UTC+2).
      expect(schedule(skipped, '2026-03-30T00:30:00Z')).toBe('usable');
    });

    it('case=should follow the wall clock across the change', () => {
      const morning: DelegationConstraints = { timeZone: 'Europe/Zurich', timeOfDay: { from: '08:00', to: '09:00' } };
      // Before the change 08:00 is 07:00 UTC; on and after it, 06:00 UTC.
      expect(schedule(morning, '2026-03-28T07:30:00Z')).toBe('usable');
      expect(schedule(morning, '2026-03-28T06:30:00Z')).toBe('time_of_day');
      expect(schedule(morning, '2026-03-29T06:30:00Z')).toBe('usable');
      expect(schedule(morning, '2026-03-29T07:30:00Z')).toBe('time_of_day');
    });

    it('case=should be inside twice in the hour repeated when clocks go back', () => {
      // 2026-10-25 in Zurich: 02:00–03:00 happens at 00:00–01:00 UTC (CEST) and again at 01:00–02:00 UTC (CET).
      const repeated: DelegationConstraints = { timeZone: 'Europe/Zurich', timeOfDay: { from: '02:00', to: '03:00' } };
      expect(schedule(repeated, '2026-10-24T23:59:00Z')).toBe('time_of_day');
      expect(schedule(repeated, '2026-10-25T00:30:00Z')).toBe('usable');
      expect(schedule(repeated, '2026-10-25T01:30:00Z')).toBe('usable');
      expect(schedule(repeated, '2026-10-25T02:00:00Z')).toBe('time_of_day');
    });

    it('case=should keep a night window crossing a DST change on the right days', () => {
      // New York goes back on 2026-11-01 (02:00 EDT → 01:00 EST), a Sunday.
      const saturdayNight: DelegationConstraints = { timeZone: 'America/New_York', weekdays: ['sat'], timeOfDay: { from: '23:00', to: '04:00' } };
      expect(schedule(saturdayNight, '2026-11-01T03:30:00Z')).toBe('usable'); // Sat 23:30 EDT
      expect(schedule(saturdayNight, '2026-11-01T08:30:00Z')).toBe('usable'); // Sun 03:30 EST
      expect(schedule(saturdayNight, '2026-11-01T09:00:00Z')).toBe('time_of_day'); // Sun 04:00 EST
      expect(schedule(saturdayNight, '2026-11-02T04:30:00Z')).toBe('weekday'); // Sun 23:30 EST
    });
  });

  it('case=should accept anything without weekdays or a time window', () => {
    expect(schedule({ timeZone: 'UTC' }, '2026-11-23T03:00:00Z')).toBe('usable');
    expect(schedule({ timeZone: 'UTC', maxUses: 1 }, '2026-11-23T03:00:00Z')).toBe('usable');
  });
});

describe('localTime', () => {
  it('case=should give the weekday and minutes of the zone', () => {
    expect(localTime(at('2026-11-23T00:00:00Z'), 'Europe/Zurich')).toEqual({ weekday: 'mon', minutes: 60 });
    expect(localTime(at('2026-11-22T23:30:00Z'), 'UTC')).toEqual({ weekday: 'sun', minutes: 23 * 60 + 30 });
    expect(localTime(at('2026-11-23T00:00:00Z'), 'America/Los_Angeles')).toEqual({ weekday: 'sun', minutes: 16 * 60 });
    // Midnight is 0, never 24.
    expect(localTime(at('2026-11-23T23:00:00Z'), 'Europe/Zurich')).toEqual({ weekday: 'tue', minutes: 0 });
  });
});

describe('evaluateChain', () => {
  const now = at('2026-11-23T12:00:00Z');

  it('case=should be usable only when every grant of the chain is', () => {
    expect(refusal(evaluateChain([terms(), terms(), terms()], now, USES))).toBe('usable');
    expect(evaluateChain([terms({ status: 'revoked' }), terms()], now, USES)).toEqual({
      usable: false,
      refusal: 'inactive',
      reason: 'the grant it was re-delegated from cannot be used: it is revoked',
    });
  });

  it("case=should apply the parent's constraints to a child that gives its own", () => {
    const parent = terms({ constraints: { timeZone: 'Europe/Zurich', weekdays: ['sat', 'sun'] } });
    const child = terms({ constraints: { timeZone: 'Europe/Zurich', timeOfDay: { from: '08:00', to: '18:00' } } });
    // Monday 13:00 in Zurich: the child's hours allow it, the parent's weekdays do not.
    expect(evaluateChain([parent, child], now, USES)).toEqual({
      usable: false,
      refusal: 'weekday',
      reason: 'the grant it was re-delegated from cannot be used: it is usable only on sat, sun (Europe/Zurich)',
    });
  });

  it("case=should report the grant's own refusal before its ancestors'", () => {
    const chain = [terms({ status: 'revoked' }), terms({ expiresAt: at('2026-11-01T00:00:00Z') })];
    expect(refusal(evaluateChain(chain, now, USES))).toBe('expired');
    expect((evaluateChain(chain, now, USES) as { reason: string }).reason).toMatch(/^the grant expired/);
  });

  it("case=should refuse a use when an ancestor's uses are spent, but not a check", () => {
    const chain = [terms({ constraints: { timeZone: 'UTC', maxUses: 2 }, uses: 2 }), terms()];
    expect(refusal(evaluateChain(chain, now, USES))).toBe('used_up');
    expect(refusal(evaluateChain(chain, now, { countUses: false }))).toBe('usable');
  });
});
