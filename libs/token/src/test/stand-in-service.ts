// Test support (excluded from the library build): runs a stand-in for another service — a controller
// answering that service's contracts — in its queue group on the test cluster's NATS.
import { microserviceOptions, type TransportConfig } from '@latchkey/messaging';
import { type INestMicroservice, Module, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

/** Starts `controller` in the `queue` group (with `providers`, e.g. its scripted state); close it to stop answering. */
export async function startStandIn(transport: TransportConfig, queue: string, controller: Type, providers: Provider[]): Promise<INestMicroservice> {
  @Module({})
  class StandInModule {}
  const app = await NestFactory.createMicroservice({ module: StandInModule, controllers: [controller], providers }, { ...microserviceOptions(transport, queue), logger: false });
  await app.listen();
  return app;
}
