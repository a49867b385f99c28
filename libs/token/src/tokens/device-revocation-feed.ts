import { DEVICE_TOKEN_REVOKING_EVENTS, DeviceEventPayload, type EventContract } from '@latchkey/contracts';
import { DurableSubscription, type EventStream } from '@latchkey/messaging';
import { Logger } from '@nestjs/common';
import type { Clock } from './access-tokens.js';
import type { Revocations } from './revocations.js';

/** The durable consumer's name: replicas share it, so each event is handled once by the token service. */
export const DEVICE_REVOCATIONS_DURABLE = 'token-device-revocations';

/**
 * The longest lifetime the tenants file can give any access token (a client's `accessTokenTtlSeconds`
 * may be up to a day; tenants and device types up to an hour). A cut-off is kept this long past itself,
 * whatever the file says today: a token issued under a longer lifetime configured yesterday is covered.
 */
export const LONGEST_ACCESS_TOKEN_LIFETIME_SECONDS = 86_400;

export interface DeviceRevocationOptions {
  /**
   * Milliseconds added to a device event's time before it becomes a cut-off: how long the registry's
   * transaction may take between taking `at` and committing, plus how far apart the registry's and the
   * token service's clocks may be. Default 100.
   */
  allowanceMs?: number;
}

/**
 * The cut-off (inclusive, a whole second compared with `iat`) after a device event: every token dated
 * in the second of the change (after the allowance) or before is revoked.
 *
 * A device token is dated by the moment the token service asked the registry to check its proof
 * (`DeviceClients`), not by when it was signed: a token is never dated after the authentication it
 * rests on, so the token service's own latency (load, a pause) cannot carry a token authenticated
 * before the change past the cut-off. What remains is the registry's side — `at` is taken inside the
 * transaction that commits the change — and clock differences: the allowance.
 *
 * `iat` has a resolution of one second, so the whole second is revoked: a device that gets a token with
 * its other key in the same second as a credential revocation, or in the second of a quick
 * reactivation, gets a token that is already inactive and must ask again a moment later (at most a
 * second and the allowance after the change). Revoking too much is the safe direction; `floor(at) − 1`
 * would spare the tokens of the change's second issued before it — too little, never acceptable.
 *
 * The reference is the earlier of `at` and the moment the token service received the event: a registry
 * clock running ahead must not revoke a device's future tokens. Not the receipt alone: the same event
 * delivered again later (a lost acknowledgement) must give the same cut-off — otherwise it would revoke
 * the tokens a reactivated device got in between. With clocks in agreement the receipt is after `at`,
 * so a redelivery changes nothing; and the stored cut-off only ever moves forward.
 */
export function revocationCutoff(eventAt: Date, receivedAt: Date, allowanceMs: number): Date {
  const reference = Math.min(eventAt.getTime(), receivedAt.getTime()) + allowanceMs;
  return new Date(Math.floor(reference / 1000) * 1000);
}

/**
 * Feeds the per-subject revocation cut-offs from the device registry's events (suspended,
 * decommissioned, credential revoked) through a durable JetStream consumer, so that a device's live
 * tokens stop working at once on every replica and the gateway's guard (docs/adr/0017). Handling is
 * idempotent: the cut-off only moves forward.
 */
export class DeviceRevocationFeed {
  private readonly logger = new Logger('DeviceRevocationFeed');
  private readonly subscription: DurableSubscription;
  private readonly allowanceMs: number;

  constructor(
    stream: EventStream,
    private readonly revocations: Revocations,
    private readonly clock: Clock,
    options: DeviceRevocationOptions = {},
  ) {
    this.allowanceMs = options.allowanceMs ?? 100;
    this.subscription = new DurableSubscription(stream, {
      durable: DEVICE_REVOCATIONS_DURABLE,
      contracts: DEVICE_TOKEN_REVOKING_EVENTS,
      handle: (contract, payload) => this.handle(contract, payload),
    });
  }

  /** Resolves once the durable consumer exists; a failure fails the boot (no device token that cannot be revoked). */
  start(): Promise<void> {
    return this.subscription.start();
  }

  stop(): Promise<void> {
    return this.subscription.stop();
  }

  /** One event: resolves to acknowledge it, throws (e.g. the database is down) to have it redelivered. */
  async handle(contract: EventContract, payload: unknown): Promise<void> {
    const parsed = DeviceEventPayload.safeParse(payload);
    if (!parsed.success) {
      // The stream validates payloads before handing them over: this is a contract mismatch, and
      // redelivering it would not help.
      this.logger.error(`dropped a malformed ${contract.subject} event`);
      return;
    }
    const event = parsed.data;
    const cutoff = revocationCutoff(new Date(event.at), new Date(this.clock()), this.allowanceMs);
    // A token dated at the cut-off's second expires a lifetime (plus that second) later at the latest.
    const keepUntil = new Date(cutoff.getTime() + (LONGEST_ACCESS_TOKEN_LIFETIME_SECONDS + 1) * 1000);
    await this.revocations.revokeSubject(event.tenant, event.deviceId, cutoff, keepUntil);
    this.logger.log(`tokens of device ${event.deviceId} (${event.tenant}) issued up to ${cutoff.toISOString()} revoked: ${contract.subject}`);
  }
}
