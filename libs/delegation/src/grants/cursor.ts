import { z } from 'zod';

/** Grants' keyset cursor key (encodeCursor / decodeCursor of @latchkey/contracts): (created_at, id), newest first. */
export const GrantCursorKey = z.tuple([z.iso.datetime(), z.uuid()]);
