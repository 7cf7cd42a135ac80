import { isIP } from 'node:net';

// IPv6 forms that carry an IPv4 address, and so reach that IPv4 host: a notifyUrl on one of them is
// judged as the IPv4 address it embeds (https://[::127.0.0.1]/ is loopback, https://[64:ff9b::a00:5]/
// is 10.0.0.5 through NAT64). Pure: no I/O.

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad counts as the last two). */
function groupsOf(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const quad = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => Number.parseInt(group, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const gap = Array.from({ length: Math.max(0, 8 - left.length - right.length) }, () => 0);
  const groups = tail === undefined ? left : [...left, ...gap, ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

const dotted = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
const zeros = (groups: number[], from: number, to: number) => groups.slice(from, to).every((g) => g === 0);

/**
 * The IPv4 address an IPv6 address embeds, or undefined: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
 * `::a.b.c.d` (not `::` or `::1`), IPv4-translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96` (RFC 6052)
 * and 6to4 `2002:AABB:CCDD::/16` (RFC 3056).
 */
export function embeddedIPv4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const g = groupsOf(address);
  if (!g) return undefined;
  if (zeros(g, 0, 5) && g[5] === 0xffff) return dotted(g[6], g[7]);
  if (zeros(g, 0, 4) && g[4] === 0xffff && g[5] === 0) return dotted(g[6], g[7]);
  if (zeros(g, 0, 6) && !(g[6] === 0 && g[7] <= 1)) return dotted(g[6], g[7]);
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(g, 2, 6)) return dotted(g[6], g[7]);
  if (g[0] === 0x2002) return dotted(g[1], g[2]);
  return undefined;
}
