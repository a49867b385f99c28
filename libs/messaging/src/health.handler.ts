import type { HealthReply, RequestContract } from '@latchkey/contracts';
import { Controller, Inject, type Type } from '@nestjs/common';
import { Handles } from './handles.decorator.js';
import { SERVICE_HEALTH, type ServiceHealth } from './service-health.js';

/** A controller answering a service's `health` request with its `ServiceHealth`. */
export function healthHandlerFor(contract: RequestContract<string, RequestContract['request'], typeof HealthReply>): Type<unknown> {
  @Controller()
  class HealthHandler {
    constructor(@Inject(SERVICE_HEALTH) private readonly health: ServiceHealth) {}

    @Handles(contract)
    check() {
      return this.health.check();
    }
  }
  return HealthHandler;
}
