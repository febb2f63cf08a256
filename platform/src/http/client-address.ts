import type { Context } from "hono";

/** The peer's address as the socket reports it, IPv4-mapped IPv6 shortened; "unknown" in-process. */
export function socketAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const address = env?.incoming?.socket?.remoteAddress;
  if (!address) return "unknown";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/** A request from this machine that did not come through a proxy (a proxy on the same host makes everyone look local). */
export function isLoopbackRequest(c: Context): boolean {
  if (c.req.header("x-forwarded-for") || c.req.header("forwarded") || c.req.header("x-real-ip")) return false;
  const address = socketAddress(c);
  return address === "::1" || /^127\.\d+\.\d+\.\d+$/.test(address);
}
