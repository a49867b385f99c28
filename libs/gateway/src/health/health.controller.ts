import { IdentityHealth, PolicyHealth, TokenHealth } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/**
 * The services the gateway cannot serve without: tokens, identity for every sign-in page, and policy,
 * which decides the scopes of every client_credentials and token-exchange request (docs/adr/0023; the
 * token service refuses with 503 once its cached allows are gone) and every admin, command and AuthZEN
 * request. Without identity here, `/readyz` said ready while sign-in still answered 503 (identity boots
 * later: it hashes the tenants file's passwords first); without policy, while /oauth2/token did.
 *
 * Not delegation nor the device registry: each serves a few features (token exchange and userinfo's
 * `delegations` claim; device clients' tokens, device-grant approval and the device admin API), which
 * answer a fast 503 of their own while it is away, and the token, sign-in, introspection and revocation
 * endpoints keep working without them. Readiness takes every gateway replica out of the load balancer at
 * once (they share the backends), so a non-essential service's outage or restart must not take the whole
 * edge down with it.
 */
const REQUIRED = [TokenHealth, IdentityHealth, PolicyHealth] as const;

@Controller()
export class HealthController {
  constructor(@Inject(ContractClient) private readonly messaging: ContractClient) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  live() {
    return { status: 'ok' };
  }

  /** Readiness: NATS carries requests and every required service answers its health check. */
  @Get('readyz')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const results = await Promise.all(
      REQUIRED.map(async (contract) => {
        const started = performance.now();
        try {
          const health = await this.messaging.send(contract, {});
          return [health.service, { ok: health.status === 'ok', latencyMs: Math.round(performance.now() - started) }] as const;
        } catch {
          return [contract.subject.split('.')[1]!, { ok: false, latencyMs: Math.round(performance.now() - started) }] as const;
        }
      }),
    );
    const ok = results.every(([, check]) => check.ok);
    reply.code(ok ? 200 : 503).header('cache-control', 'no-store');
    return { status: ok ? 'ok' : 'unavailable', checks: Object.fromEntries(results) };
  }
}
