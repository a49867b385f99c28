import { Controller, Inject, Param } from '@nestjs/common';
import { GatewayTenants } from '../tenants.js';
import { ApiRoute } from './api-route.js';
import { OPERATIONS } from './operations.js';
import { openApiDocument } from './openapi/document.js';
import type { JsonSchema } from './openapi/json-schemas.js';

/** `GET /t/{t}/admin/v1/openapi.json`: public (it describes, it reveals no data); built once per tenant. */
@Controller('t/:tenant')
export class OpenApiController {
  private readonly documents = new Map<string, JsonSchema>();

  constructor(@Inject(GatewayTenants) private readonly tenants: GatewayTenants) {}

  @ApiRoute(OPERATIONS.openApi)
  document(@Param('tenant') tenant: string): JsonSchema {
    const issuer = this.tenants.issuer(tenant);
    let document = this.documents.get(tenant);
    if (!document) {
      document = openApiDocument({ issuer, tenantName: this.tenants.displayName(tenant) });
      this.documents.set(tenant, document);
    }
    return document;
  }
}
