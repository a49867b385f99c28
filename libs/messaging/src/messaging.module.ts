import { type DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ContractClient } from './contract-client.js';
import { createClientProxy, type TransportConfig } from './transport.js';

export interface MessagingOptions {
  transport: TransportConfig;
  requestTimeoutMs: number;
}

const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

@Injectable()
class ContractClientCloser implements OnApplicationShutdown {
  constructor(@Inject(ContractClient) private readonly client: ContractClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

/** Gives a service module a `ContractClient` on the configured transport. */
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
        ContractClientCloser,
      ],
      exports: [ContractClient],
    };
  }
}
