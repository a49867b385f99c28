import { readFileSync } from 'node:fs';
import { type Authenticator, credsAuthenticator, tokenAuthenticator } from '@nats-io/transport-node';
import type { ClientProxy, CustomTransportStrategy, MicroserviceOptions } from '@nestjs/microservices';
import { InProcessBroker, InProcessClient, InProcessServer } from './in-process-transport.js';
import { NatsRequestClient } from './nats-request-client.js';
import { NatsSubjectServer } from './nats-subject-server.js';

/** Where messages travel: a real NATS server, or the all-in-one process's in-memory broker. */
export type TransportConfig =
  | { kind: 'nats'; servers: string[]; name: string }
  | { kind: 'in-process'; broker: InProcessBroker };

/**
 * How every NATS connection of a service behaves: requests, its microservice, its event stream and any
 * other connection it opens spread these options. `authenticator` is set once at boot by
 * `useNatsCredentials` (one NATS identity per process); it is a function, so logging or serialising
 * the options never shows the secret.
 */
export const NATS_CONNECTION: {
  maxReconnectAttempts: number;
  reconnectTimeWait: number;
  waitOnFirstConnect: boolean;
  noAsyncTraces: boolean;
  authenticator?: Authenticator;
} = {
  // Keep trying for ever: a broker restart must heal by itself, without restarting services.
  maxReconnectAttempts: -1,
  reconnectTimeWait: 250,
  waitOnFirstConnect: true,
  // Async stack traces make nats.js build an Error per request up front: ~15% of the gateway's CPU.
  noAsyncTraces: true,
};

/** A service's NATS credentials (NATS_CREDS_FILE / NATS_TOKEN): at most one of them. */
export interface NatsCredentials {
  /** Path of a `.creds` file: the user JWT and nkey seed of NATS's decentralised authentication. */
  credsFile?: string;
  token?: string;
}

/**
 * The authenticator for the credentials, or undefined without any. The creds file is read now (a
 * missing or unreadable one fails the boot) and again at every (re)connection, so a file rotated in
 * place (a Kubernetes Secret volume) is used from the next reconnect on. Errors name the file, never
 * the secret.
 */
export function natsAuthenticator(credentials: NatsCredentials): Authenticator | undefined {
  const { credsFile, token } = credentials;
  if (credsFile && token) throw new Error('give NATS_CREDS_FILE or NATS_TOKEN, not both');
  if (credsFile) {
    const read = () => {
      try {
        return readFileSync(credsFile);
      } catch (error) {
        throw new Error(`cannot read the NATS credentials file ${credsFile}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
      }
    };
    const authenticator = credsAuthenticator(() => read());
    try {
      // Parses the file and signs a dummy nonce with its seed: a broken file fails the boot, not every connection.
      authenticator('boot-check');
    } catch (error) {
      if ((error as Error).message.startsWith('cannot read')) throw error;
      throw new Error(`the NATS credentials file ${credsFile} is not a .creds file with a user JWT and nkey seed`);
    }
    return authenticator;
  }
  if (token) return tokenAuthenticator(token);
  return undefined;
}

/** Makes every NATS connection this process opens from now on authenticate with these credentials. */
export function useNatsCredentials(credentials: NatsCredentials): void {
  const authenticator = natsAuthenticator(credentials);
  if (authenticator) NATS_CONNECTION.authenticator = authenticator;
  else delete NATS_CONNECTION.authenticator;
}

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
  // gracePeriod: the longest a stopping replica waits for its in-flight requests after draining its
  // subscriptions (NatsSubjectServer.drainRequests); it returns as soon as the last one is answered.
  const options = { servers: transport.servers, queue, name: transport.name, ...NATS_CONNECTION, gracefulShutdown: true, gracePeriod: 10_000 };
  return { strategy: new NatsSubjectServer(options as ConstructorParameters<typeof NatsSubjectServer>[0]) };
}

export { InProcessBroker };
