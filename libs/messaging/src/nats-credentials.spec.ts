import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createUser, fromPublic } from '@nats-io/nkeys';
import { NATS_CONNECTION, natsAuthenticator, useNatsCredentials } from './transport.js';

const dirs: string[] = [];
afterEach(() => {
  useNatsCredentials({});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A `.creds` file as nsc writes it: a (here unsigned, never checked client-side) user JWT and the user's nkey seed. */
function credsFile(seed: Uint8Array, jwt = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJVQUJDIn0.c2ln'): string {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-creds-'));
  dirs.push(dir);
  const path = join(dir, 'nats.creds');
  writeFileSync(
    path,
    `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
      '************************* IMPORTANT *************************\nNKEY Seed printed below can be used to sign and prove identity.\n\n' +
      `-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(seed)}\n------END USER NKEY SEED------\n`,
  );
  return path;
}

describe('NATS credentials (NATS_CREDS_FILE / NATS_TOKEN)', () => {
  it('case=should connect without authentication when neither is given', () => {
    expect(natsAuthenticator({})).toBeUndefined();
    useNatsCredentials({});
    expect(NATS_CONNECTION.authenticator).toBeUndefined();
  });

  it('case=should answer the server with the token', () => {
    const authenticator = natsAuthenticator({ token: 's3cret-token' });
    expect(authenticator?.('nonce')).toEqual({ auth_token: 's3cret-token' });
  });

  it('case=should sign the server nonce with the seed of the creds file and send its JWT', () => {
    const user = createUser();
    const path = credsFile(user.getSeed(), 'header.payload.signature');
    const auth = natsAuthenticator({ credsFile: path })?.('a-server-nonce') as { jwt: string; nkey: string; sig: string };
    expect(auth.jwt).toBe('header.payload.signature');
    expect(auth.nkey).toBe(user.getPublicKey());
    expect(fromPublic(auth.nkey).verify(new TextEncoder().encode('a-server-nonce'), Buffer.from(auth.sig, 'base64url'))).toBe(true);
  });

  it('case=should read the creds file again at each connection (a rotated Secret is picked up)', () => {
    const first = createUser();
    const path = credsFile(first.getSeed());
    const authenticator = natsAuthenticator({ credsFile: path });
    const second = createUser();
    writeFileSync(path, `-----BEGIN NATS USER JWT-----\nrotated.jwt.value\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(second.getSeed())}\n------END USER NKEY SEED------\n`);
    expect(authenticator?.('n')).toMatchObject({ jwt: 'rotated.jwt.value', nkey: second.getPublicKey() });
  });

  it('case=should refuse both at once, a missing file and a file that is no creds file, naming the file only', () => {
    expect(() => natsAuthenticator({ credsFile: '/x', token: 't' })).toThrow(/NATS_CREDS_FILE or NATS_TOKEN, not both/);
    expect(() => natsAuthenticator({ credsFile: '/nonexistent/nats.creds' })).toThrow('cannot read the NATS credentials file /nonexistent/nats.creds: ENOENT');
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-creds-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'bad.creds'), 'SUAM-not-a-creds-file');
    expect(() => natsAuthenticator({ credsFile: join(dir, 'bad.creds') })).toThrow(`the NATS credentials file ${join(dir, 'bad.creds')} is not a .creds file`);
  });

  it('case=should give every connection the authenticator without the secret showing in the options', () => {
    const user = createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    useNatsCredentials({ credsFile: credsFile(user.getSeed()) });
    const options = { servers: ['nats://127.0.0.1:4222'], ...NATS_CONNECTION };
    expect(typeof options.authenticator).toBe('function');
    expect(JSON.stringify(options)).not.toContain(seed);
    expect(inspect(options, { depth: 5 })).not.toContain(seed);

    useNatsCredentials({ token: 'another-s3cret' });
    const withToken = { ...NATS_CONNECTION };
    expect(JSON.stringify(withToken)).not.toContain('another-s3cret');
    expect(inspect(withToken, { depth: 5 })).not.toContain('another-s3cret');
    expect(withToken.authenticator?.()).toEqual({ auth_token: 'another-s3cret' });
  });
});
