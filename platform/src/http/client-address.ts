/**
 * Who is calling, as far as the network can tell: the address rate limits count and loopback-only
 * pages check.
 *
 * By default it is the TCP peer's address (from @hono/node-server), never a header: headers are
 * the client's to write. Behind reverse proxies, `WORKFORCE_TRUST_PROXY=<n>` names how many there
 * are, and the client is the n-th address from the right of `X-Forwarded-For` (each proxy appends
 * the address it was connected from, so the rightmost n entries are written by proxies we trust and
 * anything further left may be forged). Setting it without such proxies lets every client pick its
 * own address, so it defaults to 0.
 *
 * In-process requests (`app.request()` in tests) have no socket: their peer is "unknown", one
 * address shared by all of them, and never loopback. A test that needs distinct addresses builds
 * the resolver with `trustProxyHops: 1` and sends `X-Forwarded-For: <address>`.
 */
import { isIP } from "node:net";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/** The address of a request whose peer cannot be known (no socket, or a malformed forwarded entry). */
export const UNKNOWN_ADDRESS = "unknown";

/** The environment variable this module reads, with what it means; for docs and the launcher. */
export const CLIENT_ADDRESS_ENV = {
  WORKFORCE_TRUST_PROXY:
    "Number of reverse proxies in front of the platform that append to X-Forwarded-For (default 0: clients connect directly and headers are ignored). With n, the client address is the n-th entry from the right of X-Forwarded-For. Only set it when every request passes through those proxies.",
} as const;

export interface ClientAddressConfig {
  /** WORKFORCE_TRUST_PROXY: trusted reverse-proxy hops in front of the platform (0 = none). */
  trustProxyHops: number;
}

export type ClientAddressEnv = Partial<Record<keyof typeof CLIENT_ADDRESS_ENV, string | undefined>>;
export type ClientAddressConfigResult = { ok: true; config: ClientAddressConfig } | { ok: false; problems: string[] };

/** The most hops accepted; more is a typo, not a deployment. */
const MAX_TRUST_PROXY_HOPS = 10;

/** Reads WORKFORCE_TRUST_PROXY; each problem names the variable and the fix ("NAME: message"). */
export function readClientAddressConfig(env: ClientAddressEnv): ClientAddressConfigResult {
  const raw = env.WORKFORCE_TRUST_PROXY?.trim() ?? "";
  if (raw === "") return { ok: true, config: { trustProxyHops: 0 } };
  const hops = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(hops) || hops > MAX_TRUST_PROXY_HOPS) {
    return {
      ok: false,
      problems: [
        `WORKFORCE_TRUST_PROXY: must be the number of reverse proxies in front of the platform, 0 to ${MAX_TRUST_PROXY_HOPS} (0 when clients connect directly), e.g. WORKFORCE_TRUST_PROXY=1; got "${raw}"`,
      ],
    };
  }
  return { ok: true, config: { trustProxyHops: hops } };
}

/**
 * An address in the one form counters compare: without port or brackets or zone, IPv6 in
 * lower case, IPv4-mapped IPv6 (`::ffff:192.0.2.1`, how a dual-stack socket reports IPv4 peers)
 * as plain IPv4. Anything that is not an IP address is "unknown".
 */
export function normalizeAddress(raw: string | undefined): string {
  let address = raw?.trim() ?? "";
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed?.[1]) address = bracketed[1];
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(":"));
  address = address.split("%")[0]?.toLowerCase() ?? "";
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped?.[1]) address = mapped[1];
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
  if (mappedHex?.[1] && mappedHex[2]) {
    const [high, low] = [parseInt(mappedHex[1], 16), parseInt(mappedHex[2], 16)];
    address = [high >> 8, high & 255, low >> 8, low & 255].join(".");
  }
  return isIP(address) === 0 ? UNKNOWN_ADDRESS : address;
}

/** 127.0.0.0/8 or ::1. */
export function isLoopbackAddress(address: string): boolean {
  return address === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** The TCP peer, or undefined in-process (no Node socket behind the request). */
function peerAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** Headers a reverse proxy adds; any of them on a loopback connection means the real client is elsewhere. */
const FORWARDING_HEADERS = ["x-forwarded-for", "forwarded", "x-real-ip"];

export interface ClientAddress {
  /** The client's normalised address, or "unknown" (in-process requests, malformed forwarded entries). */
  address(c: Context): string;
  /**
   * Whether the request comes from this machine. Without trusted proxies: a loopback peer whose
   * request carries no forwarding header (a reverse proxy on the same host would otherwise make
   * everyone look local). With trusted proxies: whether the resolved client address is loopback.
   */
  isLoopback(c: Context): boolean;
}

export function createClientAddress(config: ClientAddressConfig): ClientAddress {
  const hops = config.trustProxyHops;

  function address(c: Context): string {
    const peer = normalizeAddress(peerAddress(c));
    if (hops === 0) return peer;
    // All X-Forwarded-For headers, in order, then the peer: the last `hops` entries are the
    // trusted proxies' (the peer being the nearest); the one before them is the client.
    const forwarded = (c.req.raw.headers.get("x-forwarded-for") ?? "")
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    const chain = [...forwarded, peer];
    // Fewer entries than proxies: the request skipped a proxy; take the furthest one known.
    return normalizeAddress(chain[Math.max(0, chain.length - 1 - hops)]);
  }

  return {
    address,
    isLoopback(c) {
      if (hops > 0) return isLoopbackAddress(address(c));
      if (!isLoopbackAddress(normalizeAddress(peerAddress(c)))) return false;
      return FORWARDING_HEADERS.every((name) => c.req.raw.headers.get(name) === null);
    },
  };
}
