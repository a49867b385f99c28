import { GetDeviceAudit, ListDevices, type ParsedRequestOf } from '@latchkey/contracts';
import type { z } from 'zod';
import { inputFailure, type InputIssue } from '../http/http-errors.js';
import { summarize } from './input.js';
import { ATTRIBUTE_NAME, attributeValue } from './values.js';

const ATTRIBUTE_PREFIX = 'attr.';
const MAX_ATTRIBUTE_FILTERS = 50;

/** The query parameters of `GET /devices` and the `ListDevices` fields they become. */
const LIST_PARAMETERS: Readonly<Record<string, 'status' | 'type' | 'ownerId' | 'limit' | 'cursor'>> = { status: 'status', type: 'type', owner: 'ownerId', limit: 'limit', cursor: 'cursor' };
const PAGE_PARAMETERS: Readonly<Record<string, 'limit' | 'cursor'>> = { limit: 'limit', cursor: 'cursor' };

/** `limit` is a whole number; its range is the contract's (1–500). Anything else stays a string for zod to refuse. */
function limitOf(text: string): number | string {
  return /^\d{1,6}$/.test(text) ? Number(text) : text;
}

type Fields = Record<string, unknown>;

/**
 * Reads the parameters a page query knows (and `attr.<name>` filters where `attributeFilters`);
 * unknown or repeated ones are issues, not silently ignored.
 */
function readQuery(entries: ReadonlyArray<readonly [string, string]>, known: Readonly<Record<string, string>>, issues: InputIssue[], attributeFilters = false): { fields: Fields; attributes: Record<string, string | number | boolean> } {
  const fields: Fields = {};
  const attributes: Record<string, string | number | boolean> = {};
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    if (seen.has(name)) {
      issues.push({ parameter: name, detail: 'given more than once' });
      continue;
    }
    seen.add(name);
    const field = Object.hasOwn(known, name) ? known[name] : undefined;
    if (field !== undefined) {
      fields[field] = field === 'limit' ? limitOf(value) : value;
    } else if (attributeFilters && name.startsWith(ATTRIBUTE_PREFIX)) {
      const attribute = name.slice(ATTRIBUTE_PREFIX.length);
      if (!ATTRIBUTE_NAME.test(attribute)) issues.push({ parameter: name, detail: 'attribute names use A-Z a-z 0-9 _ . : - (at most 100)' });
      else attributes[attribute] = attributeValue(value);
    } else {
      issues.push({ parameter: name, detail: 'unknown query parameter' });
    }
  }
  if (Object.keys(attributes).length > MAX_ATTRIBUTE_FILTERS) issues.push({ parameter: ATTRIBUTE_PREFIX, detail: `at most ${MAX_ATTRIBUTE_FILTERS} attribute filters` });
  return { fields, attributes };
}

/** zod paths of the contract's request back to the query parameters they came from. */
function parameterOf(path: readonly PropertyKey[], known: Readonly<Record<string, string>>): string {
  const [field, attribute] = path;
  if (field === 'attributes') return `${ATTRIBUTE_PREFIX}${String(attribute ?? '')}`;
  return Object.entries(known).find(([, target]) => target === field)?.[0] ?? String(field ?? 'query');
}

function validated<S extends z.ZodType>(schema: S, request: Fields, issues: InputIssue[], known: Readonly<Record<string, string>>): z.output<S> {
  const parsed = schema.safeParse(request);
  if (parsed.success && !issues.length) return parsed.data;
  if (!parsed.success) issues.push(...parsed.error.issues.map((issue) => ({ parameter: parameterOf(issue.path, known), detail: issue.message })));
  throw inputFailure(400, summarize(issues, 'the query'), issues);
}

/**
 * `GET /devices?status=&type=&owner=&attr.<name>=&limit=&cursor=` → the `ListDevices` request.
 * `owner` is a user id or `none` (unowned devices), as the contract takes it. Every parameter may be
 * given once; an unknown one is refused (a typo must not silently widen a filter).
 */
export function listDevicesRequest(tenant: string, entries: ReadonlyArray<readonly [string, string]>): ParsedRequestOf<typeof ListDevices> {
  const issues: InputIssue[] = [];
  const { fields, attributes } = readQuery(entries, LIST_PARAMETERS, issues, true);
  const request: Fields = { tenant, ...fields, ...(Object.keys(attributes).length ? { attributes } : {}) };
  return validated(ListDevices.request, request, issues, LIST_PARAMETERS);
}

/**
 * A query of known parameters (each at most once; unknown ones refused) merged into `base` and
 * validated with the contract's request schema: the parameters' names map to the request's fields.
 */
export function queryRequest<S extends z.ZodType>(schema: S, base: Fields, entries: ReadonlyArray<readonly [string, string]>, known: Readonly<Record<string, string>>): z.output<S> {
  const issues: InputIssue[] = [];
  const { fields } = readQuery(entries, known, issues);
  return validated(schema, { ...base, ...fields }, issues, known);
}

/** `GET /devices/{id}/audit?limit=&cursor=` → the `GetDeviceAudit` request. */
export function auditRequest(tenant: string, deviceId: string, entries: ReadonlyArray<readonly [string, string]>): ParsedRequestOf<typeof GetDeviceAudit> {
  const issues: InputIssue[] = [];
  const { fields } = readQuery(entries, PAGE_PARAMETERS, issues);
  return validated(GetDeviceAudit.request, { tenant, deviceId, ...fields }, issues, PAGE_PARAMETERS);
}

/**
 * RFC 8288 `Link: <…>; rel="next"`: the same query with the next page's cursor, or undefined on the
 * last page. `base` is the absolute URL of the collection.
 */
export function nextLink(base: string, entries: ReadonlyArray<readonly [string, string]>, nextCursor: string | null): string | undefined {
  if (!nextCursor) return undefined;
  const query = new URLSearchParams(entries.filter(([name]) => name !== 'cursor') as Array<[string, string]>);
  query.set('cursor', nextCursor);
  return `<${base}?${query}>; rel="next"`;
}
