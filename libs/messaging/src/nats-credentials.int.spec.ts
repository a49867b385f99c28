import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from '@nats-io/transport-node';
import { localInfra } from './event-test-kit.test.js';
import { JetStreamEventStream } from './jetstream-event-stream.js';
import { NATS_CONNECTION, useNatsCredentials } from './transport.js';

const TOKEN = 'int-test-token-4b1d';
let server: ChildProcess;
let url: string;

beforeAll(async () => {
  const infra = await localInfra();
  const binary = infra.findNatsServer();
  if (!binary) throw new Error('nats-server not found (tools/infra/ensure-tools.mjs installs it)');
  const port = await infra.freePort();
  url = `nats://127.0.0.1:${port}`;
  server = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '--auth', TOKEN], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const probe = await connect({ servers: url, token: TOKEN, reconnect: false }).catch(() => undefined);
    if (probe) {
      await probe.close();
      break;
    }
    if (Date.now() > deadline) throw new Error('nats-server with --auth did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(async () => {
  useNatsCredentials({});
  server?.kill('SIGTERM');
});

describe('a NATS server that requires a token', () => {
  it('case=should refuse a connection without credentials', async () => {
    useNatsCredentials({});
    await expect(connect({ servers: url, ...NATS_CONNECTION, waitOnFirstConnect: false, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization Violation/i);
  });

  it('case=should accept every connection the service opens once NATS_TOKEN is configured (plain and JetStream)', async () => {
    useNatsCredentials({ token: TOKEN });
    const nc = await connect({ servers: url, ...NATS_CONNECTION });
    await nc.flush();
    await nc.close();
    const events = new JetStreamEventStream({ servers: [url], name: 'creds-int-events', publishTimeoutMs: 5000 });
    try {
      await events.publishRaw('latchkey.events.test.creds', { ok: true }, { messageId: 'creds-int-1' });
    } finally {
      await events.close();
    }
  });
});
