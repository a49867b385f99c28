import type { ClientProxy, CustomTransportStrategy, MicroserviceOptions } from '@nestjs/microservices';
import { InProcessBroker, InProcessClient, InProcessServer } from './in-process-transport.js';
import { NatsRequestClient } from './nats-request-client.js';
import { NatsSubjectServer } from './nats-subject-server.js';

/** Where messages travel: a real NATS server, or the all-in-one process's in-memory broker. */
export type TransportConfig =
  | { kind: 'nats'; servers: string[]; name: string }
  | { kind: 'in-process'; broker: InProcessBroker };

/** How every NATS connection of a service behaves: requests, its microservice and its event stream alike. */
export const NATS_CONNECTION = {
  // Keep trying for ever: a broker restart must heal by itself, without restarting services.
  maxReconnectAttempts: -1,
  reconnectTimeWait: 250,
  waitOnFirstConnect: true,
  // Async stack traces make nats.js build an Error per request up front: ~15% of the gateway's CPU.
  noAsyncTraces: true,
};

/** NATS's own bound on a request; each call's deadline is set by ContractClient (its timeout option). */
const NATS_REQUEST_CEILING_MS = 30_000;

export function createClientProxy(transport: TransportConfig, requestTimeoutMs: number): ClientProxy {
  if (transport.kind === 'in-process') return new InProcessClient(transport.broker);
  const ceiling = Math.max(requestTimeoutMs, NATS_REQUEST_CEILING_MS);
  return new NatsRequestClient({ servers: transport.servers, name: `${transport.name}-client`, ...NATS_CONNECTION }, ceiling) as unknown as ClientProxy;
}

/** The options a service boots its microservice with; `queue` makes replicas share the work. */
export function microserviceOptions(transport: TransportConfig, queue: string): MicroserviceOptions {
  if (transport.kind === 'in-process') return { strategy: new InProcessServer(transport.broker) } satisfies { strategy: CustomTransportStrategy };
  const options = { servers: transport.servers, queue, name: transport.name, ...NATS_CONNECTION, gracefulShutdown: true, gracePeriod: 2000 };
  return { strategy: new NatsSubjectServer(options as ConstructorParameters<typeof NatsSubjectServer>[0]) };
}

export { InProcessBroker };
