import { ContractClient } from '@latchkey/messaging';
import { Body, Controller, Inject, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import { CurrentPrincipal, TokenGuard } from '../auth/token-guard.js';
import { HttpFailure } from '../http/http-errors.js';
import { ApiRoute } from './api-route.js';
import { csvRows } from './bulk/csv-rows.js';
import { provisionRows } from './bulk/provision.js';
import { prefersCsv, reportCsv } from './bulk/report-csv.js';
import { jsonRows, type UploadRow } from './bulk/upload-rows.js';
import { mediaTypeOf } from './input.js';
import { OPERATIONS } from './operations.js';

/** `POST /t/{t}/admin/v1/devices/bulk`: JSON or CSV rows in, a per-row report out (JSON or CSV). */
@Controller('t/:tenant')
@UseGuards(TokenGuard)
export class BulkProvisioningController {
  constructor(@Inject(ContractClient) private readonly messaging: ContractClient) {}

  @ApiRoute(OPERATIONS.bulkProvision)
  async provision(@CurrentPrincipal() { tenant, actor }: Principal, @Req() request: FastifyRequest, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const report = await provisionRows(this.messaging, tenant, actor, rowsOf(request, body));
    if (!prefersCsv(request.headers.accept)) return report;
    reply.type('text/csv; charset=utf-8');
    return reportCsv(report);
  }
}

function rowsOf(request: FastifyRequest, body: unknown): UploadRow[] {
  const mediaType = mediaTypeOf(request);
  if (mediaType === 'text/csv' && typeof body === 'string') return csvRows(body);
  if (mediaType === 'application/json') return jsonRows(body);
  if (mediaType === undefined) throw new HttpFailure(400, 'invalid_request', 'a body is required: application/json or text/csv');
  throw new HttpFailure(415, 'invalid_request', 'the body must be application/json or text/csv');
}
