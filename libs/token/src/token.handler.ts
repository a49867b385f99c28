import { GetJwks, IntrospectToken, IssueDelegatedTokens, IssueToken, ListSigningKeys, type ParsedRequestOf, RevokeToken, RotateSigningKey, VerifyAccessToken } from '@latchkey/contracts';
import { Handles } from '@latchkey/messaging';
import { Controller, Inject } from '@nestjs/common';
import { DelegationsClaim } from './delegation/delegations-claim.js';
import { KeyRotation } from './keys/key-rotation.js';
import { TokenEndpoints } from './token-endpoints.js';

/** NATS adapter: the contracts validate, the domain decides. */
@Controller()
export class TokenHandler {
  constructor(
    @Inject(TokenEndpoints) private readonly endpoints: TokenEndpoints,
    @Inject(KeyRotation) private readonly rotation: KeyRotation,
    @Inject(DelegationsClaim) private readonly delegations: DelegationsClaim,
  ) {}

  @Handles(IssueToken)
  issue(request: ParsedRequestOf<typeof IssueToken>) {
    return this.endpoints.issue(request);
  }

  @Handles(IntrospectToken)
  introspect(request: ParsedRequestOf<typeof IntrospectToken>) {
    return this.endpoints.introspect(request);
  }

  @Handles(RevokeToken)
  revoke(request: ParsedRequestOf<typeof RevokeToken>) {
    return this.endpoints.revoke(request);
  }

  @Handles(VerifyAccessToken)
  verifyAccessToken(request: ParsedRequestOf<typeof VerifyAccessToken>) {
    return this.endpoints.verifyAccessToken(request);
  }

  /** The userinfo `delegations` claim, for the gateway (docs/adr/0021). */
  @Handles(IssueDelegatedTokens)
  issueDelegatedTokens(request: ParsedRequestOf<typeof IssueDelegatedTokens>) {
    return this.delegations.issue(request);
  }

  @Handles(GetJwks)
  jwks(request: ParsedRequestOf<typeof GetJwks>) {
    return this.endpoints.jwks(request);
  }

  /** Admin operations, behind the policy at the gateway (`POST /t/{t}/admin/v1/signing-keys/rotate`, `GET …/signing-keys`). */
  @Handles(RotateSigningKey)
  rotateSigningKey(request: ParsedRequestOf<typeof RotateSigningKey>) {
    return this.rotation.rotate(request);
  }

  @Handles(ListSigningKeys)
  listSigningKeys(request: ParsedRequestOf<typeof ListSigningKeys>) {
    return this.rotation.list(request);
  }
}
