import { lookup } from "node:dns/promises";
import { AppError, namedExports } from "@workforce/protocol";
import type { Agent, buildConnector, fetch as undiciFetch } from "undici";
import { classifyAddress, isIpLiteral } from "./address-class";
import { compilePolicy, type CompiledPolicy, type OutboundPolicy } from "./outbound-policy";

/** One answer of a name lookup. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (the system resolver by default). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface GuardOptions {
  /** Name resolution; default the system resolver (`dns.lookup`, all addresses). Tests inject their own. */
  resolve?: Resolver;
  /** Redirects followed before giving up (default 5); each hop is checked again. */
  maxRedirects?: number;
  /** Milliseconds a TCP/TLS connection may take to open (default 10 s). */
  connectTimeoutMs?: number;
  /** Certificate authorities trusted for HTTPS instead of Node's bundled ones (tests; an internal CA). */
  ca?: string | string[];
}

/** `fetch` whose every connection, redirects included, goes only where the policy allows. */
export type GuardedFetch = typeof fetch & {
  /** Closes its connection pool. */
  close(): Promise<void>;
};

const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

function defaultPort(protocol: string): number {
  return protocol === "https:" ? 443 : 80;
}

function hostForDisplay(hostname: string, port: number): string {
  return `${hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname}:${port}`;
}

/** The refusal: names the host, why, and what the operator can set to allow it. */
export function outboundBlocked(hostname: string, port: number, address: string, reason: string): AppError {
  const target = hostForDisplay(hostname, port);
  const resolved = isIpLiteral(hostname) ? "" : ` resolves to ${address},`;
  return new AppError(
    "outbound_blocked",
    `Outbound connection to ${target} refused:${resolved} ${reason} is not a public internet address. ` +
      `An operator who trusts it can allow it with WORKFORCE_OUTBOUND_ALLOW_HOSTS=${target} (or every private address with WORKFORCE_OUTBOUND_ALLOW_PRIVATE=true).`,
  );
}

/** Refuses what is not http(s) and literal private addresses, before anything is resolved. */
function checkUrlShape(url: URL, policy: CompiledPolicy): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AppError("outbound_blocked", `Outbound request to ${url.protocol}//${url.host} refused: only http: and https: URLs may be fetched`);
  }
  // The WHATWG parser already turned 2130706433, 0x7f.1 and 0177.0.0.1 into 127.0.0.1.
  if (isIpLiteral(url.hostname)) checkAddress(url.hostname, Number(url.port) || defaultPort(url.protocol), url.hostname, policy);
}

function checkAddress(hostname: string, port: number, address: string, policy: CompiledPolicy): void {
  const verdict = classifyAddress(address);
  if (verdict.public || policy.allows(hostname, port, address)) return;
  throw outboundBlocked(hostname.replace(/^\[|\]$/g, ""), port, address, verdict.reason);
}

/**
 * Resolves `hostname` once and checks every address it has: the connection then goes to exactly
 * these addresses, so a name that changes its answer between a check and the connection (DNS
 * rebinding) cannot slip through.
 */
async function resolveChecked(hostname: string, port: number, policy: CompiledPolicy, resolve: Resolver): Promise<string[]> {
  const bare = hostname.replace(/^\[|\]$/g, "");
  const addresses = isIpLiteral(bare) ? [{ address: bare }] : await resolve(bare);
  if (addresses.length === 0) throw Object.assign(new Error(`${bare} has no address`), { code: "ENOTFOUND" });
  for (const { address } of addresses) checkAddress(bare, port, address, policy);
  return addresses.map(({ address }) => address);
}

/** Failures of one address that another address of the same name may not have (IPv6 without a route, one dead server). */
const NEXT_ADDRESS_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/** An undici connector that opens a socket only to addresses the policy allows, trying them in the resolver's order. */
function guardedConnector(build: typeof buildConnector, policy: CompiledPolicy, resolve: Resolver, timeout: number, ca: GuardOptions["ca"]): buildConnector.connector {
  const connect = build({ timeout, ...(ca === undefined ? {} : { ca }) });
  return (options, callback) => {
    const port = Number(options.port) || defaultPort(options.protocol);
    const attempt = (addresses: string[], index: number) => {
      // `host` (the URL's host) still names the server for TLS (SNI, certificate check) and Host.
      connect({ ...options, hostname: addresses[index]!, host: options.host ?? options.hostname }, (...result) => {
        const [error] = result;
        const code = (error as { code?: unknown } | null)?.code;
        if (error && index + 1 < addresses.length && typeof code === "string" && NEXT_ADDRESS_ERRORS.has(code)) attempt(addresses, index + 1);
        else callback(...result);
      });
    };
    resolveChecked(options.hostname, port, policy, resolve).then(
      (addresses) => attempt(addresses, 0),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
    );
  };
}

/** The refusal inside a failed fetch (`TypeError: fetch failed`, cause: ours), if that is why it failed. */
function blockedCause(error: unknown): AppError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof AppError && current.code === "outbound_blocked") return current;
  }
  return undefined;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Dropped when a redirect leaves the origin, as the Fetch standard does with Authorization. */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

