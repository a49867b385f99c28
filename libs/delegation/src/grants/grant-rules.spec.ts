import { describe, expect, it } from '@jest/globals';
import { ContractError } from '@latchkey/contracts';
import type { GrantRecord } from './grant-record.js';
import { childLimits, grantedScopes, grantWindow, normalRedelegation, scopesBeyond } from './grant-rules.js';

const now = new Date('2026-11-23T12:00:00Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as ContractError).toEnvelope();
  }
  throw new Error('expected a failure');
};

const parent = (overrides: Partial<GrantRecord> = {}): GrantRecord => ({
  id: '00000000-0000-4000-8000-000000000001',
  tenant: 'demo',
  delegatorId: 'adam',
  delegatorName: 'adam',
  delegateeType: 'user',
  delegateeId: 'bianca',
  delegateeName: 'bianca',
  resource: 'device:lock-1',
  scopes: ['lock:unlock'],
  notBefore: now,
  expiresAt: later(3600),
  constraints: { timeZone: 'Europe/Zurich', weekdays: ['mon'] },
  maxUses: null,
  redelegationAllowed: true,
  redelegationMaxDepth: 2,
  depth: 0,
  parentId: null,
  ancestors: [],
  rootDelegatorId: 'adam',
  status: 'active',
  uses: 0,
  createdAt: now,
  updatedAt: now,
  endedAt: null,
  endedByType: null,
  endedById: null,
  reason: null,
  ...overrides,
});

describe('grantWindow', () => {
  it('case=should default notBefore to now', () => {
    expect(grantWindow(now, { expiresAt: later(60) }, 3600)).toEqual({ notBefore: now, expiresAt: later(60) });
  });

  it.each([
    ['in the past', { expiresAt: later(-1) }, 'expiresAt is in the past'],
    ['now', { expiresAt: now }, 'expiresAt is in the past'],
    ['before notBefore', { notBefore: later(120), expiresAt: later(60) }, 'expiresAt must be after notBefore'],
    ['at notBefore', { notBefore: later(60), expiresAt: later(60) }, 'expiresAt must be after notBefore'],
    ['beyond the longest grant', { expiresAt: later(3601) }, 'a grant may last at most 3600 seconds from now'],
  ])('case=should refuse an expiry %s', (_case, window, message) => {
    expect(failure(() => grantWindow(now, window, 3600))).toMatchObject({ code: 'validation_failed', message });
  });

  it('case=should accept exactly the longest grant', () => {
    expect(grantWindow(now, { expiresAt: later(3600) }, 3600).expiresAt).toEqual(later(3600));
  });
});

describe('scopes', () => {
  it('case=should name the scopes beyond what is allowed, once each', () => {
    expect(scopesBeyond(['a', 'b', 'c', 'b'], ['a'])).toEqual(['b', 'c']);
    expect(scopesBeyond(['a'], ['a', 'b'])).toEqual([]);
  });

  it('case=should grant the requested scopes within the grant, or all of them when none is requested', () => {
    expect(grantedScopes([], ['a', 'b'])).toEqual(['a', 'b']);
    expect(grantedScopes(['b', 'x'], ['a', 'b'])).toEqual(['b']);
    expect(grantedScopes(['x'], ['a', 'b'])).toEqual([]);
  });
});

describe('childLimits', () => {
  const child = { expiresAt: later(1800), redelegation: { allowed: false, maxDepth: 0 }, constraints: null };

  it("case=should put the child one level below and inherit the parent's constraints when it gives none", () => {
    expect(childLimits(parent(), child)).toEqual({ depth: 1, constraints: { timeZone: 'Europe/Zurich', weekdays: ['mon'] } });
    const own = { timeZone: 'UTC', maxUses: 1 };
    expect(childLimits(parent({ depth: 1 }), { ...child, constraints: own })).toEqual({ depth: 2, constraints: own });
  });

  it('case=should refuse a parent that may not be re-delegated', () => {
    expect(failure(() => childLimits(parent({ redelegationAllowed: false }), child))).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/does not allow re-delegation/) });
    expect(failure(() => childLimits(parent({ redelegationMaxDepth: 0 }), child))).toMatchObject({ code: 'forbidden' });
  });

  it('case=should refuse a child deeper than its parent allows', () => {
    expect(childLimits(parent(), { ...child, redelegation: { allowed: true, maxDepth: 1 } }).depth).toBe(1);
    expect(failure(() => childLimits(parent(), { ...child, redelegation: { allowed: true, maxDepth: 2 } }))).toMatchObject({
      code: 'forbidden',
      message: 'too deep: this grant may be re-delegated at most 1 more time(s)',
    });
  });

  it('case=should refuse a child that outlives its parent', () => {
    expect(childLimits(parent(), { ...child, expiresAt: later(3600) }).depth).toBe(1);
    expect(failure(() => childLimits(parent(), { ...child, expiresAt: later(3601) }))).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/cannot outlive/) });
  });
});

describe('normalRedelegation', () => {
  it('case=should give a grant that may not be re-delegated no depth', () => {
    expect(normalRedelegation(undefined)).toEqual({ allowed: false, maxDepth: 0 });
    expect(normalRedelegation({ allowed: false, maxDepth: 3 })).toEqual({ allowed: false, maxDepth: 0 });
    expect(normalRedelegation({ allowed: true, maxDepth: 3 })).toEqual({ allowed: true, maxDepth: 3 });
    expect(normalRedelegation({ allowed: true })).toEqual({ allowed: true, maxDepth: 1 });
  });
});
