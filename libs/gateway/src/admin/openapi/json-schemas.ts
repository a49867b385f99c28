import { ActorClaim, AuditRecordView, BulkRowOutcome, ClaimCodeView, CredentialInput, CredentialView, DelegatedTokenEntry, DeviceView, GrantAuditRecord, GrantView, IssueDelegatedTokens } from '@latchkey/contracts';
import { z } from 'zod';
import { AuthzenAction, AuthzenContext, AuthzenResource, AuthzenSubject } from '../../authzen/schemas.js';

export type JsonSchema = Record<string, unknown>;

/** Where a named schema lives in the document. */
export const schemaRef = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/**
 * Schemas shared by several bodies or replies get a name of their own, so the document refers to them
 * instead of repeating them. Requests are described as the API accepts them (`io: input`: defaults
 * optional), replies as it sends them (`io: output`).
 */
const SHARED_REQUEST: ReadonlyArray<readonly [string, z.ZodType]> = [
  ['CredentialInput', CredentialInput],
  ['AuthzenSubject', AuthzenSubject],
  ['AuthzenAction', AuthzenAction],
  ['AuthzenResource', AuthzenResource],
  ['AuthzenContext', AuthzenContext],
];
const SHARED_REPLY: ReadonlyArray<readonly [string, z.ZodType]> = [
  ['Device', DeviceView],
  ['Credential', CredentialView],
  ['ClaimCode', ClaimCodeView],
  ['AuditRecord', AuditRecordView],
  ['BulkRowOutcome', BulkRowOutcome],
  ['Grant', GrantView],
  ['GrantAuditRecord', GrantAuditRecord],
  ['DelegatedToken', DelegatedTokenEntry],
  // RFC 8693 `act`: recursive (prior actors nested), so it needs a name to refer to itself.
  ['ActorClaim', ActorClaim],
  // Not the reply of a route here: userinfo's `delegations` claim, described in the document's info.
  ['DelegationsClaim', IssueDelegatedTokens.reply.shape.delegations],
];

const UNREPRESENTABLE: JsonSchema = { description: 'This value cannot be described as JSON Schema; see the operation description.' };

/** `$schema` and `$id` belong to stand-alone documents, not to `components.schemas` entries. */
function asComponent(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function convert(named: ReadonlyMap<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [name, schema] of named) registry.add(schema, { id: name });
  const options = { io, target: 'draft-2020-12', unrepresentable: 'any', uri: (id: string) => schemaRef(id).$ref as string } as const;
  try {
    const { schemas } = z.toJSONSchema(registry, options);
    return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, asComponent(schema as JsonSchema)]));
  } catch {
    // One schema zod cannot convert at all must not take the whole document down: convert one by one.
    return Object.fromEntries(
      [...named].map(([name, schema]) => {
        try {
          return [name, asComponent(z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema)];
        } catch {
          return [name, UNREPRESENTABLE];
        }
      }),
    );
  }
}

/**
 * `components.schemas` for the given request and reply schemas (by name). A name stands for one shape:
 * a second schema under a name already taken is the same reply (e.g. `{ device }`) and is not added.
 */
export function componentSchemas(requests: ReadonlyMap<string, z.ZodType>, replies: ReadonlyMap<string, z.ZodType>): Record<string, JsonSchema> {
  const withShared = (named: ReadonlyMap<string, z.ZodType>, shared: ReadonlyArray<readonly [string, z.ZodType]>) => {
    const all = new Map(named);
    const used = new Set(all.values());
    for (const [name, schema] of shared) if (!all.has(name) && !used.has(schema)) all.set(name, schema);
    return all;
  };
  const input = convert(withShared(requests, SHARED_REQUEST), 'input');
  const output = convert(withShared(replies, SHARED_REPLY), 'output');
  const clash = Object.keys(input).find((name) => Object.hasOwn(output, name));
  if (clash) throw new Error(`OpenAPI: the schema name ${clash} is used for a request and a reply`);
  return { ...input, ...output };
}
