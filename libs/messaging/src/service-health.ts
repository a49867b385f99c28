import type { HealthReply } from '@latchkey/contracts';

/** Each service module provides this; the NATS health handler and the probe server both use it. */
export interface ServiceHealth {
  check(): Promise<HealthReply>;
}

export const SERVICE_HEALTH = Symbol('SERVICE_HEALTH');

export function healthReply(service: string, checks: HealthReply['checks']): HealthReply {
  const ok = Object.values(checks).every((check) => check.ok);
  return { service, status: ok ? 'ok' : 'degraded', checks };
}

/** The usual health of a service that owns a database: the database answers. */
export function databaseHealthProvider(service: string, database: abstract new (...args: never[]) => { probe(): Promise<HealthReply['checks'][string]> }) {
  return {
    provide: SERVICE_HEALTH,
    inject: [database],
    useFactory: (db: { probe(): Promise<HealthReply['checks'][string]> }): ServiceHealth => ({
      check: async () => healthReply(service, { database: await db.probe() }),
    }),
  };
}
