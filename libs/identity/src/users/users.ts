import { resolveFromEnv, type UserConfig } from '@latchkey/config';
import type { StandardClaims, UserAuthorization, UserSummary } from '@latchkey/contracts';
import type { IdentityDatabase } from '../identity.prisma.js';
import type { PasswordHasher } from './password-hasher.js';

export function toUserSummary(row: { id: string; tenant: string; username: string; status: string; roles: string[] }): UserSummary {
  return { id: row.id, tenant: row.tenant, username: row.username, status: row.status as UserSummary['status'], roles: row.roles };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The people of each tenant. */
export class Users {
  constructor(
    private readonly db: IdentityDatabase,
    private readonly passwords: PasswordHasher,
  ) {}

  async findByUsername(tenant: string, username: string): Promise<UserSummary | null> {
    const row = await this.db.prisma.user.findUnique({ where: { tenant_username: { tenant, username } } });
    return row && toUserSummary(row);
  }

  /** A user of the tenant by id; null for another tenant's user. */
  async findById(tenant: string, id: string): Promise<UserSummary | null> {
    const row = await this.db.prisma.user.findFirst({ where: { id, tenant } });
    return row && toUserSummary(row);
  }

  /**
   * A user's roles and free attributes (e.g. `sites`), for the policy input; null for an unknown user,
   * another tenant's, or an id that is not a UUID. A disabled user is returned with its status: the
   * caller decides what a disabled user may do (the gateway gives it no roles).
   */
  async authorization(tenant: string, id: string): Promise<UserAuthorization | null> {
    if (!UUID.test(id)) return null;
    const row = await this.db.prisma.user.findFirst({ where: { id, tenant } });
    if (!row) return null;
    const attributes = row.attributes !== null && typeof row.attributes === 'object' && !Array.isArray(row.attributes) ? (row.attributes as Record<string, unknown>) : {};
    return { ...toUserSummary(row), attributes };
  }

  /**
   * OIDC Core §5.4: the standard claims an active user releases for these scopes. Null for an unknown,
   * disabled or other tenant's user (a token outliving its user gets nothing). Latchkey does not verify
   * addresses yet, so `email_verified` is false.
   */
  async claims(tenant: string, id: string, scopes: readonly string[]): Promise<StandardClaims | null> {
    if (!UUID.test(id)) return null;
    const row = await this.db.prisma.user.findFirst({ where: { id, tenant, status: 'active' } });
    if (!row) return null;
    const claims: StandardClaims = { sub: row.id };
    if (scopes.includes('profile')) {
      claims.preferred_username = row.username;
      if (row.displayName) claims.name = row.displayName;
    }
    if (scopes.includes('email') && row.email) {
      claims.email = row.email;
      claims.email_verified = false;
    }
    return claims;
  }

  /** The user and the stored password hash, for sign-in only: the hash never leaves this service. */
  async findWithPasswordHash(tenant: string, username: string): Promise<{ user: UserSummary; passwordHash: string } | null> {
    const row = await this.db.prisma.user.findUnique({ where: { tenant_username: { tenant, username } } });
    return row && { user: toUserSummary(row), passwordHash: row.passwordHash };
  }

  /**
   * Idempotent: profile fields follow the file; the password is re-hashed only when the stored hash
   * no longer matches it, so a restart does not rewrite every hash.
   */
  async upsertFromConfig(tenant: string, user: UserConfig): Promise<void> {
    const password = resolveFromEnv(user.password, user.passwordFromEnv);
    const profile = {
      email: user.email ?? null,
      displayName: user.displayName ?? null,
      roles: user.roles,
      attributes: user.attributes as object,
      managedBy: 'config',
    };
    const existing = await this.db.prisma.user.findUnique({ where: { tenant_username: { tenant, username: user.username } } });
    if (existing) {
      const passwordHash = password !== undefined && !(await this.passwords.verify(existing.passwordHash, password)) ? await this.passwords.hash(password) : undefined;
      await this.db.prisma.user.update({ where: { id: existing.id }, data: { ...profile, ...(passwordHash ? { passwordHash } : {}) } });
      return;
    }
    // A user declared without a password cannot sign in until one is set: an unusable hash.
    const passwordHash = password !== undefined ? await this.passwords.hash(password) : '!';
    await this.db.prisma.user.upsert({
      where: { tenant_username: { tenant, username: user.username } },
      create: { tenant, username: user.username, passwordHash, ...profile },
      update: profile,
    });
  }
}
