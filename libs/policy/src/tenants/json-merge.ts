export type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7396 JSON merge patch: objects merge member by member, `null` removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * Folds `patch` into an overlay that is itself applied as a merge patch: like mergePatch, except that a
 * `null` stays (it must go on removing the key from the data under the overlay).
 */
export function composeOverlay(overlay: JsonObject, patch: JsonObject): JsonObject {
  const result: JsonObject = { ...overlay };
  for (const [key, value] of Object.entries(patch)) {
    result[key] = isObject(value) && isObject(result[key]) ? composeOverlay(result[key], value) : value;
  }
  return result;
}
