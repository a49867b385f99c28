import { describe, expect, it } from '@jest/globals';
import { atHash } from './id-tokens.js';

describe('at_hash (OIDC Core §3.1.3.6)', () => {
  it('matches the example of OpenID Connect Core Appendix A.3', () => {
    expect(atHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y')).toBe('77QmUPtjPfzWtF2AnpK9RQ');
  });
});
