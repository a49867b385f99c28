import { ContractError, ErrorEnvelope, type EventContract, type PayloadOf, type ReplyOf, type RequestContract, type RequestOf } from '@latchkey/contracts';
import type { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { describeIssues } from './handles.decorator.js';
import { recordClientRequest } from './metrics.js';
import { inSpan, SpanKind, tracingEnabled } from './tracing.js';

export interface ContractClientOptions {
  /** How long a request may wait for its reply before the caller gets `unavailable`. */
  requestTimeoutMs: number;
}

/**
 * The typed way to call another service: `send(IssueToken, request)` validates the request and the
 * reply with the contract's schemas and turns every transport failure into a `ContractError`.
 */
export class ContractClient {
  constructor(
    private readonly proxy: ClientProxy,
    private readonly options: ContractClientOptions,
  ) {}

  /**
   * `timeoutMs` overrides the default for operations that are slow by design (a password hash) and
   * must not be cut short under load; an absent service still answers "no responders" at once.
   */
  send<C extends RequestContract>(contract: C, request: RequestOf<C>, options: { timeoutMs?: number } = {}): Promise<ReplyOf<C>> {
    if (!tracingEnabled()) return this.request(contract, request, options);
    // A CLIENT span per request, active while the transport publishes: its `traceparent` goes in the headers.
    return inSpan(contract.subject, SpanKind.CLIENT, { 'messaging.system': 'nats', 'messaging.destination.name': contract.subject }, () => this.request(contract, request, options));
  }

  private async request<C extends RequestContract>(contract: C, request: RequestOf<C>, options: { timeoutMs?: number }): Promise<ReplyOf<C>> {
    const parsed = contract.request.safeParse(request);
    // A request outside the contract (e.g. a parameter longer than any valid value) is the caller's
    // `invalid_request`, as it would be on the handler's side, not an unexpected failure.
    if (!parsed.success) throw new ContractError('invalid_request', describeIssues(parsed.error).slice(0, 300));
    const payload = parsed.data;
    let raw: unknown;
    try {
      raw = await firstValueFrom(this.proxy.send(contract.subject, payload).pipe(timeout(options.timeoutMs ?? this.options.requestTimeoutMs)));
    } catch (error) {
      const failure = toContractError(error, contract.subject);
      recordClientRequest(contract.subject, failure.code);
      throw failure;
    }
    const reply = contract.reply.safeParse(raw);
    if (!reply.success) {
      recordClientRequest(contract.subject, 'internal');
      throw new ContractError('internal', `malformed reply on ${contract.subject}`);
    }
    recordClientRequest(contract.subject, 'ok');
    return reply.data as ReplyOf<C>;
  }

  /** Fire-and-forget publication of a fact; the payload is validated before it leaves. */
  async emit<C extends EventContract>(contract: C, payload: PayloadOf<C>): Promise<void> {
    const data = contract.payload.parse(payload);
    await firstValueFrom(this.proxy.emit(contract.subject, data), { defaultValue: undefined });
  }

  async close(): Promise<void> {
    await this.proxy.close();
  }
}

/** What a remote failure, a timeout or "nobody listening" becomes for the caller. */
export function toContractError(error: unknown, subject: string): ContractError {
  if (error instanceof ContractError) return error;
  const envelope = ErrorEnvelope.safeParse(error);
  if (envelope.success) return ContractError.fromEnvelope(envelope.data);
  if (error instanceof TimeoutError || isNoResponders(error) || isConnectionFailure(error)) {
    return new ContractError('unavailable', `no timely reply on ${subject}`);
  }
  return new ContractError('internal', `request on ${subject} failed`);
}

function isNoResponders(error: unknown): boolean {
  const e = error as { code?: unknown; name?: unknown; message?: unknown } | null;
  return !!e && (e.code === '503' || e.name === 'NoRespondersError' || (typeof e.message === 'string' && /no responders/i.test(e.message)));
}

function isConnectionFailure(error: unknown): boolean {
  const e = error as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (!e) return false;
  const text = `${String(e.name ?? '')} ${String(e.message ?? '')} ${String(e.code ?? '')}`;
  return /CONNECTION_CLOSED|CONNECTION_DRAINING|DISCONNECT|ECONNREFUSED|closed|RequestError|TIMEOUT/i.test(text);
}
