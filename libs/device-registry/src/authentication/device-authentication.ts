import type { TenantDirectory } from '@latchkey/config';
import { type AuthenticatedDevice, type AuthenticateDevice, ContractError, isStorable, type ParsedRequestOf } from '@latchkey/contracts';
import { checkAssertionClaims, readUnverifiedAssertion, type RegisteredPublicJwk, secretMatchesHash, sha256Hex, verifyAssertionSignature } from '@latchkey/crypto';
import { Logger } from '@nestjs/common';
import type { Clock } from '../clock.js';
import type { DeviceDatabase } from '../device-registry.prisma.js';
import { sharedSecretAllowed } from '../devices/device-types.js';

type Proof = ParsedRequestOf<typeof AuthenticateDevice>['proof'];

export interface DeviceAssertionOptions {
  /** Longest `exp - now` accepted (default 300 s). */
  maxLifetimeSeconds?: number;
  /** Clock skew tolerated (default 30 s). */
  skewSeconds?: number;
}

/** The device and its usable credentials of one kind, read in one query. */
interface CredentialRow {
  type: string;
  ownerId: string | null;
  lastSeenAt: Date | null;
  credentialId: string | null;
  jwk: RegisteredPublicJwk | null;
  secretHash: string | null;
}

/** last_seen_at is written at most this often per device: authentication is a hot path. */
const LAST_SEEN_RESOLUTION_MS = 60_000;
// A digest no secret matches: a device without a secret costs the same hash-and-compare.
const NO_SECRET_DIGEST = sha256Hex('latchkey:device-without-secret');

function invalidClient(): ContractError {
  return new ContractError('invalid_client', 'client authentication failed');
}

/**
 * The device as an OAuth client (client_id = device id). private_key_jwt (RFC 7523 §2.2, §3): the
 * assertion is verified against the device's active, unexpired JWKs only, each with its own algorithm,
 * its claims by `checkAssertionClaims`, and its `jti` recorded (insert-as-check) so it works once.
 * client_secret: only a credential of kind `secret`, compared in constant time, and only while the
 * device's type still allows secrets. Only `active` devices authenticate; every failure is the same
 * `invalid_client`. Two queries on success (read, jti), a third at most once a minute (last seen).
 */
export class DeviceAuthentication {
  private readonly logger = new Logger('DeviceAuthentication');

  constructor(
    private readonly db: DeviceDatabase,
    private readonly tenants: TenantDirectory,
    private readonly clock: Clock,
    private readonly options: DeviceAssertionOptions = {},
  ) {}

  async authenticate(tenant: string, deviceId: string, proof: Proof): Promise<AuthenticatedDevice> {
    const tenantConfig = this.tenants.all().find((candidate) => candidate.id === tenant);
    if (!tenantConfig) throw invalidClient();
    const now = this.clock();
    const rows = await this.usable(tenant, deviceId, proof.method === 'private_key_jwt' ? 'jwk' : 'secret', now);
    const device = rows[0];

    let credentialId: string | null;
    if (proof.method === 'private_key_jwt') {
      credentialId = device ? await this.verifyAssertion(tenant, deviceId, proof, rows, now) : null;
    } else {
      const secrets = rows.filter((row) => row.credentialId && row.secretHash);
      // Every candidate is compared (and one at least), so the time taken says nothing of which matched.
      let matched: string | null = null;
      for (const row of secrets.length ? secrets : [{ credentialId: null, secretHash: NO_SECRET_DIGEST }]) {
        if (secretMatchesHash(proof.secret, row.secretHash!) && row.credentialId) matched ??= row.credentialId;
      }
      credentialId = device && sharedSecretAllowed(tenantConfig, device.type) ? matched : null;
    }
    if (!device || !credentialId) throw invalidClient();
    await this.touch(tenant, deviceId, device.lastSeenAt, now);
    return { id: deviceId, type: device.type, ownerId: device.ownerId, credentialId };
  }

  /** The verifying credential's id, or null. */
  private async verifyAssertion(tenant: string, deviceId: string, proof: Extract<Proof, { method: 'private_key_jwt' }>, rows: CredentialRow[], now: number): Promise<string | null> {
    const read = readUnverifiedAssertion(proof.assertion);
    if (!read) return null;
    const byKey = new Map<RegisteredPublicJwk, string>();
    for (const row of rows) if (row.jwk && row.credentialId) byKey.set(row.jwk, row.credentialId);
    const verified = await verifyAssertionSignature(proof.assertion, read.header, [...byKey.keys()]);
    if (!verified) return null;
    const checked = checkAssertionClaims(verified.claims, { clientId: deviceId, audiences: proof.audiences, now: Math.floor(now / 1000), ...this.options });
    if (!checked.ok || !isStorable(checked.claims.jti)) {
      this.logger.debug(`device ${deviceId} of ${tenant}: assertion refused: ${checked.ok ? 'jti cannot be stored' : checked.reason}`);
      return null;
    }
    // RFC 7523 §3 item 7: single use. The insert is the check, so two concurrent uses cannot both pass.
    const skew = this.options.skewSeconds ?? 30;
    // Raw SQL: this runs once per device token, and the query compiler's share of a createMany was measurable.
    const inserted = await this.db.prisma.$executeRaw`
      INSERT INTO "devices"."assertion_jti" (tenant, device_id, jti, expires_at)
      VALUES (${tenant}, ${deviceId}::uuid, ${checked.claims.jti}, ${new Date((checked.claims.exp + skew) * 1000)})
      ON CONFLICT DO NOTHING`;
    return inserted === 1 ? (byKey.get(verified.key) ?? null) : null;
  }

  /** The active device with its active, unexpired credentials of `kind` (no row: no such active device). */
  private usable(tenant: string, deviceId: string, kind: 'jwk' | 'secret', now: number): Promise<CredentialRow[]> {
    const at = new Date(now);
    return this.db.prisma.$queryRaw<CredentialRow[]>`
      SELECT d.type, d.owner_id AS "ownerId", d.last_seen_at AS "lastSeenAt", c.id AS "credentialId", c.jwk, c.secret_hash AS "secretHash"
      FROM "devices"."device" d
      LEFT JOIN "devices"."device_credential" c
        ON c.tenant = d.tenant AND c.device_id = d.id AND c.kind = ${kind} AND c.status = 'active' AND (c.expires_at IS NULL OR c.expires_at > ${at})
      WHERE d.tenant = ${tenant} AND d.id = ${deviceId}::uuid AND d.status = 'active'`;
  }

  /** Last seen, at most once a minute per device: a conditional UPDATE that replicas cannot double. */
  private async touch(tenant: string, deviceId: string, lastSeenAt: Date | null, now: number): Promise<void> {
    if (lastSeenAt && now - lastSeenAt.getTime() < LAST_SEEN_RESOLUTION_MS) return;
    const at = new Date(now);
    await this.db.prisma.$executeRaw`
      UPDATE "devices"."device" SET last_seen_at = ${at}
      WHERE tenant = ${tenant} AND id = ${deviceId}::uuid AND (last_seen_at IS NULL OR last_seen_at < ${new Date(now - LAST_SEEN_RESOLUTION_MS)})`;
  }

  /** Recorded jtis are useless once their assertion has expired. */
  async sweep(tenant: string): Promise<number> {
    const { count } = await this.db.prisma.assertionJti.deleteMany({ where: { tenant, expiresAt: { lt: new Date(this.clock()) } } });
    return count;
  }
}
