import ipaddr from "ipaddr.js";

/** Why an address is not a public one, in words an operator reads in an error message. */
export type AddressVerdict = { public: true } | { public: false; reason: string };

const PUBLIC: AddressVerdict = { public: true };

/** ipaddr.js range names of IPv4, told the way an operator reads them. Anything but `unicast` is refused. */
const IPV4_REASONS: Record<string, string> = {
  unspecified: "an unspecified address (0.0.0.0/8)",
  broadcast: "the broadcast address",
  multicast: "a multicast address (224.0.0.0/4)",
  linkLocal: "a link-local address (169.254.0.0/16, where cloud metadata services such as 169.254.169.254 answer)",
  loopback: "a loopback address (127.0.0.0/8)",
  carrierGradeNat: "a carrier-grade NAT address (100.64.0.0/10)",
  private: "a private network address (RFC 1918: 10/8, 172.16/12, 192.168/16)",
  reserved: "a reserved or documentation address",
  as112: "an AS112 sink address",
  amt: "an AMT relay address",
};

const IPV6_REASONS: Record<string, string> = {
  unspecified: "the unspecified address (::)",
  linkLocal: "a link-local address (fe80::/10)",
  multicast: "a multicast address (ff00::/8)",
  loopback: "the loopback address (::1)",
  uniqueLocal: "a unique local address (fc00::/7, IPv6's private networks)",
  deprecatedSiteLocal: "a site-local address (fec0::/10)",
  discard: "a discard-only address (100::/64)",
  teredo: "a Teredo tunnel address (2001::/32)",
  benchmarking: "a benchmarking address (2001:2::/48)",
  segmentRouting: "a segment-routing address (5f00::/16)",
  reserved: "a reserved or documentation address",
};

/** Global unicast IPv6 (2000::/3): everything outside it is unallocated or special. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR("2000::/3");
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR("64:ff9b::/96");

function classifyV4(address: ipaddr.IPv4): AddressVerdict {
  const range = address.range();
  if (range === "unicast") return PUBLIC;
  return { public: false, reason: IPV4_REASONS[range] ?? `a special-purpose address (${range})` };
}

/** The IPv4 address an IPv6 form carries, when the form is one that reaches that IPv4 address. */
function embeddedV4(address: ipaddr.IPv6): { v4: ipaddr.IPv4; form: string } | undefined {
  const parts = address.parts;
  const last32 = () => ipaddr.IPv4.parse(`${parts[6]! >> 8}.${parts[6]! & 0xff}.${parts[7]! >> 8}.${parts[7]! & 0xff}`);
  switch (address.range()) {
    case "ipv4Mapped":
      return { v4: address.toIPv4Address(), form: "IPv4-mapped" };
    case "rfc6145":
      return { v4: last32(), form: "IPv4-translated" };
    case "rfc6052":
      // 64:ff9b::/96 is NAT64's well-known prefix; the local-use 64:ff9b:1::/48 is the operator's own network.
      return address.match(NAT64_WELL_KNOWN) ? { v4: last32(), form: "NAT64" } : undefined;
    case "6to4":
      return { v4: ipaddr.IPv4.parse(`${parts[1]! >> 8}.${parts[1]! & 0xff}.${parts[2]! >> 8}.${parts[2]! & 0xff}`), form: "6to4" };
    default:
      return undefined;
  }
}

function classifyV6(address: ipaddr.IPv6): AddressVerdict {
  const range = address.range();
  if (range === "unspecified" || range === "loopback") return { public: false, reason: IPV6_REASONS[range]! };
  // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291): nothing public lives there.
  if (address.parts.slice(0, 6).every((part) => part === 0)) return { public: false, reason: "an IPv4-compatible IPv6 address (::/96, deprecated)" };
  const embedded = embeddedV4(address);
  if (embedded) {
    const inner = classifyV4(embedded.v4);
    return inner.public ? PUBLIC : { public: false, reason: `the ${embedded.form} form of ${embedded.v4.toString()}, ${inner.reason}` };
  }
  if (range === "rfc6052") return { public: false, reason: "a local-use NAT64 address (64:ff9b:1::/48)" };
  if (range !== "unicast") return { public: false, reason: IPV6_REASONS[range] ?? `a special-purpose address (${range})` };
  if (!address.match(GLOBAL_UNICAST_V6)) return { public: false, reason: "an unallocated IPv6 address (outside 2000::/3)" };
  return PUBLIC;
}

/**
 * An IP address from its text (v4 dotted quad, or v6 with or without brackets and zone), or
 * undefined when the text is not one. Only the dotted-quad IPv4 form: ipaddr.js would also read
 * "0x7f.1", but the resolver and the URL parser hand us dotted quads, so anything else is a name.
 * IPv6 goes through the WHATWG parser first: ipaddr.js reads "::127.0.0.1" as "::ffff:127.0.0.1".
 */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (!bare.includes(":")) return undefined;
  const withoutZone = bare.split("%")[0]!;
  let canonical: string;
  try {
    canonical = new URL(`http://[${withoutZone}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  return ipaddr.IPv6.isValid(canonical) ? ipaddr.IPv6.parse(canonical) : undefined;
}

/**
 * Whether an IP address (v4 or v6 text) belongs to the public internet. Loopback, private,
 * link-local (the cloud metadata address), CGNAT, unspecified, multicast, broadcast and reserved
 * ranges are not, and neither are IPv6 forms that carry such an IPv4 address (mapped, translated,
 * NAT64, 6to4). Text that is not an address is not public either.
 */
export function classifyAddress(address: string): AddressVerdict {
  const parsed = parseAddress(address);
  if (!parsed) return { public: false, reason: "not an IP address" };
  return parsed.kind() === "ipv4" ? classifyV4(parsed as ipaddr.IPv4) : classifyV6(parsed as ipaddr.IPv6);
}

/** Whether the text is an IP address literal (as a URL's hostname or a resolver's answer gives it). */
export function isIpLiteral(text: string): boolean {
  return parseAddress(text) !== undefined;
}
