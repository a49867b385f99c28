import { ContractError, type DelegateeInput, type Delegatee, FindUser, GetUserClaims } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';

/**
 * Who shares and who receives, as the identity service knows them: the delegator must be an active
 * user of the tenant (their username is kept for display); a delegatee person is resolved by id or
 * username and must be an active user too.
 */
export class Parties {
  constructor(private readonly identity: ContractClient) {}

  /** The delegator's username; `forbidden` for someone who is not an active user of the tenant. */
  async delegatorName(tenant: string, userId: string): Promise<string> {
    const claims = await this.claimsOf(tenant, userId);
    if (!claims) throw new ContractError('forbidden', 'only an active user of the tenant can share');
    return claims.preferred_username ?? userId;
  }

  /** The delegatee resolved; `validation_failed` for an unknown (or disabled) person. */
  async delegatee(tenant: string, input: DelegateeInput): Promise<Delegatee> {
    if (input.type === 'client') {
      // There is no contract to look a client up (clients live in the token service and the tenants
      // file): a client id is taken as given. A grant to a client that does not exist is never used.
      return { type: 'client', id: input.id, name: input.id };
    }
    if (input.username !== undefined) {
      const { user } = await this.identity.send(FindUser, { tenant, username: input.username });
      if (!user || user.status !== 'active') throw unknownDelegatee();
      return { type: 'user', id: user.id, name: user.username };
    }
    const claims = await this.claimsOf(tenant, input.id!);
    if (!claims) throw unknownDelegatee();
    return { type: 'user', id: claims.sub, name: claims.preferred_username ?? claims.sub };
  }

  private async claimsOf(tenant: string, userId: string) {
    try {
      return (await this.identity.send(GetUserClaims, { tenant, userId, scopes: ['profile'] })).claims;
    } catch (error) {
      if (ContractError.is(error, 'not_found')) return null;
      throw error;
    }
  }
}

function unknownDelegatee(): ContractError {
  return new ContractError('validation_failed', 'no such delegatee: not an active user of this tenant', { field: 'delegatee' });
}
