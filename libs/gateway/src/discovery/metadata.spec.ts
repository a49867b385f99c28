import { describe, expect, it } from '@jest/globals';
import { authorizationServerMetadata } from './metadata.js';

describe('authorization server metadata', () => {
  const metadata = authorizationServerMetadata('https://id.example/t/demo', ['profile', 'delegations', 'delegations:read', 'lock:unlock']);

  it('advertises RFC 8693 token exchange and the userinfo delegations claim', () => {
    expect(metadata.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:token-exchange');
    expect(metadata.claims_supported).toContain('delegations');
  });

  it('lists the scopes the tenant’s clients may ask for, openid first, once each', () => {
    expect(metadata.scopes_supported).toEqual(['openid', 'profile', 'delegations', 'delegations:read', 'lock:unlock']);
  });
});
