import { createHash } from 'node:crypto';
import { issuerOf } from '@latchkey/config';
import { signJwt } from '@latchkey/crypto';
import type { IdTokenSigningAlg } from '../clients/oauth-client.js';
import type { SigningKeys } from '../keys/signing-keys.js';
import type { Clock } from './access-tokens.js';

/**
 * OIDC Core §3.1.3.6: `at_hash` is the base64url of the left-most half of the hash of the ASCII access
 * token, with the hash of the ID token's `alg` — SHA-256 for both ES256 and RS256.
 */
export function atHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}

export interface IssueIdToken {
  tenant: string;
  clientId: string;
  alg: IdTokenSigningAlg;
  userId: string;
  authTime: number;
  amr: string[];
  acr: string;
  /** OIDC Front-/Back-Channel Logout `sid`; absent when the grant had no identity session. */
  sessionId?: string;
  nonce?: string;
  accessToken: string;
  lifetimeSeconds: number;
}

/** OIDC Core §2 ID tokens, signed with the algorithm the client registered (its own key track). */
export class IdTokens {
  constructor(
    private readonly keys: SigningKeys,
    private readonly publicUrl: string,
    private readonly now: Clock = Date.now,
  ) {}

  async issue(request: IssueIdToken): Promise<string> {
    const signer = await this.keys.activeSigner(request.tenant, request.alg);
    const iat = Math.floor(this.now() / 1000);
    const claims = {
      iss: issuerOf(this.publicUrl, request.tenant),
      sub: request.userId,
      aud: request.clientId,
      exp: iat + request.lifetimeSeconds,
      iat,
      auth_time: request.authTime,
      ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
      amr: request.amr,
      acr: request.acr,
      at_hash: atHash(request.accessToken),
      ...(request.sessionId !== undefined ? { sid: request.sessionId } : {}),
    };
    return signJwt({ alg: signer.alg, typ: 'JWT', kid: signer.kid }, claims, signer.privateKey);
  }
}
