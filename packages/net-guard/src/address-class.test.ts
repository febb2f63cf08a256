import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyAddress } from "./address-class";
import { compilePolicy, outboundPolicyFromEnv } from "./outbound-policy";

const BLOCKED: [string, RegExp][] = [
  ["127.0.0.1", /loopback/],
  ["127.255.255.254", /loopback/],
  ["10.1.2.3", /private/],
  ["172.16.0.1", /private/],
  ["172.31.255.255", /private/],
  ["192.168.1.1", /private/],
  ["169.254.169.254", /link-local.*metadata/],
  ["100.64.0.1", /carrier-grade NAT/],
  ["100.127.255.255", /carrier-grade NAT/],
  ["0.0.0.0", /unspecified/],
  ["0.1.2.3", /unspecified/],
  ["224.0.0.1", /multicast/],
  ["239.255.255.250", /multicast/],
  ["255.255.255.255", /broadcast/],
  ["240.0.0.1", /reserved/],
  ["192.0.2.10", /reserved/],
  ["198.18.0.1", /reserved/],
  ["::1", /loopback/],
  ["::", /unspecified/],
  ["fc00::1", /unique local/],
  ["fd12:3456:789a::1", /unique local/],
  ["fe80::1", /link-local/],
  ["fe80::1%eth0", /link-local/],
  ["ff02::1", /multicast/],
  ["fec0::1", /site-local/],
  ["2001:db8::1", /reserved/],
  ["::ffff:127.0.0.1", /IPv4-mapped form of 127\.0\.0\.1, a loopback/],
  ["::ffff:7f00:1", /IPv4-mapped form of 127\.0\.0\.1/],
  ["::ffff:169.254.169.254", /IPv4-mapped form of 169\.254\.169\.254, a link-local/],
  ["::ffff:10.0.0.1", /IPv4-mapped form of 10\.0\.0\.1, a private/],
  ["::ffff:0:10.0.0.1", /IPv4-translated form of 10\.0\.0\.1/],
  ["::127.0.0.1", /IPv4-compatible/],
  ["::8.8.8.8", /IPv4-compatible/],
  ["64:ff9b::127.0.0.1", /NAT64 form of 127\.0\.0\.1/],
  ["64:ff9b::a9fe:a9fe", /NAT64 form of 169\.254\.169\.254/],
  ["64:ff9b:1::1", /local-use NAT64/],
  ["2002:7f00:1::1", /6to4 form of 127\.0\.0\.1/],
  ["2002:c0a8:101::1", /6to4 form of 192\.168\.1\.1/],
  ["2001::1", /Teredo/],
  ["100::1", /discard/],
  ["4000::1", /unallocated/],
  ["localhost", /not an IP address/],
  ["0x7f.0.0.1", /not an IP address/],
];

const PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "172.32.0.1", "100.128.0.1", "169.253.255.255", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"];

