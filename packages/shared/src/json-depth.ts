// How deep a request body may nest. The deepest legitimate edit request is five levels
// (body → tags → labels → value, input → image_urls → url); 32 leaves room and stops a 100,000-deep
// array long before anything recursive (JSON.stringify, zod, pino) overflows the stack on it.

/** Deepest nesting of arrays and objects accepted in a request body (the top level counts as 1). */
export const MAX_BODY_DEPTH = 32;

/**
 * The nesting depth of a parsed JSON value, counted without recursion and cut short once past `limit`
 * (so a 100,000-deep value costs `limit` steps, not 100,000): 0 for a scalar, 1 for `[]` or `{}`.
 */
export function jsonDepth(value: unknown, limit = MAX_BODY_DEPTH): number {
  let deepest = 0;
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    if (node === null || typeof node !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push({ node: child, depth: depth + 1 });
    }
  }
  return deepest;
}

/** True when `value` nests deeper than `limit`. */
export function tooDeep(value: unknown, limit = MAX_BODY_DEPTH): boolean {
  return jsonDepth(value, limit) > limit;
}
