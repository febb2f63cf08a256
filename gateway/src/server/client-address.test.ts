import { describe, expect, it } from "vitest";
import { isLocalRequest, isLoopbackAddress } from "./client-address";

const noHeaders = () => undefined;

describe("client addresses", () => {
  it("knows this host's loopback peers in every spelling Node reports, and nothing else", () => {
    for (const address of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of ["192.0.2.2", "10.0.0.1", "::ffff:10.0.0.1", "fd00::2", "fe80::1", "0.0.0.0", "::", "unknown", "", undefined, "127.0.0.1.example.com", "1127.0.0.1"]) {
      expect(isLoopbackAddress(address), String(address)).toBe(false);
    }
  });

  it("treats a loopback request that a proxy relays as a stranger's", () => {
    expect(isLocalRequest("127.0.0.1", noHeaders)).toBe(true);
    expect(isLocalRequest("203.0.113.7", noHeaders)).toBe(false);
    expect(isLocalRequest("unknown", noHeaders)).toBe(false);
    for (const [name, value] of [
      ["x-forwarded-for", "203.0.113.7"],
      ["forwarded", "for=203.0.113.7;proto=https"],
      ["x-real-ip", "203.0.113.7"],
      ["x-forwarded-for", ""],
    ]) {
      expect(isLocalRequest("::1", (header) => (header === name ? value : undefined)), name).toBe(false);
    }
  });
});
