/**
 * Built-in functions that OPA's Wasm compiler leaves to the host and the Wasm SDK does not implement:
 * the time functions the default policy uses for delegation grants (validity window, weekdays, time of
 * day in the grant's time zone). The policy build only accepts policies that use the SDK's built-ins and
 * these (scripts/policy-build.mjs HOST_BUILTINS), with OPA's semantics:
 * https://www.openpolicyagent.org/docs/policy-reference/builtins/time
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** `time.parse_rfc3339_ns(value)`: nanoseconds since the epoch (a double: exact to ~256 ns today). */
export function parseRfc3339Ns(value: unknown): number {
  const match = typeof value === 'string' ? RFC3339.exec(value) : null;
  if (!match) throw new Error(`time.parse_rfc3339_ns: not an RFC 3339 time: ${JSON.stringify(value)?.slice(0, 60)}`);
  const fraction = (match[7] ?? '.').slice(1).padEnd(9, '0');
  const seconds = Date.parse(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}${match[8].toUpperCase()}`);
  if (Number.isNaN(seconds)) throw new Error(`time.parse_rfc3339_ns: not a valid time: ${String(value)}`);
  return seconds * 1e6 + Number(fraction);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'long', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      throw new Error(`unknown time zone: ${zone.slice(0, 64)}`);
    }
    // Bounded: zones come from policy data and grants, a small set; never let them grow the cache for ever.
    if (formatters.size > 500) formatters.clear();
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** `x` is `ns` or `[ns, zone]` (UTC when no zone, as in OPA; `""` and `"UTC"` too). */
function localParts(name: string, x: unknown): Record<string, string> {
  const [ns, zone] = Array.isArray(x) ? x : [x, 'UTC'];
  if (typeof ns !== 'number' || !Number.isFinite(ns) || typeof zone !== 'string') throw new Error(`${name}: expects ns or [ns, time zone]`);
  const parts: Record<string, string> = {};
  for (const part of formatterFor(zone === '' || zone === 'Local' ? 'UTC' : zone).formatToParts(new Date(Math.floor(ns / 1e6)))) parts[part.type] = part.value;
  return parts;
}

/** `time.clock(x)`: `[hour, minute, second]` of the day. */
export function clock(x: unknown): [number, number, number] {
  const parts = localParts('time.clock', x);
  return [Number(parts.hour), Number(parts.minute), Number(parts.second)];
}

/** `time.weekday(x)`: `Monday` … `Sunday`. */
export function weekday(x: unknown): string {
  return localParts('time.weekday', x).weekday;
}

/** What `loadPolicy` takes as custom built-ins, by OPA name. */
export const HOST_BUILTINS: Record<string, (...args: unknown[]) => unknown> = {
  'time.parse_rfc3339_ns': parseRfc3339Ns,
  'time.clock': clock,
  'time.weekday': weekday,
};
