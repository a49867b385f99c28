import { type DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ContractClient } from './contract-client.js';
import { EventStream } from './event-stream.js';
import { InProcessEventStream } from './in-process-event-stream.js';
import { JetStreamEventStream } from './jetstream-event-stream.js';
import { createClientProxy, type TransportConfig } from './transport.js';

export interface MessagingOptions {
  transport: TransportConfig;
  requestTimeoutMs: number;
}

const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

/**
 * The event stream on a transport: JetStream on NATS (connected on first use), or the in-memory stream
 * that every module built on the same in-process broker shares.
 */
export function createEventStream(transport: TransportConfig): EventStream {
  if (transport.kind === 'in-process') return new InProcessEventStream(transport.broker);
  return new JetStreamEventStream({ servers: transport.servers, name: `${transport.name}-events` });
}

@Injectable()
class MessagingCloser implements OnApplicationShutdown {
  constructor(
    @Inject(ContractClient) private readonly client: ContractClient,
    @Inject(EventStream) private readonly events: EventStream,
  ) {}

  // onApplicationShutdown runs after every beforeApplicationShutdown hook: an outbox relay stopped there
  // has finished its last publication before the stream closes.
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.client.close(), this.events.close()]);
  }
}

/** Gives a service module a `ContractClient` and an `EventStream` on the configured transport. */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        {
          provide: ContractClient,
          inject: [MESSAGING_OPTIONS],
          useFactory: (o: MessagingOptions) => new ContractClient(createClientProxy(o.transport, o.requestTimeoutMs), { requestTimeoutMs: o.requestTimeoutMs }),
        },
        { provide: EventStream, inject: [MESSAGING_OPTIONS], useFactory: (o: MessagingOptions) => createEventStream(o.transport) },
        MessagingCloser,
      ],
      exports: [ContractClient, EventStream],
    };
  }
}
