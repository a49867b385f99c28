import { DecideDeviceCode, DeviceAuthorization, LookupUserCode, type ParsedRequestOf } from '@latchkey/contracts';
import { Handles } from '@latchkey/messaging';
import { Controller, Inject } from '@nestjs/common';
import { DeviceFlow } from './device-flow.js';

/** NATS adapter of the RFC 8628 device authorization endpoint and the device-verification page. */
@Controller()
export class DeviceHandler {
  constructor(@Inject(DeviceFlow) private readonly flow: DeviceFlow) {}

  @Handles(DeviceAuthorization)
  authorize(request: ParsedRequestOf<typeof DeviceAuthorization>) {
    return this.flow.authorize(request);
  }

  @Handles(LookupUserCode)
  lookup(request: ParsedRequestOf<typeof LookupUserCode>) {
    return this.flow.lookup(request);
  }

  @Handles(DecideDeviceCode)
  decide(request: ParsedRequestOf<typeof DecideDeviceCode>) {
    return this.flow.decide(request);
  }
}
