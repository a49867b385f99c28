import type { TenantConfig } from '@latchkey/config';
import { ContractError, DecideBatch, type DecisionContext, type DecisionInput, type DecisionSubject, MAX_BATCH_DECISIONS } from '@latchkey/contracts';
import type { ContractClient } from '@latchkey/messaging';
import { Logger } from '@nestjs/common';
import type { OAuthClient } from '../clients/oauth-client.js';
import type { Clock } from '../tokens/access-tokens.js';

/** The policy action that asks whether a subject may be given a scope (policies/README.md). */
export const TOKEN_SCOPE_ACTION = 'token.scope';

/** The one request this class makes; a `ContractClient` on the bus satisfies it. */
export type PolicyDecisionClient = Pick<ContractClient, 'send'>;

export interface ScopeDecisionOptions {
  /** Allowed decisions kept at most (least recently used go first); default 10 000. 0 turns the cache off. */
  cacheEntries?: number;
  /** Longest an allow is reused, whatever `ttlSeconds` the policy gave; default 300 s. */
  maxCacheSeconds?: number;
  /** How long the decision point may take before the token request fails with `unavailable`; default: the messaging timeout. */
  timeoutMs?: number;
}

/** One subject's candidate scopes; `context` for a delegated subject (its grant). */
export interface ScopeQuestion {
  subject: DecisionSubject;
  scopes: readonly string[];
  context?: DecisionContext;
}

interface CachedAllow {
  tenant: string;
  expiresAt: number;
}

/**
 * The allow decisions of `token.scope` the token service may reuse (docs/adr/0023): keyed by tenant,
 * subject (type, id, roles, attributes) and scope, each kept for the `ttlSeconds` its decision carried
 * (capped), in a map bounded to `maxEntries` that drops the least recently used first. Denials are never
 * kept. A tenant's policy activation (`PolicyActivated`) clears the tenant's entries and bumps its
 * generation, so that an answer to a question asked before the activation is not kept after it.
 */
export class ScopeDecisionCache {
  private readonly entries = new Map<string, CachedAllow>();
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly maxEntries: number,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Whether an allow for `key` is kept and still fresh; a hit becomes the most recently used. */
  allows(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    if (entry.expiresAt <= this.clock()) return false;
    this.entries.set(key, entry);
    return true;
  }

  /** The tenant's generation now: pass it to `keep` with the answer of the question asked now. */
  generation(tenant: string): number {
    return this.generations.get(tenant) ?? 0;
  }

  /** Keeps an allow for `ttlSeconds`, unless the tenant's policy changed since `generation` was read. */
  keep(tenant: string, key: string, ttlSeconds: number, generation: number): void {
    if (this.maxEntries <= 0 || ttlSeconds <= 0 || generation !== this.generation(tenant)) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { tenant, expiresAt: this.clock() + ttlSeconds * 1000 });
  }

  /** The tenant's policy changed: nothing decided under the previous one is reused. */
  clearTenant(tenant: string): void {
    this.generations.set(tenant, this.generation(tenant) + 1);
    for (const [key, entry] of this.entries) if (entry.tenant === tenant) this.entries.delete(key);
  }
}

/**
 * Asks the policy decision point which candidate scopes a subject may be given (ARCHITECTURE flow 1,
 * policies/README.md `token.scope`, docs/adr/0023): one `DecideBatch` per token request for the scopes
 * the cache does not allow already, never one per scope. Fails closed: a decision point that does not
 * answer, or answers something unusable, is `unavailable` — never a token with unchecked scopes.
 */
