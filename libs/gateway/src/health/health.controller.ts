import { IdentityHealth, TokenHealth } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/**
 * The services the gateway cannot serve without: tokens, and identity for every sign-in page. Without
 * identity here, `/readyz` said ready while sign-in still answered 503 (identity boots later: it
 * hashes the tenants file's passwords first).
 */
const REQUIRED = [TokenHealth, IdentityHealth] as const;

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
