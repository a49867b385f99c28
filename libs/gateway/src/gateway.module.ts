import { MessagingModule } from '@latchkey/messaging';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BulkProvisioningController } from './admin/bulk.controller.js';
import { DeviceClaimApiController } from './admin/claim-api.controller.js';
import { DeviceSelfController } from './admin/device-self.controller.js';
import { DevicesAdminController } from './admin/devices.controller.js';
import { OpenApiController } from './admin/openapi.controller.js';
import { PolicyAdminController } from './admin/policy.controller.js';
import { SigningKeysAdminController } from './admin/signing-keys.controller.js';
import { TokenGuard } from './auth/token-guard.js';
import { AuthzenEvaluator } from './authzen/authzen-evaluator.js';
import { AuthzenController } from './authzen/authzen.controller.js';
import { AccountConsentsController } from './browser/account-consents.controller.js';
import { AccountController } from './browser/account.controller.js';
import { AuthorizeController } from './browser/authorize.controller.js';
import { ClaimController } from './browser/claim.controller.js';
import { DeviceController } from './browser/device.controller.js';
import { LogoutController } from './browser/logout.controller.js';
import { PageFlow } from './browser/page-flow.js';
import { PageSecurity } from './browser/page-security.js';
import { DelegationsController } from './delegations/delegations.controller.js';
import { DiscoveryController } from './discovery/discovery.controller.js';
import { GATEWAY_OPTIONS, type GatewayOptions } from './gateway.options.js';
import { HealthController } from './health/health.controller.js';
import { GatewayErrorFilter } from './http/error.filter.js';
import { TokenController } from './oauth/token.controller.js';
import { UserinfoController } from './oauth/userinfo.controller.js';
import { PolicyDecider } from './policy/policy-decider.js';
import { PolicySubjects } from './policy/policy-subjects.js';
import { RoutePolicyGate } from './policy/route-policy-gate.js';
import { DeviceCommandsController } from './resources/commands.controller.js';
import { GatewayTenants } from './tenants.js';

/** The HTTP edge: stateless, it owns no data and asks the services over NATS. */
@Module({})
export class GatewayModule {
  static forRoot(options: GatewayOptions): DynamicModule {
    return {
      module: GatewayModule,
      imports: [MessagingModule.forRoot(options.messaging)],
      controllers: [
        DiscoveryController,
        TokenController,
        UserinfoController,
        AuthorizeController,
        DeviceController,
        ClaimController,
        AccountController,
        AccountConsentsController,
        LogoutController,
        HealthController,
        DevicesAdminController,
        BulkProvisioningController,
        DeviceClaimApiController,
        DeviceSelfController,
        DelegationsController,
        DeviceCommandsController,
        AuthzenController,
        PolicyAdminController,
        SigningKeysAdminController,
        OpenApiController,
      ],
      providers: [
        { provide: GATEWAY_OPTIONS, useValue: options },
        GatewayTenants,
        PageSecurity,
        PageFlow,
        PolicyDecider,
        PolicySubjects,
        RoutePolicyGate,
        AuthzenEvaluator,
        TokenGuard,
        { provide: APP_FILTER, useClass: GatewayErrorFilter },
      ],
    };
  }
}
