import { createHash } from 'node:crypto';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { DATA_ERRORS_ENTRYPOINT, DECISION_ENTRYPOINT, PolicyValidationError, readBundleArchive } from '../bundles/bundle-archive.js';
import { HOST_BUILTINS } from './host-builtins.js';

/**
 * Built-ins the Wasm SDK (1.10.0) implements in JavaScript (its src/builtins); everything else a policy
 * may call is compiled into the Wasm itself, or is one of HOST_BUILTINS.
 */
export const SDK_BUILTINS = ['json.is_valid', 'sprintf', 'regex.split', 'yaml.is_valid', 'yaml.marshal', 'yaml.unmarshal'] as const;

const SUPPORTED_BUILTINS = new Set<string>([...SDK_BUILTINS, ...Object.keys(HOST_BUILTINS)]);

/** What an OPA Wasm module (ABI 1.x) exports and the SDK relies on. */
const REQUIRED_EXPORTS = ['memory', 'opa_eval', 'eval', 'entrypoints', 'builtins', 'opa_json_dump', 'opa_json_parse', 'opa_malloc', 'opa_heap_ptr_get', 'opa_heap_ptr_set', 'opa_wasm_abi_version'];

/** An opaque compiled module (the project's `lib` has no WebAssembly types: the slice used here). */
export type WasmModule = object;

const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule>; Module: { exports(module: WasmModule): { name: string }[] } } })
  .WebAssembly;

/** 64 KiB pages: a policy may use up to 64 MiB (its data plus one evaluation's heap). */
const MEMORY = { initial: 5, maximum: 1024 };

/** The decision document the entrypoint must produce. */
export interface PolicyOutput {
  allow: boolean;
  reasons: string[];
  /** > 0: an allow may be reused that long. */
  ttlSeconds?: number;
  obligations?: Record<string, unknown>;
}

/** The evaluation failed or produced no usable decision: the decision point denies, saying why. */
export class PolicyEvaluationError extends Error {
  override readonly name = 'PolicyEvaluationError';
}

/**
 * A compiled bundle: the Wasm compiled once (per digest), instantiated once per tenant that runs it,
 * since each instance holds one tenant's data.
 */
export class CompiledBundle {
  private constructor(
    readonly digest: string,
    readonly archive: Uint8Array,
    readonly module: WasmModule,
    /** The bundle's own data.json. */
    readonly data: Record<string, unknown>,
  ) {}

  /** Reads, compiles and checks a bundle: OPA ABI 1, the decision entrypoint, only supported built-ins. */
  static async compile(archive: Uint8Array): Promise<CompiledBundle> {
    const { wasm, data } = readBundleArchive(archive);
    let module: WasmModule;
    try {
      module = await wasmApi.compile(wasm);
    } catch (error) {
      throw new PolicyValidationError(`the bundle's policy.wasm is not valid WebAssembly: ${describeThrown(error)}`);
    }
    const exported = new Set(wasmApi.Module.exports(module).map((e) => e.name));
    const missing = REQUIRED_EXPORTS.filter((name) => !exported.has(name));
    if (missing.length) throw new PolicyValidationError(`the bundle's policy.wasm is not an OPA policy (it lacks ${missing.slice(0, 4).join(', ')})`);
    const bundle = new CompiledBundle(createHash('sha256').update(archive).digest('hex'), archive, module, data);
    // Instantiating once checks the ABI, the entrypoint and the built-ins before anyone relies on it.
    await bundle.instantiate();
    return bundle;
  }

  /** A fresh instance with `data` loaded (none: `{}`). */
  async instantiate(data?: Record<string, unknown>): Promise<PolicyInstance> {
    let loaded: LoadedPolicy;
    try {
      loaded = await loadPolicy(this.module, { ...MEMORY }, HOST_BUILTINS);
    } catch (error) {
      throw new PolicyValidationError(`the bundle's policy.wasm cannot be loaded: ${describeThrown(error)}`);
    }
    const entrypoints = loaded.entrypoints as Record<string, number>;
    const entrypoint = entrypoints[DECISION_ENTRYPOINT];
    if (typeof entrypoint !== 'number') {
      throw new PolicyValidationError(`the bundle's policy.wasm has no entrypoint ${DECISION_ENTRYPOINT} (it has: ${Object.keys(entrypoints).join(', ').slice(0, 200) || 'none'})`);
    }
    const unsupported = requiredBuiltins(loaded).filter((name) => !SUPPORTED_BUILTINS.has(name));
    if (unsupported.length) {
      throw new PolicyValidationError(`the policy uses built-in functions the policy service cannot run: ${unsupported.join(', ').slice(0, 300)}`);
    }
    const instance = new PolicyInstance(loaded, entrypoint, entrypoints[DATA_ERRORS_ENTRYPOINT]);
    if (data) instance.setData(data);
    return instance;
  }
}

