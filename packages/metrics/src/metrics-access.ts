import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "@workforce/protocol";
import type { Context } from "hono";
import type { Registry } from "prom-client";

/**
 * Who may read `/metrics` (METRICS_TOKEN, METRICS_PORT, METRICS_BIND). Never public by default:
 * with neither a token nor a metrics port, the service's own port answers 404 as for any unknown path.
 */
export interface MetricsAccess {
  /** METRICS_TOKEN: scrapes present it as `Authorization: Bearer <token>`, on every port. */
  token: string | undefined;
  /** METRICS_PORT: a listener of its own that serves only `/metrics` (undefined: none). */
  port: number | undefined;
  /** METRICS_BIND: the interface of that listener (default 127.0.0.1). */
  bind: string;
}

export const DEFAULT_METRICS_BIND = "127.0.0.1";
/** Shorter tokens are refused at start-up: the token guards data about every tenant. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

/** The Prometheus text exposition format's content type. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Equal-length digests: the comparison takes the same time whatever the candidate is. */
function tokenMatches(candidate: string, expected: string): boolean {
  return timingSafeEqual(digest(candidate), digest(expected));
}

/** Whether anyone may scrape at all (a token, or a listener of its own). */
export function isScrapeable(access: MetricsAccess): boolean {
  return access.token !== undefined || access.port !== undefined;
}

/** Raw METRICS_* values (already trimmed, undefined when unset) → access, or the problems to fix. */
export function metricsAccessFrom(values: { token: string | undefined; port: number | undefined; bind: string | undefined }): { access: MetricsAccess; problems: string[] } {
  const problems: string[] = [];
  if (values.token !== undefined && values.token.length < MIN_METRICS_TOKEN_LENGTH) {
    problems.push(`METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters; generate one with \`openssl rand -hex 32\``);
  }
  return { access: { token: values.token, port: values.port, bind: values.bind ?? DEFAULT_METRICS_BIND }, problems };
}

/**
 * Answers a scrape: the registry in the text format when the request may read it, else throws
 * the AppError the service's error handler turns into `{ error: { code, message } }`.
 * `dedicated` is true on the METRICS_PORT listener, which needs the token only when one is set.
 */
export async function answerScrape(c: Context, registry: Registry, access: MetricsAccess, dedicated: boolean): Promise<Response> {
  if (access.token === undefined) {
    if (!dedicated) throw new AppError("not_found", `no route for ${c.req.method} ${c.req.path} (metrics are served here only with METRICS_TOKEN set)`);
  } else {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (presented === undefined) throw new AppError("unauthorized", "missing metrics token: send Authorization: Bearer <METRICS_TOKEN>");
    if (!tokenMatches(presented, access.token)) throw new AppError("invalid_token", "the metrics token is wrong");
  }
  const text = await registry.metrics();
  return c.body(text, 200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
}
