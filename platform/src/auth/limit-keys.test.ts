import { describe, expect, it } from "vitest";
import { addressBucket, limitKey, normalizeEmail } from "./limit-keys";

describe("limit keys", () => {
  it("counts IPv6 clients per /64 and IPv4 clients per address", () => {
    expect(addressBucket("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:0DB8:0001:0002::ffff")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressBucket("::1")).toBe("0:0:0:0::/64");
    expect(addressBucket("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressBucket("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
    expect(addressBucket("192.0.2.1")).toBe("192.0.2.1");
    expect(addressBucket("unknown")).toBe("unknown");
  });

  it("keeps emails and addresses out of the keys, at a fixed size", () => {
    const key = limitKey("sign-in:account-address", normalizeEmail("  Ada@Example.COM "), "192.0.2.1");
    expect(key).toMatch(/^sign-in:account-address:[A-Za-z0-9_-]{22}$/);
    expect(key).toBe(limitKey("sign-in:account-address", "ada@example.com", "192.0.2.1"));
    expect(key).not.toBe(limitKey("sign-in:account-address", "ada@example.com", "192.0.2.2"));
    // The parts are separated, so they cannot be shifted into each other.
    expect(limitKey("s", "ab", "c")).not.toBe(limitKey("s", "a", "bc"));
  });
});
