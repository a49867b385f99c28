import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { outboxLockKey, PgOutboxStore } from './pg-outbox-store.js';

describe('PgOutboxStore', () => {
  // Never connects: the pool is only used by the relay's calls.
  const pool = new pg.Pool({ max: 1 });

  it('accepts a lower-case schema-qualified table name', () => {
    expect(() => new PgOutboxStore(pool, 'devices.outbox_event')).not.toThrow();
  });

  it.each(['outbox_event', 'Devices.outbox_event', 'devices.outbox_event; DROP TABLE x', 'devices."outbox"', 'a.b.c', '1devices.outbox', `devices.${'x'.repeat(64)}`])(
    'refuses %j: the name goes into SQL',
    (name) => {
      expect(() => new PgOutboxStore(pool, name)).toThrow(/schema\.table/);
    },
  );

  it('derives the same advisory-lock key for every replica, a different one per table', () => {
    expect(outboxLockKey('devices.outbox_event')).toBe(outboxLockKey('devices.outbox_event'));
    expect(outboxLockKey('devices.outbox_event')).not.toBe(outboxLockKey('token.outbox_event'));
    expect(Number.isInteger(outboxLockKey('devices.outbox_event'))).toBe(true);
  });
});