export class ScopeDecisions {
  private readonly logger = new Logger('ScopeDecisions');
  private readonly maxCacheSeconds: number;
  private lastWarningAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly policy: PolicyDecisionClient,
    readonly cache: ScopeDecisionCache,
    private readonly clock: Clock,
    private readonly options: ScopeDecisionOptions = {},
  ) {
    this.maxCacheSeconds = options.maxCacheSeconds ?? 300;
  }

  /** The scopes of `scopes` the policy allows the subject, in their order. */
  async allowed(tenant: string, subject: DecisionSubject, scopes: readonly string[], context?: DecisionContext): Promise<string[]> {
    const [allowed] = await this.decide(tenant, [{ subject, scopes, ...(context ? { context } : {}) }]);
    return allowed!;
  }

  /** For each question, the scopes the policy allows its subject, in their order; every question in one round trip. */
  async decide(tenant: string, questions: readonly ScopeQuestion[]): Promise<string[][]> {
    const generation = this.cache.generation(tenant);
    const answers = questions.map((question) => question.scopes.map(() => false));
    const asked: { question: number; scope: number; key: string | null }[] = [];
    const decisions: DecisionInput[] = [];
    questions.forEach((question, q) => {
      const subjectKey = cacheKeyOf(tenant, question);
      question.scopes.forEach((scope, s) => {
        const key = subjectKey === null ? null : `${subjectKey}\u0000${scope}`;
        if (key !== null && this.cache.allows(key)) {
          answers[q]![s] = true;
          return;
        }
        asked.push({ question: q, scope: s, key });
        decisions.push({
          subject: question.subject,
          action: { name: TOKEN_SCOPE_ACTION },
          resource: { type: 'scope', id: scope },
          context: question.context ?? {},
        });
      });
    });
    if (decisions.length > 0) {
      const results = await this.ask(tenant, decisions);
      results.forEach((result, i) => {
        const { question, scope, key } = asked[i]!;
        if (!result.allow) return;
        answers[question]![scope] = true;
        // Only allows, and only for as long as the decision said (never for a delegated subject).
        if (key !== null && result.ttlSeconds !== undefined) this.cache.keep(tenant, key, Math.min(result.ttlSeconds, this.maxCacheSeconds), generation);
      });
    }
    return questions.map((question, q) => question.scopes.filter((_scope, s) => answers[q]![s]));
  }

  private async ask(tenant: string, decisions: DecisionInput[]): Promise<{ allow: boolean; ttlSeconds?: number | undefined }[]> {
    const batches: DecisionInput[][] = [];
    for (let i = 0; i < decisions.length; i += MAX_BATCH_DECISIONS) batches.push(decisions.slice(i, i + MAX_BATCH_DECISIONS));
    try {
      const replies = await Promise.all(
        batches.map(async (batch) => {
          const { results } = await this.policy.send(DecideBatch, { tenant, decisions: batch }, this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {});
          if (results.length !== batch.length) throw new ContractError('internal', `the decision point answered ${results.length} of ${batch.length} decisions`);
          return results;
        }),
      );
      return replies.flat();
    } catch (error) {
      this.warn(tenant, error);
      throw new ContractError('unavailable', 'the policy decision point cannot decide on the scopes now');
    }
  }

  /** At most one warning every 10 s: an outage under load must not flood the log. */
  private warn(tenant: string, error: unknown): void {
    const now = this.clock();
    if (now - this.lastWarningAt < 10_000) return;
    this.lastWarningAt = now;
    const reason = ContractError.is(error) ? `${error.code}: ${error.message}` : 'an unexpected failure';
    this.logger.warn(`scope decisions for tenant ${tenant} failed (${reason}): token requests that need one are refused with unavailable`);
  }
}

/**
 * The cache key of a question's subject, or null when its answers must not be reused: a delegated
 * subject (`act`, `gid`) or a question with context depends on the grant and the clock. The key holds
 * everything the question carries about the subject (type, id, roles in order-free form, attributes),
 * so two subjects that could be decided differently never share an entry.
 */
export function cacheKeyOf(tenant: string, question: ScopeQuestion): string | null {
  const { subject, context } = question;
  if (subject.act !== undefined || subject.gid !== undefined || subject.scopes !== undefined) return null;
  if (context !== undefined && Object.keys(context).length > 0) return null;
  const roles = subject.roles ? [...new Set(subject.roles)].sort() : [];
  return JSON.stringify([tenant, subject.type, subject.id, roles, subject.attributes ?? {}]);
}

const rolesByTenant = new WeakMap<TenantConfig, Map<string, string[]>>();

/**
 * Who a client is to the policy when it asks for a token for itself (client credentials): a device of the
 * registry by its type (the policy binds the type's roles, policies/README.md), a registered client with
 * the roles the tenants file gives it (`clients[].roles`; none for a client the file does not name).
 */
export function clientSubject(tenant: TenantConfig, client: OAuthClient): DecisionSubject {
  if (client.device) return { type: 'device', id: client.clientId, attributes: { deviceType: client.device.type } };
  let roles = rolesByTenant.get(tenant);
  if (!roles) {
    roles = new Map(tenant.clients.map((registered) => [registered.clientId, registered.roles]));
    rolesByTenant.set(tenant, roles);
  }
  const own = roles.get(client.clientId) ?? [];
  return { type: 'client', id: client.clientId, ...(own.length > 0 ? { roles: [...own] } : {}) };
}
