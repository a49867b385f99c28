import { describe, expect, it } from '@jest/globals';
import { ContractError, defineRequest } from '@latchkey/contracts';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { z } from 'zod';
import { ContractClient } from './contract-client.js';
import { Handles } from './handles.decorator.js';
import { InProcessBroker, InProcessClient, InProcessServer } from './in-process-transport.js';

const Echo = defineRequest({
  subject: 'latchkey.test.v1.echo',
  request: z.object({ tenant: z.string(), at: z.iso.datetime(), fail: z.enum(['no', 'contract', 'bug']).default('no') }),
  reply: z.object({ tenant: z.string(), at: z.string(), handledBy: z.string() }),
});
const Unhandled = defineRequest({ subject: 'latchkey.test.v1.nobody', request: z.object({}), reply: z.object({}) });

@Controller()
class EchoHandler {
  @Handles(Echo)
  echo(request: z.output<typeof Echo.request>) {
    if (request.fail === 'contract') throw new ContractError('invalid_scope', 'nope', { scope: 'x' });
    if (request.fail === 'bug') throw new Error('SELECT * FROM secrets failed at /srv/app.js:1');
    return { tenant: request.tenant, at: request.at, handledBy: 'echo' };
  }
}

@Module({ controllers: [EchoHandler] })
class EchoModule {}

async function start() {
  const broker = new InProcessBroker();
  const service = await NestFactory.createMicroservice(EchoModule, { strategy: new InProcessServer(broker), logger: false });
  await service.listen();
  return { service, client: new ContractClient(new InProcessClient(broker), { requestTimeoutMs: 500 }) };
}

describe('in-process transport with contract validation', () => {
  it('delivers a validated request and reply through a JSON round trip', async () => {
    const { service, client } = await start();
    const at = new Date().toISOString();
    await expect(client.send(Echo, { tenant: 'demo', at })).resolves.toEqual({ tenant: 'demo', at, handledBy: 'echo' });
    await service.close();
  });

  it('case=should refuse to send a request that breaks the contract', async () => {
    const { service, client } = await start();
    await expect(client.send(Echo, { tenant: 'demo', at: 'yesterday' } as never)).rejects.toThrow();
    await service.close();
  });

  it('carries a domain error as its typed envelope', async () => {
    const { service, client } = await start();
    await expect(client.send(Echo, { tenant: 'demo', at: new Date().toISOString(), fail: 'contract' })).rejects.toMatchObject({
      code: 'invalid_scope',
      message: 'nope',
      details: { scope: 'x' },
    });
    await service.close();
  });

  it('hides an unexpected failure behind `internal` (no SQL, no stack)', async () => {
    const { service, client } = await start();
    const error = (await client.send(Echo, { tenant: 'demo', at: new Date().toISOString(), fail: 'bug' }).catch((e: unknown) => e)) as ContractError;
    expect(error).toBeInstanceOf(ContractError);
    expect(error.code).toBe('internal');
    expect(JSON.stringify(error.toEnvelope())).not.toMatch(/SELECT|app\.js/);
    await service.close();
  });

  it('answers `unavailable` at once when nobody handles the subject', async () => {
    const { service, client } = await start();
    const started = Date.now();
    await expect(client.send(Unhandled, {})).rejects.toMatchObject({ code: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(400);
    await service.close();
  });
});
