import { type ConsentSummary, type ListConsents, MAX_LISTED_CONSENTS, type ParsedRequestOf, type ReplyOf } from '@latchkey/contracts';
import type { TenantDirectory } from '@latchkey/config';
import type { ClientRepository } from '../clients/client.repository.js';
import type { TokenDatabase } from '../token.prisma.js';
import type { Clock } from '../tokens/access-tokens.js';

/** One app's access on a person's behalf, as stored: its remembered consent and its live refresh-token families. */
export interface HeldAccess {
  clientId: string;
  /** The remembered consent, if any. */
  consent: { scopes: string[]; grantedAt: Date; updatedAt: Date } | null;
  /** The live families, if any: the scopes they carry (first seen first), the oldest and newest family's creation. */
  refresh: { scopes: string[]; since: Date; latest: Date } | null;
}

interface Row {
  clientId: string;
  consentScopes: string[] | null;
  consentedAt: Date | null;
  consentUpdatedAt: Date | null;
  familiesSince: Date | null;
  familiesLatest: Date | null;
  familyScopes: string[];
}

/**
 * What the account page lists (`latchkey.token.v1.list-consents`, docs/adr/0013): every app that holds
 * access on one person's behalf at one tenant — the union, per client, of the person's remembered
 * consents and live refresh-token families. A family from the device grant (ADR 0014) has no remembered
 * consent, and would otherwise hold offline access where the person cannot see or withdraw it.
 */
export class AppsWithAccess {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly clients: ClientRepository,
    private readonly db: TokenDatabase,
    private readonly clock: Clock,
  ) {}

  async list(request: ParsedRequestOf<typeof ListConsents>): Promise<ReplyOf<typeof ListConsents>> {
    const tenant = this.tenants.get(request.tenant);
    const held = await this.held(tenant.id, request.userId, MAX_LISTED_CONSENTS);
    // `find` is cached per client, and a person uses a handful of apps: no batch query needed.
    const clients = await Promise.all(held.map((access) => this.clients.find(tenant.id, access.clientId)));
    // A client removed since keeps its consent and families until withdrawn: name it by its id.
    return { consents: held.map((access, index) => summaryOf(access, clients[index]?.displayName || access.clientId)) };
  }

  /**
   * The user's apps at the tenant, most recently allowed first (then by client id), at most `limit`.
   * One statement, so the limit applies to the union and not to each half. A family is live as
   * `RefreshTokens.isLive` says of its newest token: not revoked, within its absolute lifetime, and an
   * unspent token within its idle lifetime (a family whose tokens all idled out can never refresh again).
   */
  async held(tenant: string, userId: string, limit: number): Promise<HeldAccess[]> {
    const now = new Date(this.clock());
    const rows = await this.db.prisma.$queryRaw<Row[]>`
      WITH live AS (
        SELECT f.client_id, f.created_at, f.scopes
        FROM "token"."refresh_token_family" f
        WHERE f.tenant = ${tenant} AND f.user_id = ${userId} AND f.revoked_at IS NULL AND f.absolute_expires_at > ${now}::timestamptz
          AND EXISTS (
            SELECT 1 FROM "token"."refresh_token" t
            WHERE t.family_id = f.id AND t.used_at IS NULL AND t.idle_expires_at > ${now}::timestamptz
          )
      ), families AS (
        SELECT client_id, min(created_at) AS since, max(created_at) AS latest FROM live GROUP BY client_id
      ), remembered AS (
        SELECT client_id, scopes, created_at, updated_at FROM "token"."consent" WHERE tenant = ${tenant} AND user_id = ${userId}
      ), apps AS (
        SELECT coalesce(r.client_id, f.client_id) AS client_id, r.scopes AS consent_scopes, r.created_at AS consented_at,
               r.updated_at AS consent_updated_at, f.since, f.latest, greatest(r.updated_at, f.latest) AS last_allowed
        FROM remembered r FULL JOIN families f ON f.client_id = r.client_id
        ORDER BY last_allowed DESC, client_id
        LIMIT ${limit}::int
      )
      SELECT a.client_id AS "clientId", a.consent_scopes AS "consentScopes", a.consented_at AS "consentedAt",
             a.consent_updated_at AS "consentUpdatedAt", a.since AS "familiesSince", a.latest AS "familiesLatest",
             ARRAY(
               SELECT s.scope FROM live l CROSS JOIN LATERAL unnest(l.scopes) WITH ORDINALITY AS s(scope, position)
               WHERE l.client_id = a.client_id GROUP BY s.scope ORDER BY min(s.position), s.scope
             ) AS "familyScopes"
      FROM apps a
      ORDER BY a.last_allowed DESC, a.client_id`;
    return rows.map((row) => ({
      clientId: row.clientId,
      consent: row.consentScopes && row.consentedAt && row.consentUpdatedAt ? { scopes: row.consentScopes, grantedAt: row.consentedAt, updatedAt: row.consentUpdatedAt } : null,
      refresh: row.familiesSince && row.familiesLatest ? { scopes: row.familyScopes, since: row.familiesSince, latest: row.familiesLatest } : null,
    }));
  }
}

/** The contract's view of one app: the consent's scopes first, then what only its refresh tokens carry; the earliest start, the latest allowance. */
export function summaryOf(access: HeldAccess, clientName: string): ConsentSummary {
  const { consent, refresh } = access;
  const scopes = [...new Set([...(consent?.scopes ?? []), ...(refresh?.scopes ?? [])])];
  const starts = [consent?.grantedAt, refresh?.since].filter((at): at is Date => at !== undefined);
  const ends = [consent?.updatedAt, refresh?.latest].filter((at): at is Date => at !== undefined);
  return {
    clientId: access.clientId,
    clientName,
    scopes,
    grantedAt: new Date(Math.min(...starts.map((at) => at.getTime()))).toISOString(),
    updatedAt: new Date(Math.max(...ends.map((at) => at.getTime()))).toISOString(),
    rememberedConsent: consent !== null,
    offlineAccess: refresh !== null,
  };
}
