/**
 * Text → typed values, the same way wherever a device attribute arrives as text (a list filter
 * `attr.<name>=<value>`, a CSV `attr.<name>` cell): `true` / `false` are booleans, a JSON number
 * (`42`, `-1.5`, `1e3`; not `007` or `+1`) is a number, a value in double quotes is the string inside
 * them (`"42"` for the string 42), anything else is the string as written.
 */
export function attributeValue(text: string): string | number | boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text)) {
    const number = Number(text);
    if (Number.isFinite(number)) return number;
  }
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) return text.slice(1, -1);
  return text;
}

const TRUE = new Set(['true', 'yes', '1']);
const FALSE = new Set(['false', 'no', '0']);

/** A yes/no cell: true/false, yes/no or 1/0 in any case; undefined for anything else. */
export function booleanOf(text: string): boolean | undefined {
  const lower = text.toLowerCase();
  return TRUE.has(lower) ? true : FALSE.has(lower) ? false : undefined;
}

/** An attribute name as the registry accepts it (`DeviceAttributes`). */
export const ATTRIBUTE_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
