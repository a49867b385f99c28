import { describe, expect, it } from '@jest/globals';
import { HttpFailure } from '../http/http-errors.js';
import { auditRequest, listDevicesRequest, nextLink } from './list-query.js';
import { attributeValue, booleanOf } from './values.js';

const q = (query: string) => [...new URLSearchParams(query)];

function issuesOf(run: () => unknown): Array<{ parameter?: string; detail: string }> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpFailure);
    expect((error as HttpFailure).status).toBe(400);
    return (error as HttpFailure).extras.problem?.errors as Array<{ parameter?: string; detail: string }>;
  }
  throw new Error('expected a 400');
}

describe('listDevicesRequest', () => {
  it('is the tenant and the default page size without a query', () => {
    expect(listDevicesRequest('demo', [])).toEqual({ tenant: 'demo', limit: 50 });
  });

  it('maps every filter to the ListDevices request', () => {
    expect(listDevicesRequest('demo', q('status=active&type=bike-lock&owner=none&limit=500&cursor=abc&attr.site=berlin&attr.floor=3&attr.indoor=true&attr.code=%22007%22'))).toEqual({
      tenant: 'demo',
      status: 'active',
      type: 'bike-lock',
      ownerId: 'none',
      limit: 500,
      cursor: 'abc',
      attributes: { site: 'berlin', floor: 3, indoor: true, code: '007' },
    });
  });

  it.each([
    ['status=broken', 'status'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1.5', 'limit'],
    ['type=Bike Lock', 'type'],
    ['cursor=', 'cursor'],
    ['stauts=active', 'stauts'],
    ['status=active&status=suspended', 'status'],
    ['attr.a%2Fb=1', 'attr.a/b'],
    ['attr.site=a&attr.site=b', 'attr.site'],
  ])('refuses %s, naming the parameter %s', (query, parameter) => {
    expect(issuesOf(() => listDevicesRequest('demo', q(query)))).toEqual(expect.arrayContaining([expect.objectContaining({ parameter })]));
  });

  it('lists every problem at once', () => {
    expect(issuesOf(() => listDevicesRequest('demo', q('status=x&limit=0&foo=1'))).map((issue) => issue.parameter).sort()).toEqual(['foo', 'limit', 'status']);
  });
});

describe('auditRequest', () => {
  it('takes limit and cursor only', () => {
    expect(auditRequest('demo', '0b5a8e0e-7a3b-4c1f-9d3e-2f1a6b7c8d9e', q('limit=10&cursor=c1'))).toEqual({ tenant: 'demo', deviceId: '0b5a8e0e-7a3b-4c1f-9d3e-2f1a6b7c8d9e', limit: 10, cursor: 'c1' });
    expect(issuesOf(() => auditRequest('demo', '0b5a8e0e-7a3b-4c1f-9d3e-2f1a6b7c8d9e', q('status=active')))).toEqual([{ parameter: 'status', detail: 'unknown query parameter' }]);
  });
});

describe('nextLink (RFC 8288)', () => {
  it('keeps the filters and replaces the cursor', () => {
    expect(nextLink('https://id.example/t/demo/admin/v1/devices', q('status=active&cursor=old&attr.site=x y'), 'n/1')).toBe('<https://id.example/t/demo/admin/v1/devices?status=active&attr.site=x+y&cursor=n%2F1>; rel="next"');
  });
  it('is absent on the last page', () => {
    expect(nextLink('https://id.example/x', [], null)).toBeUndefined();
  });
});

describe('text → attribute values', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['3', 3],
    ['-1.5', -1.5],
    ['1e3', 1000],
    ['007', '007'],
    ['+1', '+1'],
    ['"42"', '42'],
    ['"', '"'],
    ['berlin', 'berlin'],
    ['True', 'True'],
  ])('%s → %p', (text, value) => {
    expect(attributeValue(text)).toEqual(value);
  });

  it('reads yes/no cells', () => {
    expect([booleanOf('YES'), booleanOf('0'), booleanOf('True'), booleanOf('maybe')]).toEqual([true, false, true, undefined]);
  });
});