describe("the address classifier", () => {
  it.each(BLOCKED)("refuses %s (%s)", (address, reason) => {
    const verdict = classifyAddress(address);
    expect(verdict.public).toBe(false);
    expect(verdict.public ? "" : verdict.reason).toMatch(reason);
  });

  it.each(PUBLIC)("lets %s through", (address) => {
    expect(classifyAddress(address)).toEqual({ public: true });
  });

  it("refuses every address of a blocked IPv4 range, in every IPv6 form that reaches it", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const blockedV4 = fc.oneof(
      fc.tuple(fc.constant(127), octet, octet, octet),
      fc.tuple(fc.constant(10), octet, octet, octet),
      fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), octet, octet),
      fc.tuple(fc.constant(192), fc.constant(168), octet, octet),
      fc.tuple(fc.constant(169), fc.constant(254), octet, octet),
      fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), octet, octet),
      fc.tuple(fc.constant(0), octet, octet, octet),
      fc.tuple(fc.integer({ min: 224, max: 255 }), octet, octet, octet),
    );
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
    fc.assert(
      fc.property(blockedV4, ([a, b, c, d]) => {
        const dotted = `${a}.${b}.${c}.${d}`;
        for (const form of [dotted, `::ffff:${dotted}`, `::ffff:${hex(a, b)}:${hex(c, d)}`, `64:ff9b::${dotted}`, `2002:${hex(a, b)}:${hex(c, d)}::1`, `::${dotted}`]) {
          expect(classifyAddress(form).public, form).toBe(false);
        }
      }),
    );
  });

  it("lets every global unicast IPv4 address through, and its mapped form", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const publicV4 = fc
      .tuple(fc.integer({ min: 1, max: 223 }), octet, octet, octet)
      .filter(([a, b, c]) => ![10, 127].includes(a) && !(a === 172 && b >= 16 && b <= 31) && !(a === 192 && (b === 168 || (b === 0 && (c === 0 || c === 2)) || (b === 88 && c === 99) || (b === 175 && c === 48) || (b === 31 && c === 196) || (b === 52 && c === 193))) && !(a === 169 && b === 254) && !(a === 100 && b >= 64 && b <= 127) && !(a === 198 && (b === 18 || b === 19 || (b === 51 && c === 100))) && !(a === 203 && b === 0 && c === 113));
    fc.assert(
      fc.property(publicV4, ([a, b, c, d]) => {
        expect(classifyAddress(`${a}.${b}.${c}.${d}`)).toEqual({ public: true });
        expect(classifyAddress(`::ffff:${a}.${b}.${c}.${d}`)).toEqual({ public: true });
      }),
    );
  });
});

describe("the operator's policy", () => {
  it("reads WORKFORCE_OUTBOUND_ALLOW_PRIVATE and WORKFORCE_OUTBOUND_ALLOW_HOSTS", () => {
    expect(outboundPolicyFromEnv({})).toEqual({ allowPrivateNetwork: false, allowHosts: [] });
    expect(outboundPolicyFromEnv({ WORKFORCE_OUTBOUND_ALLOW_PRIVATE: "TRUE", WORKFORCE_OUTBOUND_ALLOW_HOSTS: " ollama.lan:11434, 10.0.0.0/8 ,," })).toEqual({
      allowPrivateNetwork: true,
      allowHosts: ["ollama.lan:11434", "10.0.0.0/8"],
    });
  });

  it("refuses malformed values, naming the variable and the entry", () => {
    expect(() => outboundPolicyFromEnv({ WORKFORCE_OUTBOUND_ALLOW_PRIVATE: "yes" })).toThrow(/WORKFORCE_OUTBOUND_ALLOW_PRIVATE must be true or false/);
    expect(() => outboundPolicyFromEnv({ WORKFORCE_OUTBOUND_ALLOW_HOSTS: "ok.lan, http://x/, 10.0.0.0/99, host:99999" })).toThrow(
      /WORKFORCE_OUTBOUND_ALLOW_HOSTS: "http:\/\/x\/", "10.0.0.0\/99", "host:99999" are not/,
    );
  });

  it("allows a host, a host:port, an address or a range, and nothing beside them", () => {
    const policy = compilePolicy({ allowPrivateNetwork: false, allowHosts: ["Ollama.LAN", "mcp.internal:8080", "10.0.0.5", "[::1]:9000", "192.168.0.0/16", "fd00::/8"] });
    expect(policy.allows("ollama.lan", 11434, "10.9.9.9")).toBe(true);
    expect(policy.allows("ollama.lan.", 80, "10.9.9.9")).toBe(true);
    expect(policy.allows("mcp.internal", 8080, "10.1.1.1")).toBe(true);
    expect(policy.allows("mcp.internal", 8081, "10.1.1.1")).toBe(false);
    expect(policy.allows("anything", 1, "10.0.0.5")).toBe(true);
    expect(policy.allows("anything", 1, "::ffff:10.0.0.5")).toBe(true);
    expect(policy.allows("anything", 1, "10.0.0.6")).toBe(false);
    expect(policy.allows("[::1]", 9000, "::1")).toBe(true);
    expect(policy.allows("[::1]", 9001, "::1")).toBe(false);
    expect(policy.allows("x", 1, "192.168.4.4")).toBe(true);
    expect(policy.allows("x", 1, "fd12::1")).toBe(true);
    expect(policy.allows("x", 1, "127.0.0.1")).toBe(false);
  });
});
