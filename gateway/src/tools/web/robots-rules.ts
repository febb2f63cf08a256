import { AppError } from "@workforce/protocol";
import robotsParser from "robots-parser";
import { readLimited, decodeText } from "./read-body";

/** What a site's robots.txt lets our user agent fetch. */
export interface RobotsRules {
  /** Throws web_robots_disallowed when the site's robots.txt forbids `url` to our agent. */
  assertAllowed(url: URL): Promise<void>;
}

export interface RobotsOptions {
  /** The guarded fetch: robots.txt is fetched under the same rules as the page. */
  fetch: typeof fetch;
  /** Sent as User-Agent. */
  userAgent: string;
  /** The name robots.txt groups are matched against (`WorkforceBot`). */
  productToken: string;
  /** How long a site's rules are kept (default an hour; RFC 9309 allows a day). */
  ttlMs?: number;
  /** Sites whose rules are kept at once; the oldest are dropped first (default 1000). */
  maxOrigins?: number;
  now?: () => number;
}

/** RFC 9309: crawlers must parse at least 500 KiB of robots.txt. */
const MAX_ROBOTS_BYTES = 512 * 1024;

type Verdict = (url: string) => boolean;

const ALLOW_ALL: Verdict = () => true;
const DISALLOW_ALL: Verdict = () => false;
/** Longest wait for a robots.txt; it is fetched for every run asking that site, so not tied to one run's abort. */
const ROBOTS_TIMEOUT_MS = 10_000;
/** An unreachable robots.txt is asked again this soon (the site may be back), not after the whole TTL. */
const UNREACHABLE_TTL_MS = 60_000;

/**
 * robots.txt, fetched through the guard once per origin and kept for a while. As RFC 9309 says: a
 * missing file (4xx) allows everything, an unreachable one (5xx, network failure) is read as
 * "disallow everything" until it is asked again.
 */
export function createRobotsRules(options: RobotsOptions): RobotsRules {
  const ttlMs = options.ttlMs ?? 3_600_000;
  const maxOrigins = options.maxOrigins ?? 1_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { verdict: Promise<Verdict>; expires: number }>();

  async function load(origin: string): Promise<{ verdict: Verdict; ttlMs: number }> {
    const robotsUrl = `${origin}/robots.txt`;
    const unreachable = { verdict: DISALLOW_ALL, ttlMs: UNREACHABLE_TTL_MS };
    try {
      const response = await options.fetch(robotsUrl, { headers: { "user-agent": options.userAgent, accept: "text/plain" }, signal: AbortSignal.timeout(ROBOTS_TIMEOUT_MS) });
      if (!response.ok) {
        await response.body?.cancel();
        return response.status >= 400 && response.status < 500 ? { verdict: ALLOW_ALL, ttlMs } : unreachable;
      }
      const { bytes } = await readLimited(response, MAX_ROBOTS_BYTES);
      const robots = robotsParser(robotsUrl, decodeText(bytes, response.headers.get("content-type")));
      return { verdict: (url) => robots.isAllowed(url, options.productToken) !== false, ttlMs };
    } catch (error) {
      // Refused by the guard: the page would be too, and the caller says why.
      if (error instanceof AppError) throw error;
      return unreachable;
    }
  }

  function verdictFor(origin: string): Promise<Verdict> {
    const cached = cache.get(origin);
    if (cached && cached.expires > now()) return cached.verdict;
    const loading = load(origin);
    const entry = { verdict: loading.then((loaded) => loaded.verdict), expires: Number.POSITIVE_INFINITY };
    cache.delete(origin);
    cache.set(origin, entry);
    loading.then(
      (loaded) => (entry.expires = now() + loaded.ttlMs),
      () => cache.delete(origin),
    );
    while (cache.size > maxOrigins) cache.delete(cache.keys().next().value!);
    return entry.verdict;
  }

  return {
    async assertAllowed(url) {
      const allowed = (await verdictFor(url.origin))(url.href);
      if (!allowed) {
        throw new AppError("web_robots_disallowed", `${url.origin}/robots.txt does not allow ${options.productToken} to fetch ${url.pathname}; the page was not fetched`);
      }
    },
  };
}
