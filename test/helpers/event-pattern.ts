/**
 * EventBridge event-pattern matching, for asserting that a synthesized rule's `EventPattern` matches (or
 * not) a documented sample event. Implements the documented semantics of the filters Pipemend uses:
 * - every field of the pattern must match; fields the pattern does not name are ignored;
 * - a leaf is an array of alternatives: exact values (strings, numbers, booleans, null) or content filters
 *   (`prefix`, `suffix`, `anything-but` with a value, list or `prefix`, `exists`);
 * - when the event's value is an array, the pattern matches if any element matches;
 * - a field missing from the event matches only `{ "exists": false }`.
 */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export function matchesEventPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  return Object.entries(pattern).every(([field, filter]) => {
    const value =
      event !== null && typeof event === 'object' && !Array.isArray(event)
        ? (event as Record<string, Json>)[field]
        : undefined;
    if (Array.isArray(filter)) return matchesLeaf(filter, value);
    if (filter !== null && typeof filter === 'object') {
      return value !== undefined && matchesEventPattern(filter as Record<string, unknown>, value);
    }
    throw new Error(`pattern field '${field}' must be an array or an object, got ${JSON.stringify(filter)}`);
  });
}

function matchesLeaf(alternatives: unknown[], value: Json | undefined): boolean {
  const values = Array.isArray(value) ? value : [value];
  return alternatives.some((alternative) => {
    if (isFilter(alternative) && 'exists' in alternative) {
      return alternative.exists === (value !== undefined);
    }
    return values.some((single) => single !== undefined && matchesOne(alternative, single));
  });
}

function isFilter(alternative: unknown): alternative is Record<string, unknown> {
  return alternative !== null && typeof alternative === 'object' && !Array.isArray(alternative);
}

function matchesOne(alternative: unknown, value: Json): boolean {
  if (!isFilter(alternative)) return alternative === value;
  const entries = Object.entries(alternative);
  if (entries.length !== 1) {
    throw new Error(`one content filter per object, got ${JSON.stringify(alternative)}`);
  }
  const [kind, operand] = entries[0]!;
  switch (kind) {
    case 'prefix':
      return typeof value === 'string' && typeof operand === 'string' && value.startsWith(operand);
    case 'suffix':
      return typeof value === 'string' && typeof operand === 'string' && value.endsWith(operand);
    case 'anything-but': {
      if (isFilter(operand)) return !matchesOne(operand, value);
      const excluded = Array.isArray(operand) ? operand : [operand];
      return !excluded.includes(value);
    }
    default:
      throw new Error(`content filter '${kind}' is not implemented by this helper`);
  }
}
