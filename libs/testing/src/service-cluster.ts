import { ContractClient, createClientProxy, type MessagingOptions, microserviceOptions, type TransportConfig } from '@latchkey/messaging';
import type { DynamicModule, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createTestDatabase, startTestNats, type TestDatabase } from './test-infrastructure.js';

export interface ServiceClusterOptions {
  /** The queue group, as the service's boot shell names it. */
  queue: string;
  /** Replicas started at once (they share the database and the queue group). */
  replicas: number;
  requestTimeoutMs?: number;
  /** The service module of one replica, given the cluster's database and messaging. */
  module: (context: { databaseUrl: string; messaging: MessagingOptions }) => DynamicModule;
}

export interface ServiceCluster {
  database: TestDatabase;
  natsUrl: string;
  transport: TransportConfig;
  /** A caller on the cluster's NATS, as another service would be. */
  client: ContractClient;
  replicas: INestMicroservice[];
  /** Starts one more replica (e.g. to join a running cluster). */
  addReplica(): Promise<INestMicroservice>;
  stop(): Promise<void>;
}

/**
 * Replicas of one service over a fresh migrated database and a nats-server of their own: the
 * integration-test setup every service shares.
 */
export async function startServiceCluster(options: ServiceClusterOptions): Promise<ServiceCluster> {
  const database = await createTestDatabase();
  const nats = await startTestNats();
  const transport: TransportConfig = { kind: 'nats', servers: [nats.url], name: `${options.queue}-int` };
  const requestTimeoutMs = options.requestTimeoutMs ?? 2000;
  const messaging: MessagingOptions = { transport, requestTimeoutMs };
  const replicas: INestMicroservice[] = [];
  const addReplica = async () => {
    const module = options.module({ databaseUrl: database.url, messaging });
    const replica = await NestFactory.createMicroservice(module, { ...microserviceOptions(transport, options.queue), logger: false });
    await replica.listen();
    replicas.push(replica);
    return replica;
  };
  await Promise.all(Array.from({ length: options.replicas }, () => addReplica()));
  const client = new ContractClient(createClientProxy(transport, requestTimeoutMs), { requestTimeoutMs });
  return {
    database,
    natsUrl: nats.url,
    transport,
    client,
    replicas,
    addReplica,
    async stop() {
      await client.close();
      await Promise.all(replicas.splice(0).map((replica) => replica.close()));
      await database.drop();
      await nats.stop();
    },
  };
}
