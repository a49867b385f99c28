import { Decide, DecideBatch, type DecisionInput, type DecisionResult } from '@latchkey/contracts';
import { ContractClient } from '@latchkey/messaging';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpFailure } from '../http/http-errors.js';
import { DecisionCache } from './decision-cache.js';

/** What the caller reads when the decision point cannot be asked: nothing was done, and which service failed is not its business. */
export const POLICY_UNAVAILABLE = 'authorization is temporarily unavailable: nothing was done, try again shortly';

/**
 * The gateway's way to the policy decision point (`policy.v1.decide`, `decide-batch`). Deny by
 * default: a decision point that is stopped, slow, or answers with an error is a 503 problem — never
 * an allow, and never a 403 that would look like a considered denial. Allows are reused for their
 * `ttlSeconds` (`DecisionCache`).
 */
@Injectable()
export class PolicyDecider {
  private readonly logger = new Logger('PolicyDecider');
  readonly cache = new DecisionCache();

  constructor(@Inject(ContractClient) private readonly messaging: ContractClient) {}

  async decide(tenant: string, input: DecisionInput): Promise<DecisionResult> {
    const key = DecisionCache.keyOf(tenant, input);
    const cached = this.cache.get(key);
    if (cached) return cached;
    let result: DecisionResult;
    try {
      result = await this.messaging.send(Decide, { tenant, ...input });
    } catch (error) {
      throw this.unavailable(error);
    }
    this.cache.remember(key, input, result);
    return result;
  }

  /** Up to 100 decisions in one round trip (`results[i]` answers `inputs[i]`); nothing cached. */
  async decideBatch(tenant: string, inputs: readonly DecisionInput[]): Promise<DecisionResult[]> {
    let results: DecisionResult[];
    try {
      results = (await this.messaging.send(DecideBatch, { tenant, decisions: [...inputs] })).results;
    } catch (error) {
      throw this.unavailable(error);
    }
    if (results.length !== inputs.length) throw this.unavailable(new Error(`decide-batch answered ${results.length} of ${inputs.length} decisions`));
    return results;
  }

  private unavailable(error: unknown): HttpFailure {
    this.logger.warn(`the policy decision point could not decide: ${(error as Error).message ?? String(error)}`);
    return new HttpFailure(503, 'unavailable', POLICY_UNAVAILABLE);
  }
}
