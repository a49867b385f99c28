import { type Algorithm, hash, verify } from '@node-rs/argon2';

// `Algorithm` is an ambient const enum, which isolated-module compilers cannot inline: Argon2id is 2.
const ARGON2ID = 2 as Algorithm;

export interface PasswordHashingParameters {
  /** KiB of memory per hash. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): ~20 ms a hash on this class of machine. */
export const DEFAULT_PASSWORD_HASHING: PasswordHashingParameters = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** argon2id password hashes in PHC format; the parameters travel inside each hash. */
export class PasswordHasher {
  constructor(private readonly parameters: PasswordHashingParameters = DEFAULT_PASSWORD_HASHING) {}

  hash(password: string): Promise<string> {
    return hash(password, { algorithm: ARGON2ID, ...this.parameters });
  }

  async verify(phc: string, password: string): Promise<boolean> {
    try {
      return await verify(phc, password);
    } catch {
      return false;
    }
  }
}
