import { MessagingModule } from '@latchkey/messaging';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountController } from './browser/account.controller.js';
import { AuthorizeController } from './browser/authorize.controller.js';
import { DeviceController } from './browser/device.controller.js';
import { LogoutController } from './browser/logout.controller.js';
import { PageFlow } from './browser/page-flow.js';
import { PageSecurity } from './browser/page-security.js';
import { DiscoveryController } from './discovery/discovery.controller.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from './gateway.options.js';
import { HealthController } from './health/health.controller.js';
import { GatewayErrorFilter } from './http/error.filter.js';
import { TokenController } from './oauth/token.controller.js';
import { UserinfoController } from './oauth/userinfo.controller.js';
import { GatewayTenants } from './tenants.js';

/** The HTTP edge: stateless, it owns no data and asks the services over NATS. */
@Module({})
export class GatewayModule {
  static forRoot(options: GatewayOptions): DynamicModule {
    return {
      module: GatewayModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [DiscoveryController, TokenController, UserinfoController, AuthorizeController, DeviceController, AccountController, LogoutController, HealthController],
      providers: [{ provide: GATEWAY_OPTIONS, useValue: options }, GatewayTenants, PageSecurity, PageFlow, { provide: APP_FILTER, useClass: GatewayErrorFilter }],
    };
  }
}
