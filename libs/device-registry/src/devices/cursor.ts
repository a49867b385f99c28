import { z } from 'zod';

/** Keyset cursor keys (encodeCursor / decodeCursor of @latchkey/contracts). Devices: (created_at, id), newest first. */
export const DeviceCursorKey = z.tuple([z.iso.datetime(), z.uuid()]);
/** Audit records: their sequence number, newest first. */
export const AuditCursorKey = z.tuple([z.string().regex(/^\d{1,19}$/)]);
