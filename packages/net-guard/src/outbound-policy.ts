import ipaddr from "ipaddr.js";
import { parseAddress } from "./address-class";

/**
 * Where outgoing connections (web tools, MCP servers, an organisation's model base URL) may go.
 * By default only to public internet addresses; the operator opens private ones all at once
 * (`allowPrivateNetwork`) or one by one (`allowHosts`: an Ollama or an MCP server on their network).
 */
export interface OutboundPolicy {
  /** WORKFORCE_OUTBOUND_ALLOW_PRIVATE: every address may be reached, private or not. */
  allowPrivateNetwork: boolean;
  /**
   * WORKFORCE_OUTBOUND_ALLOW_HOSTS: hosts (`ollama.lan`), host:port (`127.0.0.1:11434`,
   * `[::1]:8080`), addresses (`10.0.0.5`) or CIDR ranges (`10.0.0.0/8`, `fd00::/8`) that may be
   * reached although they are private. A host name entry allows whatever it resolves to.
   */
  allowHosts: string[];
}

/** Only public addresses: what a deployment gets unless the operator says otherwise. */
export const PUBLIC_ONLY: OutboundPolicy = { allowPrivateNetwork: false, allowHosts: [] };

type AllowEntry =
  | { kind: "host"; host: string; port: number | undefined }
  | { kind: "address"; address: ipaddr.IPv4 | ipaddr.IPv6; port: number | undefined }
  | { kind: "range"; range: [ipaddr.IPv4 | ipaddr.IPv6, number] };

/** An address in the one form comparisons use (an IPv4-mapped IPv6 address as its IPv4 address). */
function canonicalAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const parsed = parseAddress(address);
  return parsed?.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?$/;

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : undefined;
}

/** One WORKFORCE_OUTBOUND_ALLOW_HOSTS entry, or undefined when it is none of the accepted forms. */
function parseEntry(raw: string): AllowEntry | undefined {
  const entry = raw.trim().toLowerCase();
  if (entry.includes("/")) return ipaddr.isValidCIDR(entry) ? { kind: "range", range: ipaddr.parseCIDR(entry) } : undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    const port = bracketed[2] === undefined ? undefined : parsePort(bracketed[2]);
    const address = canonicalAddress(bracketed[1]!);
    if (address?.kind() !== "ipv6" || (bracketed[2] !== undefined && port === undefined)) return undefined;
    return { kind: "address", address, port };
  }
  if (entry.includes(":") && canonicalAddress(entry)) return { kind: "address", address: canonicalAddress(entry)!, port: undefined };
  const colon = entry.lastIndexOf(":");
  const host = colon === -1 ? entry : entry.slice(0, colon);
  const port = colon === -1 ? undefined : parsePort(entry.slice(colon + 1));
  if (colon !== -1 && port === undefined) return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return { kind: "address", address: ipaddr.IPv4.parse(host), port };
  return HOST_NAME.test(host) && !/^[\d.]+$/.test(host) ? { kind: "host", host: host.replace(/\.$/, ""), port } : undefined;
}

/** The policy in the form connections are checked against, built once per guarded fetch. */
export interface CompiledPolicy {
  allowPrivateNetwork: boolean;
  /** Whether a private `address` that `hostname` (as the URL names it) resolved to may be reached on `port`. */
  allows(hostname: string, port: number, address: string): boolean;
}

/** Checks every allowHosts entry; throws an Error naming the bad ones and the accepted forms. */
export function compilePolicy(policy: OutboundPolicy): CompiledPolicy {
  const entries: AllowEntry[] = [];
  const bad: string[] = [];
  for (const raw of policy.allowHosts) {
    const entry = parseEntry(raw);
    if (entry) entries.push(entry);
    else bad.push(raw);
  }
  if (bad.length > 0) {
    throw new Error(
      `WORKFORCE_OUTBOUND_ALLOW_HOSTS: ${bad.map((entry) => `"${entry}"`).join(", ")} ${bad.length === 1 ? "is" : "are"} not a host, host:port, address or CIDR range ` +
        `(e.g. ollama.lan, 127.0.0.1:11434, [::1]:8080, 10.0.0.0/8)`,
    );
  }
  return {
    allowPrivateNetwork: policy.allowPrivateNetwork,
    allows(hostname, port, address) {
      if (policy.allowPrivateNetwork) return true;
      const name = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
      const parsed = canonicalAddress(address);
      if (!parsed) return false;
      return entries.some((entry) => {
        switch (entry.kind) {
          case "host":
            return entry.host === name && (entry.port === undefined || entry.port === port);
          case "address":
            return entry.address.kind() === parsed.kind() && entry.address.toString() === parsed.toString() && (entry.port === undefined || entry.port === port);
          case "range":
            return parsed.kind() === entry.range[0].kind() && parsed.match(entry.range);
        }
      });
    },
  };
}

/**
 * The policy the operator set: WORKFORCE_OUTBOUND_ALLOW_PRIVATE (`true` or `false`, default
 * false) and WORKFORCE_OUTBOUND_ALLOW_HOSTS (comma-separated). Throws an Error naming the variable
 * and the fix when either is malformed (each service's config collects it as a start-up problem).
 */
export function outboundPolicyFromEnv(env: Record<string, string | undefined>): OutboundPolicy {
  const rawPrivate = env.WORKFORCE_OUTBOUND_ALLOW_PRIVATE?.trim().toLowerCase() ?? "";
  if (!["", "true", "false"].includes(rawPrivate)) {
    throw new Error(`WORKFORCE_OUTBOUND_ALLOW_PRIVATE must be true or false, got "${env.WORKFORCE_OUTBOUND_ALLOW_PRIVATE}"`);
  }
  const allowHosts = (env.WORKFORCE_OUTBOUND_ALLOW_HOSTS ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  const policy = { allowPrivateNetwork: rawPrivate === "true", allowHosts };
  compilePolicy(policy);
  return policy;
}