interface Hop {
  url: URL;
  init: RequestInit;
}

/** The first request: a Request object's parts with `init` over them. */
function firstHop(input: string | URL | Request, init: RequestInit | undefined): Hop {
  if (typeof input === "string" || input instanceof URL) return { url: new URL(input), init: { ...init } };
  const fromRequest: RequestInit = { method: input.method, headers: input.headers, signal: input.signal };
  if (input.body) Object.assign(fromRequest, { body: input.body, duplex: "half" });
  return { url: new URL(input.url), init: { ...fromRequest, ...init } };
}

/** The request a redirect asks for, as fetch's "follow" would make it, or undefined when it cannot be repeated. */
function nextHop(hop: Hop, status: number, location: string): Hop | undefined {
  const url = new URL(location, hop.url);
  const method = (hop.init.method ?? "GET").toUpperCase();
  const headers = new Headers(hop.init.headers);
  if (url.origin !== hop.url.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
  const init: RequestInit = { ...hop.init, headers };
  if (status === 303 || ((status === 301 || status === 302) && method === "POST")) {
    if (method !== "HEAD") init.method = "GET";
    delete init.body;
    for (const name of ["content-type", "content-length", "content-encoding", "content-language", "content-location"]) headers.delete(name);
  } else if (hop.init.body instanceof ReadableStream) {
    return undefined; // a streamed body was sent already and cannot be sent again
  }
  return { url, init };
}

/**
 * A `fetch` for every outgoing connection a tenant can point somewhere: only http(s), only to
 * public addresses unless the policy allows more, redirects followed by hand (at most
 * `maxRedirects`) with each hop checked again. The check is made where the socket is opened, on
 * the very addresses it connects to. A refusal rejects with AppError `outbound_blocked`.
 */
export function createGuardedFetch(policy: OutboundPolicy, options: GuardOptions = {}): GuardedFetch {
  const compiled = compilePolicy(policy);
  const maxRedirects = options.maxRedirects ?? 5;
  // undici (~1.2 MB of code) loads with the first guarded request, not with the process: most
  // gateways and platforms never make one (issue 17: idle RSS and start-up).
  let client: Promise<{ agent: Agent; fetch: typeof undiciFetch }> | undefined;
  const open = () =>
    (client ??= import("undici").then((loaded) => {
      const undici = namedExports(loaded, "Agent");
      return {
        agent: new undici.Agent({ connect: guardedConnector(undici.buildConnector, compiled, options.resolve ?? systemResolver, options.connectTimeoutMs ?? 10_000, options.ca) }),
        fetch: undici.fetch,
      };
    }));

  const guarded = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let hop = firstHop(input, init);
    const mode = hop.init.redirect ?? "follow";
    for (let redirects = 0; ; redirects++) {
      checkUrlShape(hop.url, compiled);
      let response: Response;
      const { agent, fetch: undiciFetch } = await open();
      try {
        const request = { ...hop.init, redirect: "manual", dispatcher: agent } as Parameters<typeof undiciFetch>[1];
        response = await undiciFetch(hop.url, request);
      } catch (error) {
        throw blockedCause(error) ?? error;
      }
      const location = response.headers.get("location");
      if (mode === "manual" || !REDIRECT_STATUSES.has(response.status) || location === null) return response;
      await response.body?.cancel();
      if (mode === "error") throw new TypeError("fetch failed", { cause: new Error(`${hop.url.origin} answered with a redirect, and redirects were refused`) });
      if (redirects >= maxRedirects) throw new TypeError("fetch failed", { cause: new Error(`more than ${maxRedirects} redirects, the last to ${location}`) });
      const next = nextHop(hop, response.status, location);
      if (!next) throw new TypeError("fetch failed", { cause: new Error("a redirect asked to send a streamed request body again") });
      hop = next;
    }
  };
  return Object.assign(guarded, { close: async () => (client ? (await client).agent.close() : undefined) });
}

/**
 * Checks a URL an organisation hands us (an MCP server, a model base URL) when it is registered,
 * so the mistake shows at once: http(s) only, and every address its host resolves to public (or
 * allowed by the policy). Connections are checked again when made; passing here grants nothing.
 * A name that does not resolve passes (the connection will say so).
 */
export async function assertPublicUrl(url: string | URL, policy: OutboundPolicy, options: Pick<GuardOptions, "resolve"> = {}): Promise<void> {
  const compiled = compilePolicy(policy);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError("validation_failed", `"${String(url)}" is not a URL`);
  }
  checkUrlShape(parsed, compiled);
  const port = Number(parsed.port) || defaultPort(parsed.protocol);
  let addresses: ResolvedAddress[];
  try {
    addresses = isIpLiteral(parsed.hostname) ? [] : await (options.resolve ?? systemResolver)(parsed.hostname);
  } catch {
    return;
  }
  for (const { address } of addresses) checkAddress(parsed.hostname, port, address, compiled);
}
