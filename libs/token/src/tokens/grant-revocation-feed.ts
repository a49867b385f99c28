import { DelegationEventPayload, type EventContract, GRANT_ENDING_EVENTS } from '@latchkey/contracts';
import { DurableSubscription, type EventStream } from '@latchkey/messaging';
import { Logger } from '@nestjs/common';
import type { Clock } from './access-tokens.js';
import { LONGEST_ACCESS_TOKEN_LIFETIME_SECONDS } from './device-revocation-feed.js';
import type { Revocations } from './revocations.js';

/** The durable consumer's name: replicas share it, so each event is handled once by the token service. */
export const GRANT_REVOCATIONS_DURABLE = 'token-grant-revocations';

/**
 * How long a grant's revocation is kept: until no token issued under the grant can be alive. Delegated
 * tokens never outlive their grant (`exp` ≤ the grant's end, by construction), and a token issued at the
 * last moment (a `UseGrant` that raced the revocation) lives at most the longest lifetime the tenants
 * file can configure. Never before `now`: a late event still revokes what a clock skew might have left.
 */
export function grantRevocationKeptUntil(grantExpiresAt: Date, receivedAt: Date): Date {
  const latest = Math.min(grantExpiresAt.getTime(), receivedAt.getTime() + LONGEST_ACCESS_TOKEN_LIFETIME_SECONDS * 1000);
  return new Date(Math.max(latest, receivedAt.getTime()) + 1000);
}

/** `latchkey.events.delegation.revoked` → `revoked`. */
const reasonOf = (contract: EventContract) => contract.subject.slice(contract.subject.lastIndexOf('.') + 1);

/**
 * Feeds grant revocations from the delegation service's events (revoked, declined, expired) through a
 * durable JetStream consumer, so every token issued under a grant that ended stops working on every
 * replica and the gateway's guard at once (docs/adr/0021). Every token of the grant goes, whenever it
 * was issued: unlike a device, a grant that ended never comes back. Idempotent (the first end is kept).
 */
export class GrantRevocationFeed {
  private readonly logger = new Logger('GrantRevocationFeed');
  private readonly subscription: DurableSubscription;

  constructor(
    stream: EventStream,
    private readonly revocations: Revocations,
    private readonly clock: Clock,
  ) {
    this.subscription = new DurableSubscription(stream, {
      durable: GRANT_REVOCATIONS_DURABLE,
      contracts: GRANT_ENDING_EVENTS,
      handle: (contract, payload) => this.handle(contract, payload),
    });
  }

  /** Resolves once the durable consumer exists; a failure fails the boot (no delegated token that cannot be revoked). */
  start(): Promise<void> {
    return this.subscription.start();
  }

  stop(): Promise<void> {
    return this.subscription.stop();
  }

  /** One event: resolves to acknowledge it, throws (e.g. the database is down) to have it redelivered. */
  async handle(contract: EventContract, payload: unknown): Promise<void> {
    const parsed = DelegationEventPayload.safeParse(payload);
    if (!parsed.success) {
      // The stream validates payloads before handing them over: a contract mismatch that redelivery would not cure.
      this.logger.error(`dropped a malformed ${contract.subject} event`);
      return;
    }
    const event = parsed.data;
    const receivedAt = new Date(this.clock());
    await this.revocations.revokeGrant(event.tenant, event.grantId, reasonOf(contract), new Date(event.at), grantRevocationKeptUntil(new Date(event.expiresAt), receivedAt));
    this.logger.log(`tokens of delegation grant ${event.grantId} (${event.tenant}) revoked: ${contract.subject}`);
  }
}
