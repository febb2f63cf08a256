import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { normalizeAddress } from "./auth-failures";

/** The peer address of the socket a request came over; "unknown" when it was not served by Node (in-process requests). */
export function socketAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** True for an address of this host's loopback interface (127.0.0.0/8, ::1, and their IPv4-mapped spellings). */
export function isLoopbackAddress(address: string | undefined): boolean {
  const normalized = normalizeAddress(address);
  return normalized === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(normalized);
}

/**
 * Headers a reverse proxy adds on behalf of its client. A proxy on the same host connects from
 * loopback, so a request carrying one of them stands for someone else, wherever its socket came from.
 */
export const PROXY_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"] as const;

/**
 * Whether a request is from this host itself: a loopback peer that no proxy speaks for. Only such
 * requests are trusted without the token (e.g. to read the gateway's health details).
 */
export function isLocalRequest(address: string | undefined, header: (name: string) => string | undefined): boolean {
  return isLoopbackAddress(address) && PROXY_HEADERS.every((name) => header(name) === undefined);
}
