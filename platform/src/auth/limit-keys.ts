/**
 * How the auth guards name their rate-limit counters. Identities (emails, addresses) are hashed
 * into the key: rows stay the same small size however long the input, and the table holds no
 * email addresses or IP addresses in the clear.
 */
import { createHash } from "node:crypto";
import { isIPv6 } from "node:net";

/** The form emails are compared in everywhere: trimmed, lower-case. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** `<scope>:<128-bit hash of the parts>`; the scope stays readable for whoever looks at the table. */
export function limitKey(scope: string, ...parts: string[]): string {
  const digest = createHash("sha256").update(parts.join("\n")).digest("base64url").slice(0, 22);
  return `${scope}:${digest}`;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const bare = address.split("%")[0] ?? "";
  if (!isIPv6(bare)) return undefined;
  const [head = "", tail] = bare.split("::");
  const parse = (part: string): number[] =>
    part === ""
      ? []
      : part.split(":").flatMap((group) => {
          if (!group.includes(".")) return [parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split(".").map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const headGroups = parse(head);
  const tailGroups = tail === undefined ? [] : parse(tail);
  const zeros = new Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  return [...headGroups, ...zeros, ...tailGroups];
}

/**
 * What the per-address limits count: the address itself for IPv4 (and "unknown"), the /64 prefix
 * for IPv6, because one subscriber usually gets a whole /64 and could otherwise rotate through
 * 2^64 addresses, each with a fresh allowance.
 */
export function addressBucket(address: string): string {
  const groups = ipv6Groups(address);
  if (!groups) return address;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(":")}::/64`;
}