/**
 * One instance of a compiled policy with one tenant's data. Evaluation is synchronous and Node runs one
 * at a time, so one instance serves every decision of its tenant: no pool is needed in a process.
 */
export class PolicyInstance {
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly loaded: LoadedPolicy,
    private readonly entrypoint: number,
    private readonly dataErrorsEntrypoint?: number,
  ) {}

  /** Replaces the data document (the Wasm is not re-instantiated). */
  setData(data: Record<string, unknown>): void {
    try {
      this.loaded.setData(data);
    } catch (error) {
      throw new PolicyValidationError(`the policy data cannot be loaded: ${describeThrown(error)}`);
    }
  }

  /** What the policy finds wrong with its data (DATA_ERRORS_ENTRYPOINT; none when the policy has no such check). */
  dataErrors(): string[] {
    if (this.dataErrorsEntrypoint === undefined) return [];
    let resultSet: unknown;
    try {
      resultSet = this.loaded.evaluate({}, this.dataErrorsEntrypoint);
    } catch (error) {
      throw new PolicyValidationError(`the policy's data check failed: ${describeThrown(error)}`);
    }
    const errors = Array.isArray(resultSet) ? (resultSet[0] as { result?: unknown } | undefined)?.result : undefined;
    if (errors === undefined) return [];
    if (!Array.isArray(errors)) throw new PolicyValidationError(`${DATA_ERRORS_ENTRYPOINT} is not a set of messages`);
    return errors.map(String);
  }

  /** `input` as JSON text (the caller has it already, for the digest). Throws PolicyEvaluationError. */
  evaluate(inputJson: string): PolicyOutput {
    let resultSet: unknown;
    try {
      resultSet = this.loaded.evaluate(this.encoder.encode(inputJson).buffer, this.entrypoint);
    } catch (error) {
      throw new PolicyEvaluationError(`evaluation failed: ${describeThrown(error)}`);
    }
    return outputOf(resultSet);
  }
}

function outputOf(resultSet: unknown): PolicyOutput {
  if (!Array.isArray(resultSet) || resultSet.length === 0) throw new PolicyEvaluationError(`${DECISION_ENTRYPOINT} is undefined for this input`);
  if (resultSet.length > 1) throw new PolicyEvaluationError(`${DECISION_ENTRYPOINT} has conflicting values for this input`);
  const result = (resultSet[0] as { result?: unknown }).result as Record<string, unknown> | undefined;
  if (typeof result !== 'object' || result === null || typeof result.allow !== 'boolean') throw new PolicyEvaluationError(`${DECISION_ENTRYPOINT} is not an object with a boolean "allow"`);
  const reasons = result.reasons ?? [];
  if (!Array.isArray(reasons) || !reasons.every((reason) => typeof reason === 'string')) throw new PolicyEvaluationError(`${DECISION_ENTRYPOINT}.reasons is not an array of strings`);
  const output: PolicyOutput = { allow: result.allow, reasons };
  const ttl = result.ttl_seconds;
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0)) throw new PolicyEvaluationError(`${DECISION_ENTRYPOINT}.ttl_seconds is not a number of seconds`);
  if (typeof ttl === 'number' && Math.floor(ttl) > 0) output.ttlSeconds = Math.floor(ttl);
  const obligations = result.obligations;
  if (obligations !== undefined && (typeof obligations !== 'object' || obligations === null || Array.isArray(obligations))) {
    throw new PolicyEvaluationError(`${DECISION_ENTRYPOINT}.obligations is not an object`);
  }
  if (obligations && Object.keys(obligations).length) output.obligations = obligations as Record<string, unknown>;
  return output;
}

/** The built-ins the module leaves to the host (`builtins()` export: name → id). */
function requiredBuiltins(loaded: LoadedPolicy): string[] {
  const exports = (loaded.wasmInstance as { exports: Record<string, (...args: number[]) => number> }).exports;
  const address = exports.opa_json_dump(exports.builtins());
  const bytes = new Uint8Array((loaded.mem as { buffer: ArrayBuffer }).buffer);
  let end = address;
  while (bytes[end] !== 0) end++;
  return Object.keys(JSON.parse(new TextDecoder().decode(bytes.subarray(address, end))) as Record<string, number>);
}

/** The SDK throws strings and plain objects as well as Errors; one short line of whichever. */
export function describeThrown(error: unknown): string {
  const text = error instanceof Error ? error.message : typeof error === 'string' ? error : ((error as { message?: unknown } | null)?.message ?? String(error));
  const line = String(text).split('\n', 1)[0];
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
